/**
 * Validation rules for stack settings. Each rule takes the raw string from the stack config and
 * returns the parsed value, or the rule that was broken and, where one is obvious, a corrected
 * value to suggest in the fix command.
 */

export type RuleResult<T> =
  { ok: true; value: T } | { ok: false; rule: string; suggestion?: string };

export type Rule<T> = (raw: string) => RuleResult<T>;

/** Values accepted by OpenRouter's `limit_reset` field of a key. */
export const keyLimitResetValues = ["daily", "weekly", "monthly"] as const;
export type KeyLimitReset = (typeof keyLimitResetValues)[number];

const rfc1123LabelPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const rfc1123LabelMaxLength = 63;
const rfc1123SubdomainMaxLength = 253;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Infisical checks slugs with slugify(value) === value: lowercase letters and digits in groups
// joined by single hyphens.
const infisicalSlugPattern = /^[a-z0-9]+(-[a-z0-9]+)*$/;
// NOTE: Infisical's shared slug schema defaults to at most 32 characters, but generated project
// slugs carry a random suffix, so 64 is accepted here and the server has the last word.
const infisicalSlugMaxLength = 64;
const folderNamePattern = /^[A-Za-z0-9._-]+$/;
const durationPattern = /^(\d+)([smhdw])$/;
const durationUnitSeconds: Record<string, number> = {
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 604800,
};
/** The operator's shortest accepted resync interval. */
export const minResyncIntervalSeconds = 5;
const chartVersionPattern = /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const loopbackHosts = new Set(["127.0.0.1", "localhost", "[::1]"]);

function pass<T>(value: T): RuleResult<T> {
  return { ok: true, value };
}

function fail<T>(rule: string, suggestion?: string): RuleResult<T> {
  return { ok: false, rule, suggestion };
}

/** Lowercases a name and replaces what Kubernetes rejects, to suggest a valid name. */
function suggestKubernetesName(raw: string): string | undefined {
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return cleaned.length > 0 ? cleaned.slice(0, rfc1123LabelMaxLength) : undefined;
}

/** An RFC 1123 label, the rule for namespace names. */
export const rfc1123Label: Rule<string> = (raw) => {
  if (raw.length <= rfc1123LabelMaxLength && rfc1123LabelPattern.test(raw)) {
    return pass(raw);
  }
  return fail(
    `must be an RFC 1123 label: at most ${rfc1123LabelMaxLength} lowercase letters, digits and "-", starting and ending with a letter or digit`,
    suggestKubernetesName(raw),
  );
};

/** An RFC 1123 subdomain, the rule for Secret and Deployment names. */
export const rfc1123Subdomain: Rule<string> = (raw) => {
  const labels = raw.split(".");
  const valid =
    raw.length <= rfc1123SubdomainMaxLength &&
    labels.every((label) => rfc1123LabelPattern.test(label));
  if (valid) {
    return pass(raw);
  }
  return fail(
    `must be an RFC 1123 subdomain: at most ${rfc1123SubdomainMaxLength} characters, lowercase letters, digits, "-" and ".", each dot-separated part starting and ending with a letter or digit`,
    suggestKubernetesName(raw),
  );
};

/** An Infisical project or environment slug. */
export const infisicalSlug: Rule<string> = (raw) => {
  if (raw.length <= infisicalSlugMaxLength && infisicalSlugPattern.test(raw)) {
    return pass(raw);
  }
  const suggestion = raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return fail(
    `must be an Infisical slug: at most ${infisicalSlugMaxLength} lowercase letters and digits, in groups joined by single "-"`,
    suggestion.length > 0 ? suggestion : undefined,
  );
};

/** An Infisical folder path: "/" or "/a/b", without empty segments or a trailing "/". */
export const secretsPath: Rule<string> = (raw) => {
  if (!raw.startsWith("/")) {
    return fail('must start with "/" (the root folder is "/")', secretsPathSuggestion(`/${raw}`));
  }
  if (raw === "/") {
    return pass(raw);
  }
  const segments = raw.slice(1).split("/");
  if (segments.every((segment) => folderNamePattern.test(segment))) {
    return pass(raw);
  }
  return fail(
    'must be "/" or "/"-separated folder names of letters, digits, ".", "_" and "-", with no empty segment and no trailing "/"',
    secretsPathSuggestion(raw),
  );
};

