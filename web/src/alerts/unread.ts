/** How many alerts are unread, for the navigation's "Alerts (2)": read again after every change. */
import { useEffect, useState } from "preact/hooks";
import type { Alert } from "../api";
import { session, useSession } from "../session";

const CHANGED = "farewatch:alerts-changed";

export function alertsChanged(): void {
  window.dispatchEvent(new Event(CHANGED));
}

export function useUnreadCount(url: string): number | null {
  const { signedIn } = useSession();
  const [count, setCount] = useState<number | null>(null);
  const [changes, setChanges] = useState(0);
  useEffect(() => {
    const listener = () => setChanges((n) => n + 1);
    window.addEventListener(CHANGED, listener);
    return () => window.removeEventListener(CHANGED, listener);
  }, []);
  useEffect(() => {
    if (!signedIn) {
      setCount(null);
      return;
    }
    let current = true;
    session
      .call<Alert[]>("GET", "/alerts", { query: { unacked_only: "true", limit: 100 } })
      .then(({ data }) => current && setCount(data.length))
      .catch(() => current && setCount(null)); // the count is a courtesy: the inbox itself shows errors
    return () => {
      current = false;
    };
  }, [signedIn, url, changes]);
  return count;
}
