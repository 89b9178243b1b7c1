import assert from "node:assert/strict";

import {
  backoffMs,
  endpointOf,
  extractApiErrorText,
  isApiError,
  parseRetryAfterMs,
  sendApiRequest,
} from "../../providers/http";
import { normalizeInfisicalApiUrl } from "../../providers/infisicalAuth";
import { OpenRouterFake, startOpenRouterFake } from "../fakes/openrouter";
import { assertNoSecrets, managementKey, rejectionOf } from "../support/placeholders";

/** Sets environment variables for the duration of a suite and restores them afterwards. */
function useEnv(values: Record<string, string>): void {
  const saved: Record<string, string | undefined> = {};
  before(() => {
    for (const [name, value] of Object.entries(values)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });
  after(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
  });
}

describe("parseRetryAfterMs", () => {
  const nowMs = Date.parse("2026-01-01T00:00:00Z");
  const cases: Array<[string | undefined, number | undefined]> = [
    ["1", 1000],
    ["0.5", 500],
    ["0", 0],
    ["120", 60_000],
    ["Thu, 01 Jan 2026 00:00:05 GMT", 5000],
    ["Wed, 31 Dec 2025 23:59:00 GMT", 0],
    ["Thu, 01 Jan 2026 01:00:00 GMT", 60_000],
    ["", undefined],
    ["soon", undefined],
    [undefined, undefined],
  ];
  for (const [header, expected] of cases) {
    it(`parses ${JSON.stringify(header)}`, () => {
      assert.equal(parseRetryAfterMs(header, nowMs), expected);
    });
  }
});

describe("backoffMs", () => {
  useEnv({ ANYTHINGLLM_HTTP_RETRY_BASE_MS: "1000" });

  const cases: Array<[number, number, number]> = [
    [0, 800, 1200],
    [1, 1600, 2400],
    [2, 3200, 4800],
  ];
  for (const [retry, min, max] of cases) {
    it(`stays within ±20% for retry ${retry}`, () => {
      for (let i = 0; i < 50; i++) {
        const waitMs = backoffMs(retry);
        assert.ok(waitMs >= min, `${waitMs} ms is below ${min} ms`);
        assert.ok(waitMs <= max, `${waitMs} ms is above ${max} ms`);
      }
    });
  }
});

describe("extractApiErrorText", () => {
  it("reads the OpenRouter error object", () => {
    const text = extractApiErrorText({ error: { code: 403, message: "Only management keys" } });

    assert.deepEqual(text, { code: "403", message: "Only management keys" });
  });

  it("reads the Infisical error and message", () => {
    const text = extractApiErrorText({
      reqId: "req-abc",
      statusCode: 404,
      error: "NotFound",
      message: "Secret not found",
    });

    assert.deepEqual(text, { code: "NotFound", message: "Secret not found" });
  });

  it("joins Zod issue messages", () => {
    const text = extractApiErrorText({
      statusCode: 422,
      error: "ValidationFailure",
      message: [
        { code: "invalid_type", path: ["environment"], message: "Required" },
        { code: "too_small", path: ["secretValue"], message: "String must not be empty" },
      ],
    });

    assert.equal(text.code, "ValidationFailure");
    assert.equal(text.message, "Required; String must not be empty");
  });

  it("returns nothing for a non-object", () => {
    assert.deepEqual(extractApiErrorText("<html>"), {});
  });
});

describe("endpointOf", () => {
  it("drops query string, fragment and credentials", () => {
    const endpoint = endpointOf("https://user:pw-PLACEHOLDER@api.example.test/v1/keys?token=x#y");

    assert.equal(endpoint, "https://api.example.test/v1/keys");
  });
});

describe("normalizeInfisicalApiUrl", () => {
  const spellings = [
    "https://infisical.example.test",
    "https://infisical.example.test/",
    "https://infisical.example.test/api",
    "https://infisical.example.test/api/",
    " https://infisical.example.test// ",
  ];
  for (const spelling of spellings) {
    it(`normalises ${JSON.stringify(spelling)}`, () => {
      assert.equal(normalizeInfisicalApiUrl(spelling), "https://infisical.example.test/api");
    });
  }

  it("keeps a path prefix", () => {
    const apiUrl = normalizeInfisicalApiUrl("https://example.test/infisical/");

    assert.equal(apiUrl, "https://example.test/infisical/api");
  });
});