function secretsPathSuggestion(raw: string): string | undefined {
  const segments = raw.split("/").filter((segment) => folderNamePattern.test(segment));
  return `/${segments.join("/")}`;
}

/** A duration in the operator's format: a whole number and one unit of s, m, h, d or w. */
export const resyncInterval: Rule<string> = (raw) => {
  const match = durationPattern.exec(raw);
  const rule = `must be a whole number followed by one unit of s, m, h, d or w (e.g. 60s, 5m), at least ${minResyncIntervalSeconds}s`;
  if (!match) {
    return fail(rule, "60s");
  }
  const seconds = Number(match[1]) * durationUnitSeconds[match[2]];
  if (seconds < minResyncIntervalSeconds) {
    return fail(rule, `${minResyncIntervalSeconds}s`);
  }
  return pass(raw);
};

/** A UUID such as an Infisical identity id or universal-auth client id. */
export const uuid: Rule<string> = (raw) => {
  if (uuidPattern.test(raw)) {
    return pass(raw.toLowerCase());
  }
  return fail("must be a UUID (8-4-4-4-12 hexadecimal digits)");
};

/** A Helm chart version of the secrets-operator chart, whose versions start with "v". */
export const chartVersion: Rule<string> = (raw) => {
  if (chartVersionPattern.test(raw)) {
    return pass(raw);
  }
  const suggestion = /^\d+\.\d+\.\d+/.test(raw) ? `v${raw}` : undefined;
  return fail('must be a chart version with a leading "v", e.g. v0.11.5', suggestion);
};

/** "true" or "false". */
export const boolean: Rule<boolean> = (raw) => {
  if (raw === "true" || raw === "false") {
    return pass(raw === "true");
  }
  return fail('must be "true" or "false"');
};

/** A whole number between min and max, both included. */
export function integerBetween(min: number, max: number, unit: string): Rule<number> {
  return (raw) => {
    const value = /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    if (Number.isSafeInteger(value) && value >= min && value <= max) {
      return pass(value);
    }
    return fail(`must be a whole number of ${unit} from ${min} to ${max}`);
  };
}

// Plain decimal notation: digits with an optional fraction, or a fraction alone (".5").
const decimalPattern = /^(\d+(\.\d+)?|\.\d+)$/;

/** A number greater than 0 in plain decimal notation, such as a USD amount. */
export const positiveDecimal: Rule<number> = (raw) => {
  const trimmed = raw.trim();
  const value = decimalPattern.test(trimmed) ? Number(trimmed) : NaN;
  if (Number.isFinite(value) && value > 0) {
    return pass(value);
  }
  return fail(
    "must be a number greater than 0 in plain decimal notation, e.g. 25, 12.5, 0.5 or .5, without a sign, exponent or thousands separator",
  );
};

/** One of OpenRouter's limit reset periods. */
export const keyLimitReset: Rule<KeyLimitReset> = (raw) => {
  const value = keyLimitResetValues.find((candidate) => candidate === raw);
  if (value !== undefined) {
    return pass(value);
  }
  const lowered = keyLimitResetValues.find((candidate) => candidate === raw.toLowerCase());
  return fail(`must be one of ${keyLimitResetValues.join(", ")}`, lowered);
};

function parseUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

function isLoopback(url: URL): boolean {
  return loopbackHosts.has(url.hostname);
}

/** A parsed URL setting, or the rule it breaks and, where one is clear, a corrected URL. */
type UrlCheck = { ok: true; url: URL } | { ok: false; rule: string; corrected?: URL };

function withoutUserInfo(url: URL): URL {
  const copy = new URL(url.href);
  copy.username = "";
  copy.password = "";
  return copy;
}

/**
 * Puts https on a URL given without a scheme. A URL with another scheme gets https in its place
 * only when https is required, because a health check may need plain http.
 */
