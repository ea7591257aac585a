/**
 * Notification settings: price emails on or off (PATCH /users/me), whether the address is confirmed,
 * and webhooks (issue 14's routes): add one (its signing secret is shown this once), send a test,
 * read its delivery log, remove it.
 */
import { useEffect, useState } from "preact/hooks";
import type { User } from "../api";
import { Loading, PageHeading, ProblemBanner } from "../components";
import { formatAge, formatMoment } from "../format";
import { CheckboxField, TextField, useSubmit } from "../forms";
import { problemsOf, type ProblemMap } from "../problems";
import { session } from "../session";

interface Webhook {
  id: string;
  url: string;
  description: string | null;
  enabled: boolean;
  created_at: string;
  disabled_at: string | null;
}

interface NewWebhook extends Webhook {
  secret: string;
}

interface Delivery {
  at: string;
  alert_id: string | null;
  status: number | null;
  duration_ms: number;
  attempt: number;
  error: string | null;
}

const WEBHOOK_PROBLEMS: ProblemMap = {
  fields: { url: ["url", "Receiver URL"], description: ["description", "Description"] },
  codes: { webhook_url_refused: "url", webhook_limit_reached: "url" },
};

export function SettingsPage() {
  return (
    <>
      <PageHeading title="Notification settings">Notification settings</PageHeading>
      <EmailSettings />
      <Webhooks />
    </>
  );
}

function EmailSettings() {
  const [me, setMe] = useState<User | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [resent, setResent] = useState(false);

  useEffect(() => {
    session
      .call<User>("GET", "/users/me")
      .then(({ data }) => setMe(data))
      .catch((error) => setProblem(problemsOf(error, { fields: {} }).general));
  }, []);

  async function change(wanted: boolean) {
    if (!me) return;
    const before = me;
    setMe({ ...me, email_alerts: wanted }); // the box shows the choice at once; undone if refused
    setBusy(true);
    setProblem(null);
    setSaved(null);
    try {
      const { data } = await session.call<User>("PATCH", "/users/me", { body: { email_alerts: wanted } });
      setMe(data);
      setSaved(wanted ? "Price emails are on." : "Price emails are off. Alerts still appear in your inbox here.");
    } catch (error) {
      setMe(before);
      setProblem(problemsOf(error, { fields: {} }).general);
    } finally {
      setBusy(false);
    }
  }

  async function resend() {
    setProblem(null);
    try {
      await session.call("POST", "/auth/verify-email/resend", { body: {} });
      setResent(true);
    } catch (error) {
      setProblem(problemsOf(error, { fields: {} }).general);
    }
  }

  return (
    <section class="card" aria-labelledby="email-heading">
      <h2 id="email-heading">Email</h2>
      {!me && !problem && <Loading label="Loading your settings…" />}
      {me && (
        <>
          <p>
            Alerts go to <strong>{me.email}</strong>.{" "}
            {me.email_verified
              ? "The address is confirmed."
              : "The address is not confirmed yet: Farewatch sends no price emails until it is (alerts still appear under Alerts and go to your webhooks)."}
          </p>
          {me.email_suppressed && (
            <p class="notice">
              Mail to this address {me.email_suppressed === "complaint" ? "was marked as spam" : "bounced"}, so Farewatch sends none.
            </p>
          )}
          {!me.email_verified &&
            (resent ? (
              <p role="status">A new confirmation link is on its way.</p>
            ) : (
              <p>
                <button type="button" class="button secondary" onClick={() => void resend()}>
                  Send the confirmation link again
                </button>
              </p>
            ))}
          <CheckboxField id="email-alerts" label="Email me when a price I track drops" checked={me.email_alerts ?? true} onChecked={(checked) => void change(checked)} disabled={busy} />
          {saved && <p role="status">{saved}</p>}
        </>
      )}
      <ProblemBanner message={problem} />
    </section>
  );
}

function Webhooks() {
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [created, setCreated] = useState<NewWebhook | null>(null);

  async function load() {
    try {
      setHooks((await session.call<Webhook[]>("GET", "/webhooks")).data);
    } catch (error) {
      setProblem(problemsOf(error, { fields: {} }).general);
    }
  }
  useEffect(() => void load(), []);

  return (
    <section class="card" aria-labelledby="webhooks-heading">
      <h2 id="webhooks-heading">Webhooks</h2>
      <p>
        Farewatch can also POST each alert to a URL of yours, signed the Standard Webhooks way, so a script or chat bot can act on it.
      </p>
      <ProblemBanner message={problem} />
      {created && (
        <div class="notice" role="status">
          <p>
            Webhook added. Its signing secret is shown this once: keep it with your receiver.
          </p>
          <p>
            <code class="secret">{created.secret}</code>
          </p>
        </div>
      )}
      {hooks === null && !problem && <Loading label="Loading your webhooks…" />}
      {hooks && hooks.length === 0 && <p>No webhooks yet.</p>}
      {hooks && hooks.length > 0 && (
        <ul class="webhooks" aria-label="Your webhooks">
          {hooks.map((hook) => (
            <WebhookItem key={hook.id} hook={hook} onRemoved={() => setHooks((now) => now && now.filter((one) => one.id !== hook.id))} />
          ))}
        </ul>
      )}
      <AddWebhook
        onAdded={(hook) => {
          setCreated(hook);
          setHooks((now) => [...(now ?? []), hook]);
        }}
      />
    </section>
  );
}