describe("sendApiRequest", function () {
  this.timeout(20_000);
  useEnv({ ANYTHINGLLM_HTTP_RETRY_BASE_MS: "10", ANYTHINGLLM_HTTP_TIMEOUT_MS: "300" });

  let fake: OpenRouterFake;

  beforeEach(async () => {
    fake = await startOpenRouterFake({ managementKeys: [managementKey] });
  });

  afterEach(async () => {
    await fake.close();
  });

  function listKeys(idempotent = true) {
    return sendApiRequest<{ data: unknown[] }>({
      service: "OpenRouter",
      urlSetting: "openrouterApiUrl",
      method: "GET",
      url: `${fake.url}/keys`,
      query: { include_disabled: "true", token: "query-PLACEHOLDER" },
      bearerToken: managementKey,
      idempotent,
    });
  }

  it("returns a parsed 2xx body", async () => {
    const response = await listKeys();

    assert.equal(response.status, 200);
    assert.deepEqual(response.data.data, []);
    assert.match(response.headers["content-type"], /application\/json/);
  });

  it("fails at once on a 2xx HTML page", async () => {
    fake.fail({
      path: "/api/v1/keys",
      status: 200,
      body: "<html><body>Sign in</body></html>",
      contentType: "text/html; charset=utf-8",
    });

    const error = await rejectionOf(listKeys());

    assert.equal(
      error.message,
      `OpenRouter API returned non-JSON (text/html) from ${fake.url}/keys; ` +
        "check the openrouterApiUrl setting",
    );
    assert.equal(fake.requests.length, 1);
  });

  it("reports an HTML error page without its body", async () => {
    fake.fail({
      path: "/api/v1/keys",
      status: 404,
      body: "<html>gone</html>",
      contentType: "text/html",
    });

    const error = await rejectionOf(listKeys());

    assert.match(error.message, /failed with status 404/);
    assert.match(error.message, /non-JSON text\/html; check the openrouterApiUrl setting/);
    assert.ok(!error.message.includes("<html>"), "the error contains the HTML body");
  });

  it("retries 502, 503 and 504 when idempotent", async () => {
    for (const status of [502, 503, 504]) {
      fake.fail({ path: "/api/v1/keys", status });
    }

    const response = await listKeys(true);

    assert.equal(response.status, 200);
    assert.deepEqual(
      fake.requests.map((request) => request.status),
      [502, 503, 504, 200],
    );
  });

  it("does not retry 503 when not idempotent", async () => {
    fake.fail({ path: "/api/v1/keys", status: 503 });

    const error = await rejectionOf(listKeys(false));

    assert.match(error.message, /failed with status 503/);
    assert.equal(fake.requests.length, 1);
  });

  it("does not retry other 5xx", async () => {
    fake.fail({ path: "/api/v1/keys", status: 500 });

    const error = await rejectionOf(listKeys(true));

    assert.match(
      error.message,
      /GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/keys failed with status 500/,
    );
    assert.equal(fake.requests.length, 1);
  });

  it("retries a reset connection when idempotent", async () => {
    fake.fail({ path: "/api/v1/keys", resetConnection: true });

    const response = await listKeys(true);

    assert.equal(response.status, 200);
    assert.equal(fake.requests.length, 2);
  });

  it("reports a reset connection when not idempotent", async () => {
    fake.fail({ path: "/api/v1/keys", resetConnection: true });

    const error = await rejectionOf(listKeys(false));

    assert.match(
      error.message,
      /GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/keys failed: connection reset/,
    );
    assert.match(error.message, /may have processed the request/);
    assert.equal(fake.requests.length, 1);
  });

  it("times out a hanging request", async () => {
    fake.fail({ path: "/api/v1/keys", hang: true, times: Infinity });

    const error = await rejectionOf(listKeys(true));

    assert.match(error.message, /failed: timeout after 300 ms/);
    assert.equal(fake.requests.length, 4);
    assert.ok(isApiError(error));
    assert.equal(error.failure, "timeout");
  });

  it("reports a refused connection with the setting", async () => {
    const url = fake.url;
    await fake.close();
    fake = await startOpenRouterFake();

    const error = await rejectionOf(
      sendApiRequest({
        service: "OpenRouter",
        urlSetting: "openrouterApiUrl",
        method: "GET",
        url: `${url}/keys`,
        idempotent: true,
      }),
    );

    assert.match(error.message, /connection refused \(ECONNREFUSED\)/);
    assert.match(error.message, /check the openrouterApiUrl setting/);
  });

  it("honours Retry-After as an HTTP date", async () => {
    const retryAt = new Date(Date.now() + 2000).toUTCString();
    fake.fail({ path: "/api/v1/keys", status: 429, headers: { "retry-after": retryAt } });
    const startMs = Date.now();

    await listKeys();

    const elapsedMs = Date.now() - startMs;
    // An HTTP date has whole seconds, so the wait is between 1 and 2 s.
    assert.ok(elapsedMs >= 900, `retried after ${elapsedMs} ms`);
    assert.equal(fake.requests.length, 2);
  });

  it("retries 429 for a request that is not idempotent", async () => {
    fake.fail({ path: "/api/v1/keys", status: 429, headers: { "retry-after": "0" } });

    const response = await listKeys(false);

    assert.equal(response.status, 200);
    assert.equal(fake.requests.length, 2);
  });

  it("keeps query, headers and key out of errors", async () => {
    fake.fail({
      path: "/api/v1/keys",
      status: 400,
      body: { error: { code: 400, message: `bad token ${managementKey}` } },
    });

    const error = await rejectionOf(listKeys());

    assert.match(error.message, /status 400: bad token \[redacted\]/);
    assertNoSecrets(error.message, [managementKey, "query-PLACEHOLDER"], "the error");
    assert.equal("cause" in error, false);
    assert.equal("config" in error, false);
  });
});
