/**
 * Fault scripting, request recording and the controllable clock shared by the fake API servers.
 *
 * A fake handles every request in three steps: it records the request, applies the first scripted
 * fault rule that matches it (if any), then lets its own handler send the response.
 */

/** A scripted misbehaviour of a fake server, matched by method and URL path. */
export interface FaultRule {
  /** HTTP method to match, case-insensitive. Default: any method. */
  method?: string;
  /** Exact URL path (without the query string) or a pattern tested against it. */
  path: string | RegExp;
  /** Number of matching requests the rule applies to. Default 1; `Infinity` allowed. */
  times?: number;
  /** Number of matching requests to let through before the rule applies. Default 0. */
  skip?: number;
  /**
   * Status to send instead of the real response. Without `body`, the fake's standard error body
   * for that status is sent.
   */
  status?: number;
  /** Body to send: a string is sent as it is, anything else as JSON. */
  body?: unknown;
  /** Extra response headers, such as `{"retry-after": "1"}`. */
  headers?: Record<string, string>;
  /** Content-Type of `body`. Default: JSON for objects, `text/plain` for strings. */
  contentType?: string;
  /** Destroys the socket without sending a response. */
  resetConnection?: boolean;
  /** Waits this long before handling or faulting the request. */
  delayMs?: number;
  /** Sends no response, so the client times out. `close()` ends the connection. */
  hang?: boolean;
  /**
   * Handles the request normally first, so state changes happen, then resets the connection
   * (the default), hangs (`hang`) or sends `status` instead of the real response.
   */
  afterProcessing?: boolean;
}

/** One request as a fake server received it. */
export interface RecordedRequest {
  method: string;
  /** URL path without the query string, as sent (not decoded). */
  path: string;
  /** Query parameters. A repeated name keeps its last value. */
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
  /** Status sent, or undefined when the connection was reset or left hanging. */
  status?: number;
}

/**
 * Ordered list of fault rules. A request uses the first rule that matches and still has uses left,
 * so several rules for one path play out as a sequence (for example 429, 429, then the real
 * response).
 */
export class FaultScript {
  private readonly entries: Array<{ rule: FaultRule; remaining: number; toSkip: number }> = [];

  /** Appends a rule after those already registered. */
  add(rule: FaultRule): void {
    const times = rule.times ?? 1;
    if (!(times >= 1)) {
      throw new RangeError(`FaultRule.times must be at least 1, got ${times}`);
    }
    this.entries.push({ rule: { ...rule }, remaining: times, toSkip: rule.skip ?? 0 });
  }

  /** Removes every rule, used or not. */
  clear(): void {
    this.entries.length = 0;
  }

  /** Returns the first matching rule with uses left and uses it up once. */
  take(method: string, path: string): FaultRule | undefined {
    for (const entry of this.entries) {
      if (entry.remaining <= 0 || !matchesRule(entry.rule, method, path)) {
        continue;
      }
      if (entry.toSkip > 0) {
        entry.toSkip -= 1;
        continue;
      }
      entry.remaining -= 1;
      return entry.rule;
    }
    return undefined;
  }

  /** Rules that still have uses left, in registration order. */
  pending(): FaultRule[] {
    return this.entries.filter((e) => e.remaining > 0).map((e) => e.rule);
  }
}

function matchesRule(rule: FaultRule, method: string, path: string): boolean {
  if (rule.method !== undefined && rule.method.toUpperCase() !== method.toUpperCase()) {
    return false;
  }
  return typeof rule.path === "string" ? rule.path === path : rule.path.test(path);
}

/** Settings of a {@link FakeClock}. */
export interface FakeClockOptions {
  /** Start time in epoch milliseconds. Default: the real time when the clock is made. */
  startMs?: number;
  /** When true the clock moves only through `advance`. Default false: it also follows real time. */
  frozen?: boolean;
}

/**
 * Time source of a fake: token expiry, client-secret TTLs and timestamps are read from it.
 * Pass one clock to several fakes to move them together.
 */
export class FakeClock {
  private readonly startMs: number;
  private readonly realStartMs = Date.now();
  private readonly frozen: boolean;
  private offsetMs = 0;

  constructor(options: FakeClockOptions = {}) {
    this.startMs = options.startMs ?? this.realStartMs;
    this.frozen = options.frozen ?? false;
  }

  /** Current fake time in epoch milliseconds. */
  now(): number {
    const realElapsedMs = this.frozen ? 0 : Date.now() - this.realStartMs;
    return this.startMs + this.offsetMs + realElapsedMs;
  }

  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(
        `FakeClock.advance takes a finite number of milliseconds >= 0, got ${ms}`,
      );
    }
    this.offsetMs += ms;
  }
}

/** Returns whether `contentType` names JSON (`application/json` or a `+json` type). */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) {
    return false;
  }
  const mediaType = contentType.split(";")[0].trim().toLowerCase();
  return mediaType === "application/json" || mediaType.endsWith("+json");
}

/** Parses `text` as JSON; returns `{ok: false}` for empty or invalid text. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.length === 0) {
    return { ok: false };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Returns whether `value` is a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
