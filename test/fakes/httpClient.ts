/** Minimal HTTP client for tests that talk to the fake servers directly. */

/** A request sent by {@link send}. */
export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as JSON with `Content-Type: application/json` unless it is a string. */
  json?: unknown;
  /** Raw body text, sent as bytes with no Content-Type unless `headers` sets one. */
  text?: string;
  /** Abort after this many milliseconds. Default 5000. */
  timeoutMs?: number;
}

/** A received response; `json` is undefined when the body is not JSON. */
export interface SentResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** Sends one request with `fetch` and reads the whole body. */
export async function send(url: string, options: SendOptions = {}): Promise<SentResponse> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  // Bytes, unlike a string body, make fetch send no Content-Type of its own.
  let body: string | Uint8Array | undefined =
    options.text === undefined ? undefined : new TextEncoder().encode(options.text);
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(url, {
    method: options.method ?? "GET",
    headers,
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
  });
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Returns the error `promise` rejects with, or fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the request to fail, but it succeeded");
}