function withHttpsScheme(
  raw: string,
  url: URL | undefined,
  requireHttps: boolean,
): URL | undefined {
  if (!raw.includes("://")) {
    const withScheme = parseUrl(`https://${raw}`);
    return withScheme && withoutUserInfo(withScheme);
  }
  if (url === undefined || url.host === "" || !requireHttps) {
    return undefined;
  }
  return parseUrl(`https://${url.host}${url.pathname}${url.search}${url.hash}`);
}

/**
 * Parses an http or https URL and rejects user info. Plain http passes only on the loopback host
 * unless `requireHttps` is false.
 */
function checkWebUrl(raw: string, requireHttps: boolean): UrlCheck {
  const url = parseUrl(raw);
  const schemeRule = requireHttps
    ? "must be an https URL (http only for 127.0.0.1 or localhost)"
    : "must be an http or https URL";
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    return { ok: false, rule: schemeRule, corrected: withHttpsScheme(raw, url, requireHttps) };
  }
  if (requireHttps && url.protocol === "http:" && !isLoopback(url)) {
    const corrected = withoutUserInfo(url);
    corrected.protocol = "https:";
    return { ok: false, rule: schemeRule, corrected };
  }
  if (url.username !== "" || url.password !== "") {
    return {
      ok: false,
      rule: "must not contain a user name or password",
      corrected: withoutUserInfo(url),
    };
  }
  return { ok: true, url };
}

/**
 * The Infisical host. The site origin and its `/api` URL, each with or without a trailing "/",
 * all normalise to `<origin>/api`, the base every API path is appended to.
 */
export const infisicalHost: Rule<string> = (raw) => {
  const checked = checkWebUrl(raw.trim(), true);
  if (!checked.ok) {
    return fail(checked.rule, checked.corrected?.origin);
  }
  const url = checked.url;
  const path = url.pathname.replace(/\/+$/, "");
  if ((path !== "" && path !== "/api") || url.search !== "" || url.hash !== "") {
    return fail(
      "must be the Infisical site origin or its /api URL, e.g. https://app.infisical.com, without any other path, query or fragment",
      url.origin,
    );
  }
  return pass(`${url.origin}/api`);
};

/** The path that every OpenRouter API base ends in. */
export const openrouterApiPath = "/api/v1";

function openrouterApiSuggestion(url: URL): string {
  const path = url.pathname.replace(/\/+$/, "");
  return path.endsWith(openrouterApiPath)
    ? `${url.origin}${path}`
    : `${url.origin}${openrouterApiPath}`;
}

/**
 * The OpenRouter API base: https unless on the loopback host, a path ending in `/api/v1` (a proxy
 * may put a prefix before it), and no query or fragment. A trailing "/" is removed.
 */
export const openrouterApiUrl: Rule<string> = (raw) => {
  const checked = checkWebUrl(raw.trim(), true);
  if (!checked.ok) {
    return fail(checked.rule, checked.corrected && openrouterApiSuggestion(checked.corrected));
  }
  const url = checked.url;
  if (url.search !== "" || url.hash !== "") {
    return fail(
      "must not contain a query or fragment, because every API path is appended to it",
      openrouterApiSuggestion(url),
    );
  }
  const path = url.pathname.replace(/\/+$/, "");
  if (!path.endsWith(openrouterApiPath)) {
    return fail(
      `must be the API base, whose path ends in ${openrouterApiPath}, e.g. https://openrouter.ai${openrouterApiPath}`,
      openrouterApiSuggestion(url),
    );
  }
  return pass(`${url.origin}${path}`);
};

/** A URL to check with an HTTP GET, http or https. It may have a query. */
export const healthCheckUrl: Rule<string> = (raw) => {
  const checked = checkWebUrl(raw.trim(), false);
  return checked.ok ? pass(checked.url.href) : fail(checked.rule, checked.corrected?.href);
};

/** Any non-empty stamp of at most 256 characters; a new value rotates a credential. */
export const rotateNowStamp: Rule<string> = (raw) => {
  if (raw.length <= 256) {
    return pass(raw);
  }
  return fail("must be at most 256 characters, e.g. an ISO timestamp", new Date().toISOString());
};
