/**
 * Origin or destination: a text field with airport and city suggestions from /airports, as an ARIA 1.2
 * combobox (Downshift's useCombobox: the input owns a listbox of options, the highlighted option is
 * its aria-activedescendant) plus a polite status line that says how many suggestions there are.
 */
import { useCombobox } from "downshift";
import type { RefObject } from "preact";
import { useEffect, useState } from "preact/hooks";
import { call, type Location } from "../api";
import { describedBy, FieldError } from "../components";

export interface AirportValue {
  text: string;
  location: Location | null;
}

export const EMPTY_AIRPORT: AirportValue = { text: "", location: null };

const SUGGESTIONS = 8;
const TYPING_PAUSE_MS = 150;

export function locationLabel(location: Location | null): string {
  if (!location) return "";
  // The code first: a narrow field cuts the end of the text, never the code.
  return location.kind === "city" ? `${location.code} · ${location.city}, all airports` : `${location.code} · ${location.name}`;
}

/** The code a field stands for: the chosen suggestion, or three letters typed as they are. */
export function airportCode(value: AirportValue): string | null {
  if (value.location) return value.location.code;
  const typed = value.text.trim();
  return /^[A-Za-z]{3}$/.test(typed) ? typed.toUpperCase() : null;
}

/** The suggestion for an exact code (a search link names codes only). */
export async function lookUpCode(code: string): Promise<Location | null> {
  try {
    const { data } = await call<Location[]>("GET", "/airports", { query: { q: code, limit: 5 } });
    return data.find((location) => location.code === code.toUpperCase()) ?? null;
  } catch {
    return null;
  }
}

/** A value set from outside (a search link): applied whenever `revision` changes. */
export interface AirportPreset {
  value: AirportValue;
  revision: number;
}

/**
 * Downshift owns what the field shows. Its change callbacks run in an effect, a frame after the key
 * that caused them: a value held by the parent and fed back would overwrite keys typed in between
 * (Preact does not flush effects before the next key, as React does). So the parent reads the field's
 * current value from `current`, written at every render, and sets it only through `preset`.
 */
export function AirportField({
  id,
  label,
  preset,
  current,
  onEdit,
  error,
}: {
  id: string;
  label: string;
  preset: AirportPreset;
  current: RefObject<AirportValue>;
  onEdit?: () => void;
  error: string | undefined;
}) {
  const [items, setItems] = useState<Location[]>([]);
  const [unavailable, setUnavailable] = useState(false);
  const [searched, setSearched] = useState("");
  const [query, setQuery] = useState(preset.value.location ? "" : preset.value.text.trim());

  useEffect(() => {
    if (query.length < 2) {
      setItems([]);
      setSearched("");
      return;
    }
    const controller = new AbortController();
    const timer = window.setTimeout(async () => {
      try {
        const { data } = await call<Location[]>("GET", "/airports", {
          query: { q: query, limit: SUGGESTIONS },
          signal: controller.signal,
        });
        setItems(data);
        setUnavailable(false);
        setSearched(query);
      } catch (problem) {
        if (problem instanceof DOMException && problem.name === "AbortError") return;
        setItems([]);
        setUnavailable(true);
        setSearched(query);
      }
    }, TYPING_PAUSE_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [query]);

  // Suggestions for what was typed before are never offered: Enter must not pick one of them.
  const shown = searched === query ? items : [];
  const {
    isOpen,
    highlightedIndex,
    inputValue,
    selectedItem,
    selectItem,
    setInputValue,
    getLabelProps,
    getInputProps,
    getMenuProps,
    getItemProps,
  } = useCombobox<Location>({
    id: `${id}-combobox`,
    inputId: id,
    labelId: `${id}-label`,
    menuId: `${id}-listbox`,
    items: shown,
    itemToString: locationLabel,
    itemToKey: (item) => item?.code ?? null,
    initialInputValue: preset.value.text,
    initialSelectedItem: preset.value.location,
    onInputValueChange: () => onEdit?.(),
  });

  // A chosen place counts while the field still shows it; typing over it makes the text count.
  const location = selectedItem && locationLabel(selectedItem) === inputValue ? selectedItem : null;
  current.current = { text: inputValue, location };
  const typed = location ? "" : inputValue.trim();
  if (typed !== query) setQuery(typed);

  useEffect(() => {
    if (preset.revision === 0) return;
    if (preset.value.location) selectItem(preset.value.location);
    else setInputValue(preset.value.text);
  }, [preset.revision]);

  const showStatus = !location && searched !== "" && searched === query;
  let status = "";
  if (showStatus && unavailable) status = "Suggestions are unavailable right now; you can still type a 3-letter airport code.";
  else if (showStatus && shown.length === 0) status = `No airport or city matches “${searched}”.`;
  else if (showStatus && isOpen) {
    status = `${shown.length} ${shown.length === 1 ? "suggestion" : "suggestions"}; use the up and down arrow keys to choose.`;
  }

  return (
    <div class="field airport-field">
      <label {...getLabelProps()}>{label}</label>
      <input
        {...getInputProps({ ...describedBy(id, error) })}
        type="text"
        autoComplete="off"
        spellcheck={false}
        placeholder="City, airport or code"
      />
      <p id={`${id}-status`} class="hint" aria-live="polite">
        {status}
      </p>
      <ul {...getMenuProps()} class={isOpen && shown.length > 0 ? "suggestions open" : "suggestions"}>
        {isOpen &&
          shown.map((item, index) => (
            <li
              key={item.code}
              class={highlightedIndex === index ? "suggestion highlighted" : "suggestion"}
              {...getItemProps({ item, index })}
            >
              <span class="code">{item.code}</span>
              <span class="place">
                {item.kind === "city" ? `${item.city}, all airports (${item.airports.join(", ")})` : item.name}
                <span class="where">
                  {item.kind === "city" ? item.country : `${item.city}, ${item.country}`}
                </span>
              </span>
            </li>
          ))}
      </ul>
      <FieldError id={id} message={error} />
    </div>
  );
}
