/**
 * Where the app lives on its origin. The page's <meta name="farewatch-base"> says where the origin's
 * root is: "" locally and on a custom domain, "/<stage>" on API Gateway's own domain. Asset URLs, API
 * calls and page links all start there.
 */

function readBase(): string {
  if (typeof document === "undefined") return "";
  const content = document.querySelector<HTMLMetaElement>('meta[name="farewatch-base"]')?.content ?? "";
  return /^(\/[A-Za-z0-9_-]+)?$/.test(content) ? content : "";
}

export const BASE = readBase();

/** The URL of an app path ("/trackers") or API path ("/flights/price") on this origin. */
export function appUrl(path: string, base: string = BASE): string {
  if (path === "/") return base ? `${base}/` : "/";
  return `${base}${path}`;
}

/** The pattern the router matches a page path with (it drops trailing slashes). */
export function routePattern(path: string, base: string = BASE): string {
  return path === "/" ? base || "/" : `${base}${path}`;
}

/** Page paths the router handles itself (template.yaml's WebFunction routes the same); any other
 *  link (the API's /docs, say) is a page load. */
export const PAGE_PATHS = [
  "/",
  "/sign-in",
  "/sign-up",
  "/trackers",
  "/trackers/:id",
  "/inbox",
  "/verify-email",
  "/reset-password",
  "/settings",
] as const;

export function pageScope(base: string = BASE): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const sections = [...new Set(PAGE_PATHS.filter((path) => path !== "/").map((path) => path.split("/")[1]!))];
  return new RegExp(`^${escape(base)}/(?:$|[?#]|(?:${sections.map(escape).join("|")})(?:$|[/?#]))`);
}
