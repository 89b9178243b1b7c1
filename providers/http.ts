// HTTP code shared by the dynamic providers. Everything here runs from the provider's serialized
// text, so axios is required inside the functions and a client is built for each call: a client or
// a credential captured at module level would be serialized into the stack state.
import type { AxiosResponse, AxiosStatic } from "axios";

/** Services whose HTTP errors this module translates. */
export type ServiceName = "OpenRouter" | "Infisical";

/** HTTP methods the providers send. */
export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

/** One request to a service API. */
export interface ApiRequest {
  service: ServiceName;
  /** Stack setting that contains the base URL, named in the hint when a response is not JSON. */
  urlSetting: string;
  method: HttpMethod;
  /** Absolute URL without a query string. */
  url: string;
  query?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`. Omit it for calls that must go unauthenticated. */
  bearerToken?: string;
  /** Sent as JSON. */
  body?: unknown;
  /**
   * Whether sending the request twice is harmless. Only idempotent requests are retried after a
   * 502, 503 or 504 or a connection failure, because the first attempt may have been processed.
   */
  idempotent: boolean;
  /** Values that must never appear in an error message, such as the token and secret values. */
  redact?: string[];
  /** Maximum retries; defaults to `defaultMaxRetries`. */
  maxRetries?: number;
}

/** A 2xx response whose body was parsed as JSON. */
export interface ApiResponse<T> {
  status: number;
  /** Parsed body; undefined when the response had no body. */
  data: T;
  /** Response headers, names in lower case. */
  headers: Record<string, string>;
}

/** Kind of API call failure. */
export type ApiFailure = "status" | "rate-limited" | "connection" | "timeout" | "non-json";

/** Fields of an `ApiError`. */
export interface ApiErrorDetails {
  service: ServiceName;
  method: HttpMethod;
  /** Origin and path of the URL, without query string or credentials. */
  endpoint: string;
  failure: ApiFailure;
  status?: number;
  /** The API's own error code or name, e.g. `NotFound` or `401`. */
  apiCode?: string;
  /** The API's own error message, with redacted values removed. */
  apiMessage?: string;
  /**
   * True when the error body has the API's own error shape, so the status comes from the API and
   * not from a proxy, a web front end or an unknown route.
   */
  fromApi?: boolean;
}

/**
 * Error of a failed API call. Its message carries the service, method, endpoint, status and the
 * API's error text, and never headers, bodies, query strings or credentials. It has no `cause`,
 * because an axios error contains the request configuration with the Authorization header.
 */
export interface ApiError extends Error, ApiErrorDetails {
  name: "ApiError";
}

// A factory instead of a subclass of Error: the SDK serializes a subclass constructor as
// `Error.call(this, message)`, which leaves the message empty.
/** Creates an `ApiError`. */
export function createApiError(message: string, details: ApiErrorDetails): ApiError {
  const error = new Error(message) as ApiError;
  error.name = "ApiError";
  error.service = details.service;
  error.method = details.method;
  error.endpoint = details.endpoint;
  error.failure = details.failure;
  error.status = details.status;
  error.apiCode = details.apiCode;
  error.apiMessage = details.apiMessage;
  error.fromApi = details.fromApi;
  return error;
}

/** Returns true when `error` is an `ApiError`. */
export function isApiError(error: unknown): error is ApiError {
  return error instanceof Error && error.name === "ApiError";
}

/** Returns a copy of `error` whose message ends with `hint`, a remedy added by the caller. */
export function withHint(error: ApiError, hint: string): ApiError {
  return createApiError(`${error.message}. ${hint}`, error);
}

/** Maximum response body read, in bytes. The responses of these APIs are a few kilobytes. */
export const maxResponseBytes = 10 * 1024 * 1024;

/** Retries after the first attempt unless the request sets `maxRetries`. */
export const defaultMaxRetries = 3;

/** Upper bound of a wait requested by a `Retry-After` header. */
export const maxRetryAfterMs = 60_000;

/** Returns true when `error` is an `ApiError` with the given status. */
export function isApiStatus(error: unknown, ...statuses: number[]): error is ApiError {
  return isApiError(error) && error.status !== undefined && statuses.includes(error.status);
}

/**
 * Returns true when the API itself responded 404 with its own error body. Only such a response
 * proves a resource is gone: a 404 page of a proxy or of an unknown route tells nothing about it,
 * and taking it for "gone" would forget or delete a credential that is still in use.
 */
export function isApiNotFound(error: unknown): error is ApiError {
  return isApiStatus(error, 404) && error.fromApi === true;
}

/** Returns the origin and path of `url`, dropping credentials, query string and fragment. */
export function endpointOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

/** Reads a non-negative number of milliseconds from the environment at call time. */
export function readEnvMs(name: string, defaultMs: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : defaultMs;
}

/** Request timeout, from `ANYTHINGLLM_HTTP_TIMEOUT_MS` (default 30000; 0 also gives the default). */
export function requestTimeoutMs(): number {
  const timeoutMs = readEnvMs("ANYTHINGLLM_HTTP_TIMEOUT_MS", 30_000);
  // axios reads a timeout of 0 as no timeout at all.
  return timeoutMs > 0 ? timeoutMs : 30_000;
}

/**
 * Computes the wait before retry number `retry` (0-based): the base from
 * `ANYTHINGLLM_HTTP_RETRY_BASE_MS` (default 1000) doubled per retry, with ±20% jitter.
 */
export function backoffMs(retry: number): number {
  const baseMs = readEnvMs("ANYTHINGLLM_HTTP_RETRY_BASE_MS", 1_000);
  const jitter = 0.8 + Math.random() * 0.4;
  return Math.round(baseMs * 2 ** retry * jitter);
}

/**
 * Parses a `Retry-After` header given in seconds or as an HTTP date into milliseconds, capped at
 * `maxRetryAfterMs`. Returns undefined when the header is missing or invalid.
 */
export function parseRetryAfterMs(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined || header.trim() === "") {
    return undefined;
  }
  const seconds = Number(header);
  let waitMs: number;
  if (Number.isFinite(seconds)) {
    waitMs = seconds * 1000;
  } else {
    const dateMs = Date.parse(header);
    if (Number.isNaN(dateMs)) {
      return undefined;
    }
    waitMs = dateMs - nowMs;
  }
  return Math.min(Math.max(waitMs, 0), maxRetryAfterMs);
}

/** Sleeps for `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Sends one API request with retries and returns its parsed 2xx response. Any other outcome
 * throws an `ApiError`.
 *
 * A 429 is retried for every method, because a rate limiter rejects a request before its handler
 * runs. A 502, 503 or 504 and a connection failure (reset, refused, timed out) are retried only
 * for idempotent requests. Waits grow exponentially, and a `Retry-After` header sets the wait
 * after a 429 or 503.
 */
export async function sendApiRequest<T = unknown>(request: ApiRequest): Promise<ApiResponse<T>> {
  const maxRetries = request.maxRetries ?? defaultMaxRetries;
  let rateLimitedCount = 0;

  for (let retry = 0; ; retry++) {
    const canRetry = retry < maxRetries;
    const outcome = await sendOnce(request);

    if (outcome.kind === "network") {
      if (request.idempotent && canRetry && isTransientNetworkCode(outcome.code)) {
        await waitBeforeRetry(request, retry, describeNetworkCode(outcome.code, 0));
        continue;
      }
      throw networkError(request, outcome.code);
    }

    const response = outcome.response;
    const status = response.status;
    if (status >= 200 && status < 300) {
      return parseSuccess<T>(request, response);
    }

    if (status === 429) {
      rateLimitedCount++;
      if (canRetry) {
        await waitBeforeRetry(request, retry, "status 429", retryAfterOf(response));
        continue;
      }
      throw rateLimitedError(request, response, rateLimitedCount);
    }

    if ((status === 502 || status === 503 || status === 504) && request.idempotent && canRetry) {
      const retryAfter = status === 503 ? retryAfterOf(response) : undefined;
      await waitBeforeRetry(request, retry, `status ${status}`, retryAfter);
      continue;
    }

    throw statusError(request, response);
  }
}

type SendOutcome =
  { kind: "response"; response: AxiosResponse<string> } | { kind: "network"; code: string };

async function sendOnce(request: ApiRequest): Promise<SendOutcome> {
  const axios: AxiosStatic = require("axios");
  const timeoutMs = requestTimeoutMs();
  const client = axios.create({
    // `timeout` ends a request whose socket stays idle; the abort signal also ends one whose
    // server trickles its body, because that socket never idles.
    timeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
    maxContentLength: maxResponseBytes,
    // Every status is handled here, so axios only throws for network failures.
    validateStatus: () => true,
    // The body is parsed here, after the content type was checked.
    responseType: "text",
    transformResponse: [(data: unknown) => data],
    // A redirect would resend the Authorization header to another URL, so it is reported instead.
    maxRedirects: 0,
  });

  const headers: Record<string, string> = {
    Accept: "application/json",
    "User-Agent": "anythingllm-secrets",
  };
  if (request.bearerToken !== undefined) {
    headers.Authorization = `Bearer ${request.bearerToken}`;
  }
  if (request.body !== undefined) {
    headers["Content-Type"] = "application/json";
  }

  try {
    const response = await client.request<string>({
      method: request.method,
      url: request.url,
      params: request.query,
      data: request.body === undefined ? undefined : JSON.stringify(request.body),
      headers,
    });
    return { kind: "response", response };
  } catch (error) {
    // Only the error code is kept, because the axios error contains the request headers.
    const code = (error as { code?: unknown }).code;
    // An abort comes only from the timeout signal above.
    const known = code === "ERR_CANCELED" ? "ECONNABORTED" : code;
    return { kind: "network", code: typeof known === "string" ? known : "UNKNOWN" };
  }
}

async function waitBeforeRetry(
  request: ApiRequest,
  retry: number,
  reason: string,
  retryAfterMs?: number,
): Promise<void> {
  const waitMs = retryAfterMs ?? backoffMs(retry);
  logRetry(
    `${request.service} ${request.method} ${endpointOf(request.url)}: ${reason}; ` +
      `retry ${retry + 1} in ${waitMs} ms`,
  );
  await sleep(waitMs);
}

// Logs through the Pulumi SDK of the process that runs the provider. The SDK is required only when
// a retry happens, because the provider must not capture it.
function logRetry(message: string): void {
  const pulumi = require("@pulumi/pulumi");
  void pulumi.log.info(message, undefined, undefined, true);
}

function retryAfterOf(response: AxiosResponse<string>): number | undefined {
  return parseRetryAfterMs(headerOf(response, "retry-after"), Date.now());
}

function headerOf(response: AxiosResponse<string>, name: string): string | undefined {
  const value = (response.headers as Record<string, unknown>)[name];
  if (Array.isArray(value)) {
    return value.join(", ");
  }
  return value === undefined || value === null ? undefined : String(value);
}

function plainHeaders(response: AxiosResponse<string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers as Record<string, unknown>)) {
    if (value !== undefined && value !== null) {
      result[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
    }
  }
  return result;
}

