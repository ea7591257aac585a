/** Where to go after signing in: the page that asked (`?next=`), if it is one of ours. */
import { appUrl, BASE } from "../config";

export function nextPage(query: Record<string, string>, fallback: string = appUrl("/trackers")): string {
  const next = query.next ?? "";
  // Only a path on this origin under the app's root: never "//elsewhere" or "https://…".
  if (next.startsWith(`${BASE}/`) && !next.startsWith("//") && !next.includes("\\")) return next;
  return fallback;
}

/** "?next=…" of a URL, to hand on between the sign-in and sign-up pages. */
export function queryPart(url: string): string {
  const start = url.indexOf("?");
  return start === -1 ? "" : url.slice(start);
}
