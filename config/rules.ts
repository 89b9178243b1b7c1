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

/** A positive decimal number, such as a USD amount. */
export const positiveDecimal: Rule<number> = (raw) => {
  const value = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (Number.isFinite(value) && value > 0) {
    return pass(value);
  }
  return fail("must be a positive decimal number, e.g. 25 or 12.5");
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

/** An http or https URL without user info; http only when `requireHttps` is false. */
function webUrl(raw: string, requireHttps: boolean): RuleResult<URL> {
  const url = parseUrl(raw);
  const schemeRule = requireHttps
    ? "must be an https URL (http only for 127.0.0.1 or localhost)"
    : "must be an http or https URL";
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    const withScheme = raw.includes("://") ? undefined : parseUrl(`https://${raw}`);
    return fail(schemeRule, withScheme?.toString());
  }
  if (requireHttps && url.protocol === "http:" && !isLoopback(url)) {
    return fail(schemeRule, `https://${url.host}${url.pathname}`);
  }
  if (url.username !== "" || url.password !== "") {
    return fail("must not contain a user name or password");
  }
  return pass(url);
}

/**
 * The Infisical host. The site origin and its `/api` URL, each with or without a trailing "/",
 * all normalise to `<origin>/api`, the base every API path is appended to.
 */
export const infisicalHost: Rule<string> = (raw) => {
  const parsed = webUrl(raw.trim(), true);
  if (!parsed.ok) {
    const url = parseUrl(parsed.suggestion ?? "");
    return fail(parsed.rule, url ? `https://${url.host}` : undefined);
  }
  const url = parsed.value;
  const path = url.pathname.replace(/\/+$/, "");
  if ((path !== "" && path !== "/api") || url.search !== "" || url.hash !== "") {
    return fail(
      "must be the Infisical site origin or its /api URL, e.g. https://app.infisical.com, without any other path, query or fragment",
      `${url.origin}`,
    );
  }
  return pass(`${url.origin}/api`);
};

/** An API base URL such as OpenRouter's; https unless on the loopback host, no trailing "/". */
export const apiBaseUrl: Rule<string> = (raw) => {
  const parsed = webUrl(raw.trim(), true);
  if (!parsed.ok) {
    return parsed;
  }
  const url = parsed.value;
  if (url.search !== "" || url.hash !== "") {
    return fail("must not contain a query or fragment", `${url.origin}${url.pathname}`);
  }
  return pass(`${url.origin}${url.pathname.replace(/\/+$/, "")}`);
};

/** A URL to check with an HTTP GET, http or https. */
export const healthCheckUrl: Rule<string> = (raw) => {
  const parsed = webUrl(raw.trim(), false);
  return parsed.ok ? pass(parsed.value.toString()) : parsed;
};

/** Any non-empty stamp of at most 256 characters; a new value rotates a credential. */
export const rotateNowStamp: Rule<string> = (raw) => {
  if (raw.length <= 256) {
    return pass(raw);
  }
  return fail("must be at most 256 characters, e.g. an ISO timestamp", new Date().toISOString());
};