function mediaTypeOf(response: AxiosResponse<string>): string {
  const contentType = headerOf(response, "content-type") ?? "";
  return contentType.split(";")[0].trim().toLowerCase();
}

function isJsonMediaType(mediaType: string): boolean {
  return mediaType === "application/json" || mediaType.endsWith("+json");
}

function parseSuccess<T>(request: ApiRequest, response: AxiosResponse<string>): ApiResponse<T> {
  const text = response.data ?? "";
  const headers = plainHeaders(response);
  if (text.trim() === "") {
    return { status: response.status, data: undefined as T, headers };
  }

  const mediaType = mediaTypeOf(response);
  const endpoint = endpointOf(request.url);
  const details = { service: request.service, method: request.method, endpoint };
  if (!isJsonMediaType(mediaType)) {
    const shown = mediaType === "" ? "no content type" : mediaType;
    throw createApiError(
      `${request.service} API returned non-JSON (${shown}) from ${endpoint}; ` +
        `check the ${request.urlSetting} setting`,
      { ...details, failure: "non-json", status: response.status },
    );
  }

  try {
    return { status: response.status, data: JSON.parse(text) as T, headers };
  } catch {
    throw createApiError(
      `${request.service} API returned invalid JSON from ${endpoint}; ` +
        `check the ${request.urlSetting} setting`,
      { ...details, failure: "non-json", status: response.status },
    );
  }
}