function AddWebhook({ onAdded }: { onAdded: (hook: NewWebhook) => void }) {
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const { problems, busy, submit } = useSubmit(WEBHOOK_PROBLEMS, { url: "webhook-url", description: "webhook-description" });

  function add(event: Event) {
    event.preventDefault();
    const checks: Record<string, string> = {};
    if (!url.trim()) checks.url = "Enter the URL of your receiver, like https://example.com/farewatch.";
    void submit(checks, async () => {
      const { data } = await session.call<NewWebhook>("POST", "/webhooks", {
        body: { url: url.trim(), description: description.trim() || undefined },
      });
      setUrl("");
      setDescription("");
      onAdded(data);
    });
  }

  return (
    <form class="webhook-form" onSubmit={add} noValidate aria-label="Add a webhook">
      <h3>Add a webhook</h3>
      <TextField id="webhook-url" label="Receiver URL" value={url} onValue={setUrl} error={problems.fields.url} autoComplete="url" hint="https:// and a public address." />
      <TextField id="webhook-description" label="Description (optional)" value={description} onValue={setDescription} error={problems.fields.description} autoComplete="off" />
      <ProblemBanner message={problems.general} />
      <div class="actions">
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? "Adding…" : "Add webhook"}
        </button>
      </div>
    </form>
  );
}

function WebhookItem({ hook, onRemoved }: { hook: Webhook; onRemoved: () => void }) {
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const [open, setOpen] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const name = hook.description || hook.url;

  async function loadDeliveries() {
    setDeliveries((await session.call<Delivery[]>("GET", `/webhooks/${hook.id}/deliveries`)).data);
  }

  async function act(what: () => Promise<void>) {
    setBusy(true);
    setProblem(null);
    setStatus(null);
    try {
      await what();
    } catch (error) {
      setProblem(problemsOf(error, { fields: {} }).general);
    } finally {
      setBusy(false);
    }
  }

  const test = () =>
    act(async () => {
      const { data } = await session.call<Delivery>("POST", `/webhooks/${hook.id}/test`, { body: {} });
      setStatus(data.status && data.status < 300 ? `Test delivered: your receiver answered ${data.status}.` : `Test failed: ${deliveryOutcome(data)}.`);
      setOpen(true);
      await loadDeliveries();
    });
  const toggle = () =>
    act(async () => {
      if (!open) await loadDeliveries();
      setOpen(!open);
    });
  const remove = () =>
    act(async () => {
      await session.call("DELETE", `/webhooks/${hook.id}`);
      onRemoved();
    });

  return (
    <li>
      <h3 class="webhook-url">{hook.url}</h3>
      {hook.description && <p>{hook.description}</p>}
      <p>
        {hook.enabled ? "Active" : `Disabled ${hook.disabled_at ? formatAge(hook.disabled_at) : ""} after a day of failed deliveries: add it again once it is fixed.`}
      </p>
      <div class="actions">
        <button type="button" class="button secondary small" disabled={busy || !hook.enabled} onClick={() => void test()} aria-label={`Send a test to ${name}`}>
          Send a test
        </button>
        <button type="button" class="button secondary small" disabled={busy} aria-expanded={open} onClick={() => void toggle()} aria-label={`${open ? "Hide" : "Show"} deliveries to ${name}`}>
          {open ? "Hide deliveries" : "Show deliveries"}
        </button>
        <button type="button" class="button secondary small" disabled={busy} onClick={() => void remove()} aria-label={`Remove ${name}`}>
          Remove
        </button>
      </div>
      {status && <p role="status">{status}</p>}
      <ProblemBanner message={problem} />
      {open && deliveries && (
        deliveries.length === 0 ? (
          <p>No deliveries yet.</p>
        ) : (
          <div class="table-scroll">
            <table>
              <caption>Deliveries to {name}, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Attempt</th>
                  <th scope="col">Took</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.map((delivery) => (
                  <tr key={`${delivery.at}-${delivery.attempt}`}>
                    <td>{formatMoment(delivery.at, { seconds: true })}</td>
                    <td>{deliveryOutcome(delivery)}</td>
                    <td>{delivery.attempt}</td>
                    <td>{delivery.duration_ms} ms</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      )}
    </li>
  );
}

function deliveryOutcome(delivery: Delivery): string {
  if (delivery.status !== null && delivery.status < 300) return `delivered (${delivery.status})`;
  if (delivery.status !== null) return `answered ${delivery.status}`;
  return delivery.error ? `no answer: ${delivery.error}` : "no answer";
}
