// Infisical universal-auth login and authenticated requests. Access tokens are cached per process
// on globalThis, never in a closure, so no token reaches the serialized provider.
import { infisicalCredentials, InfisicalCredentials, projectName } from "./credentials";
import type * as pulumi from "@pulumi/pulumi";

import { ApiResponse, HttpMethod, isApiError, sendApiRequest, withHint } from "./http";
import { changedProperties, unknownInputValue } from "./inputs";

/** Stack setting of the Infisical host, named in error hints. */
export const infisicalHostSetting = "infisicalHost";

/**
 * Normalises an Infisical host to its API base, `<host>/api`. The spellings `h`, `h/`, `h/api`
 * and `h/api/` all give `h/api`, so no request goes to `/api/api/...` or to a path with `//`.
 */
export function normalizeInfisicalApiUrl(host: string): string {
  const trimmed = host.trim().replace(/\/+$/, "");
  return trimmed.endsWith("/api") ? trimmed : `${trimmed}/api`;
}

/** One Infisical API request made with the program's own identity. */
export interface InfisicalRequest {
  /** Host or API base; normalised with `normalizeInfisicalApiUrl`. */
  apiUrl: string;
  method: HttpMethod;
  /** Path below the API base, starting with `/`, e.g. `/v3/secrets/raw/NAME`. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Whether sending the request twice is harmless; see `ApiRequest.idempotent`. */
  idempotent: boolean;
  /** Values that must never appear in an error message. */
  redact?: string[];
}

interface CachedToken {
  accessToken: string;
  /** Time after which the token is replaced by a fresh login. */
  renewAtMs: number;
}

function tokenCache(): Map<string, CachedToken> {
  const key = Symbol.for("anythingllm-secrets.infisicalAccessTokens");
  const holder = globalThis as unknown as Record<symbol, Map<string, CachedToken>>;
  holder[key] ??= new Map();
  return holder[key];
}

/** Empties the access-token cache of this process. */
export function clearInfisicalTokenCache(): void {
  tokenCache().clear();
}

/**
 * Logs in with universal auth and returns the response. The request carries no Authorization
 * header, because Infisical checks any token it finds, even on the login route, and rejects a
 * stale one with 403.
 */
async function loginUniversalAuth(
  apiUrl: string,
  credentials: InfisicalCredentials,
  idempotent = true,
): Promise<{ accessToken: string; expiresIn: number }> {
  const response = await sendApiRequest<{ accessToken?: unknown; expiresIn?: unknown }>({
    service: "Infisical",
    urlSetting: infisicalHostSetting,
    method: "POST",
    url: `${apiUrl}/v1/auth/universal-auth/login`,
    body: { clientId: credentials.clientId, clientSecret: credentials.clientSecret },
    // A repeated login only issues another token, unless the caller counts the logins.
    idempotent,
    redact: [credentials.clientSecret],
  });

  const accessToken = response.data?.accessToken;
  if (typeof accessToken !== "string" || accessToken === "") {
    throw new Error(`Infisical login at ${apiUrl} returned no access token`);
  }
  const expiresIn = typeof response.data.expiresIn === "number" ? response.data.expiresIn : 0;
  return { accessToken, expiresIn };
}

/**
 * Checks that a client secret can log in, as the operator will. Throws the login's `ApiError`
 * when it cannot. The token it gets is not kept. The login is sent at most once, apart from 429
 * retries, which the server rejects before it counts a use. The sync gate takes a use count above
 * one as proof that the operator logged in, so a retry after a lost response would fake it.
 */
export async function verifyClientSecretLogin(
  apiUrl: string,
  clientId: string,
  clientSecret: string,
): Promise<void> {
  await loginUniversalAuth(normalizeInfisicalApiUrl(apiUrl), { clientId, clientSecret }, false);
}

/**
 * Returns an access token of the program's identity, from the cache unless `fresh` is set or the
 * cached one is near its expiry. A token is renewed after 80% of its lifetime; `expiresIn` 0 means
 * it never expires.
 */