/** The error code and message an API puts in an error body. */
interface ApiErrorText {
  code?: string;
  message?: string;
}

/**
 * Extracts the error code and message from an error body. OpenRouter sends
 * `{error: {code, message}}`. Infisical sends `{error, message}`, where a validation failure
 * carries an array of Zod issues as `message`.
 */
export function extractApiErrorText(body: unknown): ApiErrorText {
  if (typeof body !== "object" || body === null) {
    return {};
  }
  const record = body as Record<string, unknown>;
  if (typeof record.error === "object" && record.error !== null) {
    const nested = record.error as Record<string, unknown>;
    return { code: scalarText(nested.code), message: scalarText(nested.message) };
  }
  return { code: scalarText(record.error), message: messageText(record.message) };
}

function scalarText(value: unknown): string | undefined {
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
}

function messageText(value: unknown): string | undefined {
  if (!Array.isArray(value)) {
    return scalarText(value);
  }
  const messages = value
    .map((issue) => (typeof issue === "object" && issue !== null ? issue.message : issue))
    .filter((message): message is string => typeof message === "string");
  return messages.length > 0 ? messages.join("; ") : undefined;
}

// Removes the request's secret values from text that came back from the server, and shortens
// it, so that a message that echoes input cannot leak a secret or flood the output.
function cleanApiText(request: ApiRequest, text: string | undefined): string | undefined {
  if (text === undefined) {
    return undefined;
  }
  let cleaned = text;
  const secrets = [request.bearerToken, ...(request.redact ?? [])];
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 4) {
      cleaned = cleaned.split(secret).join("[redacted]");
    }
  }
  // An echoed Authorization header is removed whole, scheme included.
  cleaned = cleaned.replace(/\bbearer\s+\S+/gi, "[redacted]");
  cleaned = cleaned.replace(/\s+/g, " ").trim();
  return cleaned.length > 300 ? `${cleaned.slice(0, 300)}...` : cleaned;
}

function errorTextOf(
  request: ApiRequest,
  response: AxiosResponse<string>,
): ApiErrorText & { fromApi: boolean } {
  if (!isJsonMediaType(mediaTypeOf(response))) {
    return { fromApi: false };
  }
  try {
    const body = JSON.parse(response.data ?? "");
    const raw = extractApiErrorText(body);
    return {
      code: cleanApiText(request, raw.code),
      message: cleanApiText(request, raw.message),
      fromApi: hasApiErrorShape(request.service, body),
    };
  } catch {
    return { fromApi: false };
  }
}

/**
 * Recognizes the error bodies the APIs themselves send. OpenRouter wraps every error as
 * `{error: {code, message}}`. Infisical's error handler always adds a `reqId`, which the
 * framework's default body for an unknown route lacks.
 */
function hasApiErrorShape(service: ServiceName, body: unknown): boolean {
  if (typeof body !== "object" || body === null) {
    return false;
  }
  const record = body as Record<string, unknown>;
  if (service === "OpenRouter") {
    const nested = record.error as Record<string, unknown> | undefined;
    return typeof nested === "object" && nested !== null && typeof nested.message === "string";
  }
  return typeof record.reqId === "string" && typeof record.statusCode === "number";
}

function statusError(request: ApiRequest, response: AxiosResponse<string>): ApiError {
  const endpoint = endpointOf(request.url);
  const text = errorTextOf(request, response);
  const status = response.status;
  let message = `${request.service} ${request.method} ${endpoint} failed with status ${status}`;
  if (text.code !== undefined && text.code !== String(status)) {
    message += ` ${text.code}`;
  }
  if (text.message !== undefined) {
    message += `: ${text.message}`;
  }

  const mediaType = mediaTypeOf(response);
  const hasBody = (response.data ?? "").trim() !== "";
  if (hasBody && !isJsonMediaType(mediaType)) {
    message += ` (non-JSON ${mediaType || "response"}; check the ${request.urlSetting} setting)`;
  } else if (status >= 300 && status < 400) {
    message += ` (a redirect; check the ${request.urlSetting} setting)`;
  } else if (status === 404 && !text.fromApi) {
    message += ` (not an answer of the ${request.service} API; check the ${request.urlSetting} setting)`;
  }

  return createApiError(message, {
    service: request.service,
    method: request.method,
    endpoint,
    failure: "status",
    status,
    apiCode: text.code,
    apiMessage: text.message,
    fromApi: text.fromApi,
  });
}