async function programAccessToken(
  apiUrl: string,
  credentials: InfisicalCredentials,
  fresh: boolean,
): Promise<string> {
  const cache = tokenCache();
  const cacheKey = `${apiUrl}\n${credentials.clientId}`;
  const cached = cache.get(cacheKey);
  if (!fresh && cached !== undefined && Date.now() < cached.renewAtMs) {
    return cached.accessToken;
  }

  cache.delete(cacheKey);
  let login;
  try {
    login = await loginUniversalAuth(apiUrl, credentials);
  } catch (error) {
    if (isApiError(error) && error.status === 401) {
      throw withHint(
        error,
        `Check the Infisical credentials of the program: \`${projectName}:infisicalClientId\` ` +
          `and \`${projectName}:infisicalClientSecret\`, or the environment variables ` +
          "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID and INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
      );
    }
    throw error;
  }

  const renewAtMs =
    login.expiresIn > 0 ? Date.now() + login.expiresIn * 1000 * 0.8 : Number.POSITIVE_INFINITY;
  cache.set(cacheKey, { accessToken: login.accessToken, renewAtMs });
  return login.accessToken;
}

// A 401, or a 403 TokenError (an expired or malformed JWT), means the token itself was rejected,
// so one fresh login can fix it. Other 403s are missing permissions.
function isRejectedToken(error: unknown): boolean {
  if (!isApiError(error)) {
    return false;
  }
  return error.status === 401 || (error.status === 403 && error.apiCode === "TokenError");
}

/**
 * Sends a request with the program's identity: logs in when needed, retries through
 * `sendApiRequest`, and logs in once more when the token is rejected.
 */
export async function infisicalRequest<T = unknown>(
  request: InfisicalRequest,
): Promise<ApiResponse<T>> {
  const credentials = infisicalCredentials();
  const apiUrl = normalizeInfisicalApiUrl(request.apiUrl);
  const send = (token: string) =>
    sendApiRequest<T>({
      service: "Infisical",
      urlSetting: infisicalHostSetting,
      method: request.method,
      url: `${apiUrl}${request.path}`,
      query: request.query,
      body: request.body,
      bearerToken: token,
      idempotent: request.idempotent,
      redact: [credentials.clientSecret, ...(request.redact ?? [])],
    });

  const token = await programAccessToken(apiUrl, credentials, false);
  try {
    return await send(token);
  } catch (error) {
    if (!isRejectedToken(error)) {
      throw error;
    }
  }
  return send(await programAccessToken(apiUrl, credentials, true));
}

/** Normalises an Infisical API URL input; a preview's unknown value and non-strings stay as they are. */
function normalizedApiUrlInput(value: unknown): unknown {
  return typeof value === "string" && value !== unknownInputValue
    ? normalizeInfisicalApiUrl(value)
    : value;
}

/** Returns a copy of provider inputs whose `apiUrl` is normalised. */
export function withNormalizedApiUrl<T extends Record<string, unknown>>(inputs: T): T {
  return { ...inputs, apiUrl: normalizedApiUrlInput(inputs.apiUrl) };
}

/**
 * Compares old outputs with new inputs of an Infisical resource, API URLs after normalisation. A
 * change of one of `replaceProperties` replaces the resource, one of `updateProperties` updates it
 * in place. `__provider` is not compared.
 */
export function diffInfisicalResource(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  replaceProperties: readonly string[],
  updateProperties: readonly string[],
): pulumi.dynamic.DiffResult {
  const changed = changedProperties(withNormalizedApiUrl(olds), withNormalizedApiUrl(news), [
    ...replaceProperties,
    ...updateProperties,
  ]);
  return {
    changes: changed.length > 0,
    replaces: changed.filter((property) => replaceProperties.includes(property)),
    deleteBeforeReplace: false,
  };
}