function rateLimitedError(
  request: ApiRequest,
  response: AxiosResponse<string>,
  attempts: number,
): ApiError {
  const endpoint = endpointOf(request.url);
  const text = errorTextOf(request, response);
  let message =
    `${request.service} ${request.method} ${endpoint} was rate limited: ` +
    `status 429 on ${attempts} attempts`;
  if (text.message !== undefined) {
    message += `: ${text.message}`;
  }
  message += ". Run it again later.";
  return createApiError(message, {
    service: request.service,
    method: request.method,
    endpoint,
    failure: "rate-limited",
    status: 429,
    apiCode: text.code,
    apiMessage: text.message,
  });
}

const transientNetworkCodes = ["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "ECONNABORTED", "EPIPE"];

function isTransientNetworkCode(code: string): boolean {
  return transientNetworkCodes.includes(code) || code === "EAI_AGAIN";
}

function describeNetworkCode(code: string, timeoutMs: number): string {
  switch (code) {
    case "ECONNRESET":
    case "EPIPE":
      return "connection reset";
    case "ECONNREFUSED":
      return "connection refused";
    case "ETIMEDOUT":
    case "ECONNABORTED":
      return timeoutMs > 0 ? `timeout after ${timeoutMs} ms` : "timeout";
    case "ENOTFOUND":
      return "host not found";
    case "ERR_BAD_RESPONSE":
      return `response larger than ${maxResponseBytes} bytes`;
    default:
      return "network error";
  }
}

function networkError(request: ApiRequest, code: string): ApiError {
  const endpoint = endpointOf(request.url);
  const isTimeout = code === "ETIMEDOUT" || code === "ECONNABORTED";
  let message =
    `${request.service} ${request.method} ${endpoint} failed: ` +
    `${describeNetworkCode(code, requestTimeoutMs())} (${code})`;
  if (!request.idempotent && code !== "ECONNREFUSED" && code !== "ENOTFOUND") {
    message += "; the server may have processed the request";
  }
  if (code === "ENOTFOUND" || code === "ECONNREFUSED") {
    message += `; check the ${request.urlSetting} setting`;
  }
  return createApiError(message, {
    service: request.service,
    method: request.method,
    endpoint,
    failure: isTimeout ? "timeout" : "connection",
  });
}
