import assert from "node:assert/strict";

import { openRouterKeyProvider } from "../../providers/OpenRouterKey";
import { OpenRouterFake, startOpenRouterFake } from "../fakes/openrouter";
import {
  assertNoSecrets,
  fastHttpEnv,
  managementKey,
  providerConfig,
  rejectionOf,
} from "../support/placeholders";
import { SerializedProvider, startSerializedProvider } from "../support/serializedProvider";

const hashPattern = /^[0-9a-f]{64}$/;

interface KeyOutputs {
  apiUrl: string;
  namePrefix: string;
  rotationTrigger: string;
  limit?: number;
  limitReset?: string;
  hash: string;
  keyName: string;
  key: string;
  createdAt: string;
}

function inputsFor(fake: OpenRouterFake, overrides: Record<string, unknown> = {}) {
  return {
    apiUrl: fake.url,
    namePrefix: "anythingllm-test-openrouter",
    rotationTrigger: "2026-01-01T00:00:00Z",
    limit: 5,
    limitReset: "monthly",
    ...overrides,
  };
}

function requestsTo(fake: OpenRouterFake, method: string, path?: string) {
  return fake.requests.filter(
    (request) => request.method === method && (path === undefined || request.path === path),
  );
}

/** Every secret of the fake: the management key and every key string it minted. */
function knownSecrets(fake: OpenRouterFake): string[] {
  return [managementKey, ...fake.allKeys().map((record) => record.key)];
}

describe("OpenRouterKey provider", function () {
  this.timeout(30_000);

  let fake: OpenRouterFake;
  let provider: SerializedProvider;

  before(async () => {
    provider = await startSerializedProvider(openRouterKeyProvider, {
      config: providerConfig,
      env: fastHttpEnv,
    });
  });

  after(async () => {
    await provider.close();
  });

  beforeEach(async () => {
    fake = await startOpenRouterFake({ managementKeys: [managementKey] });
  });

  afterEach(async () => {
    await fake.close();
  });

  describe("check", () => {
    it("accepts valid inputs and trims the URL", async () => {
      const result = await provider.call("check", {}, inputsFor(fake, { apiUrl: `${fake.url}/` }));

      assert.deepEqual(result.failures, []);
      assert.equal(result.inputs.apiUrl, fake.url);
    });

    const invalidCases: Array<[string, Record<string, unknown>]> = [
      ["apiUrl", { apiUrl: "openrouter.ai/api/v1" }],
      ["namePrefix", { namePrefix: "" }],
      ["rotationTrigger", { rotationTrigger: 7 }],
      ["limit", { limit: -1 }],
      ["limitReset", { limitReset: "yearly" }],
    ];
    for (const [property, override] of invalidCases) {
      it(`rejects an invalid ${property}`, async () => {
        const result = await provider.call("check", {}, inputsFor(fake, override));

        const properties = result.failures.map((failure: { property: string }) => failure.property);
        assert.deepEqual(properties, [property]);
      });
    }

    it("passes unknown preview values", async () => {
      const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

      const result = await provider.call(
        "check",
        {},
        inputsFor(fake, { rotationTrigger: unknown, apiUrl: unknown }),
      );

      assert.deepEqual(result.failures, []);
    });

    it("sends no request", async () => {
      await provider.call("check", {}, inputsFor(fake));

      assert.equal(fake.requests.length, 0);
    });
  });

  describe("create", () => {
    it("creates and verifies a named key", async () => {
      const result = await provider.call<{ id: string; outs: KeyOutputs }>(
        "create",
        inputsFor(fake),
      );

      const live = fake.liveKeys();
      assert.equal(live.length, 1);
      assert.equal(result.id, live[0].hash);
      assert.match(result.id, hashPattern);
      assert.equal(result.outs.hash, live[0].hash);
      assert.equal(result.outs.key, live[0].key);
      assert.equal(result.outs.keyName, "anythingllm-test-openrouter-2026-01-01T00:00:00Z");
      assert.equal(live[0].name, result.outs.keyName);
      assert.equal(live[0].limit, 5);
      assert.equal(live[0].limitReset, "monthly");
      assert.ok(result.outs.createdAt.length > 0);
      assert.equal(result.outs.namePrefix, "anythingllm-test-openrouter");
    });

    it("sends list, create and verification in order", async () => {
      const result = await provider.call<{ outs: KeyOutputs }>("create", inputsFor(fake));

      const calls = fake.requests.map((request) => `${request.method} ${request.path}`);
      assert.deepEqual(calls, ["GET /api/v1/keys", "POST /api/v1/keys", "GET /api/v1/key"]);
      assert.equal(fake.requests[0].query.include_disabled, "true");
      assert.equal(fake.requests[0].query.offset, "0");
      assert.deepEqual(fake.requests[1].body, {
        name: result.outs.keyName,
        limit: 5,
        limit_reset: "monthly",
      });
      assert.equal(fake.requests[2].headers.authorization, `Bearer ${result.outs.key}`);
    });

    it("deletes a leftover key of the same name", async () => {
      const leftover = fake.addInferenceKey("anythingllm-test-openrouter-2026-01-01T00:00:00Z");
      const unrelated = fake.addInferenceKey("anythingllm-test-openrouter-2025-12-01T00:00:00Z");

      const result = await provider.call<{ id: string }>("create", inputsFor(fake));

      const liveHashes = fake.liveKeys().map((record) => record.hash);
      assert.ok(!liveHashes.includes(leftover.hash), "the leftover key is still live");
      assert.ok(liveHashes.includes(unrelated.hash), "an unrelated key was deleted");
      assert.ok(liveHashes.includes(result.id), "the new key is not live");
      assert.equal(requestsTo(fake, "DELETE").length, 1);
      assert.equal(requestsTo(fake, "DELETE")[0].path, `/api/v1/keys/${leftover.hash}`);
    });

    it("reads every list page", async () => {
      const leftover = fake.addInferenceKey("anythingllm-test-openrouter-2026-01-01T00:00:00Z");
      for (let i = 0; i < 120; i++) {
        fake.addInferenceKey(`other-${i}`);
      }

      await provider.call("create", inputsFor(fake));

      const offsets = requestsTo(fake, "GET", "/api/v1/keys").map(
        (request) => request.query.offset,
      );
      assert.deepEqual(offsets, ["0", "100"]);
      assert.equal(fake.findKey(leftover.hash)?.deleted, true);
    });

    it("retries the verification of a fresh key", async () => {
      await fake.close();
      fake = await startOpenRouterFake({
        managementKeys: [managementKey],
        freshKeyUnauthorizedCount: 2,
      });

      const result = await provider.call<{ id: string }>("create", inputsFor(fake));

      assert.equal(requestsTo(fake, "GET", "/api/v1/key").length, 3);
      assert.equal(fake.findKey(result.id)?.deleted, false);
    });

    it("deletes a key that never verifies", async () => {
      await fake.close();
      fake = await startOpenRouterFake({
        managementKeys: [managementKey],
        freshKeyUnauthorizedCount: 100,
      });

      const error = await rejectionOf(provider.call("create", inputsFor(fake)));

      assert.match(error.message, /failed verification/);
      assert.match(error.message, /GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/key failed/);
      assert.match(error.message, /status 401/);
      assert.match(error.message, /was deleted/);
      assert.equal(fake.liveKeys().length, 0);
      assert.equal(requestsTo(fake, "GET", "/api/v1/key").length, 5);
      assertNoSecrets(error.message, knownSecrets(fake), "the error");
    });

    it("deletes a created key returned without key string", async () => {
      const hash = "ab".repeat(32);
      fake.fail({ method: "POST", path: "/api/v1/keys", status: 201, body: { data: { hash } } });

      const error = await rejectionOf(provider.call("create", inputsFor(fake)));

      assert.match(error.message, /returned no key/);
      assert.match(error.message, new RegExp(hash));
      assert.deepEqual(
        requestsTo(fake, "DELETE").map((request) => request.path),
        [`/api/v1/keys/${hash}`],
      );
      assert.equal(requestsTo(fake, "GET", "/api/v1/key").length, 0);
    });

    it("rejects the management key as new key", async () => {
      const hash = "cd".repeat(32);
      fake.fail({
        method: "POST",
        path: "/api/v1/keys",
        status: 201,
        body: { data: { hash }, key: managementKey },
      });

      const error = await rejectionOf(provider.call("create", inputsFor(fake)));

      assert.match(error.message, /management key itself/);
      assert.equal(requestsTo(fake, "DELETE").length, 0);
      assertNoSecrets(error.message, [managementKey], "the error");
    });

    it("reads the management key from the environment", async () => {
      const envProvider = await startSerializedProvider(openRouterKeyProvider, {
        env: { ...fastHttpEnv, OPENROUTER_PROVISIONING_KEY: managementKey },
      });
      try {
        const result = await envProvider.call<{ id: string }>("create", inputsFor(fake));

        assert.equal(fake.findKey(result.id)?.deleted, false);
      } finally {
        await envProvider.close();
      }
    });

    it("fails without a management key", async () => {
      const bareProvider = await startSerializedProvider(openRouterKeyProvider, {
        env: fastHttpEnv,
      });
      try {
        const checkError = await rejectionOf(bareProvider.call("check", {}, inputsFor(fake)));
        const createError = await rejectionOf(bareProvider.call("create", inputsFor(fake)));

        for (const error of [checkError, createError]) {
          assert.match(
            error.message,
            /pulumi config set --secret anythingllm-secrets:openrouterManagementKey/,
          );
          assert.match(error.message, /OPENROUTER_MANAGEMENT_KEY/);
        }
        assert.equal(fake.requests.length, 0);
      } finally {
        await bareProvider.close();
      }
    });
  });

  describe("wrong key type", () => {
    for (const [label, status] of [
      ["an inference key", 403],
      ["an unknown key", 401],
    ] as const) {
      it(`fails early with ${label}`, async () => {
        const inference = fake.addInferenceKey("anythingllm-chat");
        const key = status === 403 ? inference.key : "sk-or-v1-UNKNOWN-PLACEHOLDER";
        const wrongProvider = await startSerializedProvider(openRouterKeyProvider, {
          config: { "anythingllm-secrets:openrouterManagementKey": key },
          env: fastHttpEnv,
        });
        try {
          const error = await rejectionOf(wrongProvider.call("create", inputsFor(fake)));

          assert.match(error.message, /management \(provisioning\) key/);
          assert.match(error.message, new RegExp(`status ${status}`));
          assert.match(error.message, /GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/keys/);
          assert.deepEqual(
            fake.requests.map((request) => `${request.method} ${request.path}`),
            ["GET /api/v1/keys"],
          );
          assert.equal(requestsTo(fake, "DELETE").length, 0);
          assertNoSecrets(error.message, [key, inference.key], "the error");
          assertNoSecrets(wrongProvider.output(), [key, inference.key], "the child output");
        } finally {
          await wrongProvider.close();
        }
      });
    }
  });

  describe("read", () => {
    it("returns the current name and limits", async () => {
      const created = await provider.call<{ id: string; outs: KeyOutputs }>(
        "create",
        inputsFor(fake),
      );

      const result = await provider.call("read", created.id, created.outs);

      assert.equal(result.id, created.id);
      assert.equal(result.props.keyName, created.outs.keyName);
      assert.equal(result.props.limit, 5);
      assert.equal(result.props.limitReset, "monthly");
      assert.equal(result.props.key, created.outs.key);
    });

    it("returns an empty id for a deleted key", async () => {
      const created = await provider.call<{ id: string; outs: KeyOutputs }>(
        "create",
        inputsFor(fake),
      );
      await provider.call("delete", created.id, created.outs);

      const result = await provider.call("read", created.id, created.outs);

      assert.equal(result.id, "");
    });
  });

  describe("diff", () => {
    it("ignores a changed __provider", async () => {
      const created = await provider.call<{ outs: KeyOutputs }>("create", inputsFor(fake));
      const olds = { ...created.outs, __provider: "exports.handler = old;" };
      const news = { ...inputsFor(fake), __provider: "exports.handler = new;" };

      const result = await provider.call("diff", created.outs.hash, olds, news);

      assert.equal(result.changes, false);
      assert.deepEqual(result.replaces, []);
    });

    it("replaces on a new rotation trigger", async () => {
      const olds = { ...inputsFor(fake), hash: "ab".repeat(32) };
      const news = inputsFor(fake, { rotationTrigger: "2026-01-08T00:00:00Z" });

      const result = await provider.call("diff", olds.hash, olds, news);

      assert.equal(result.changes, true);
      assert.deepEqual(result.replaces, ["rotationTrigger"]);
    });

    it("updates in place on new limits", async () => {
      const olds = { ...inputsFor(fake), hash: "ab".repeat(32) };
      const news = inputsFor(fake, { limit: 10, limitReset: "weekly" });

      const result = await provider.call("diff", olds.hash, olds, news);

      assert.equal(result.changes, true);
      assert.deepEqual(result.replaces, []);
    });

    it("treats a trailing slash as no change", async () => {
      const olds = { ...inputsFor(fake), hash: "ab".repeat(32) };
      const news = inputsFor(fake, { apiUrl: `${fake.url}/` });

      const result = await provider.call("diff", olds.hash, olds, news);

      assert.equal(result.changes, false);
    });
  });

  describe("update", () => {
    it("keeps outputs when only __provider changed", async () => {
      const created = await provider.call<{ id: string; outs: KeyOutputs }>(
        "create",
        inputsFor(fake),
      );
      const before = fake.requests.length;
      const olds = { ...created.outs, __provider: "exports.handler = old;" };
      const news = { ...inputsFor(fake), __provider: "exports.handler = new;" };

      const result = await provider.call("update", created.id, olds, news);

      assert.equal(fake.requests.length, before);
      assert.equal(result.outs.hash, created.outs.hash);
      assert.equal(result.outs.key, created.outs.key);
      assert.equal(result.outs.createdAt, created.outs.createdAt);
      assert.equal(result.outs.keyName, created.outs.keyName);
    });

    it("patches only the changed limit", async () => {
      const created = await provider.call<{ id: string; outs: KeyOutputs }>(
        "create",
        inputsFor(fake),
      );

      const result = await provider.call(
        "update",
        created.id,
        created.outs,
        inputsFor(fake, { limit: 10 }),
      );

      const patches = requestsTo(fake, "PATCH");
      assert.equal(patches.length, 1);
      assert.equal(patches[0].path, `/api/v1/keys/${created.id}`);
      assert.deepEqual(patches[0].body, { limit: 10 });
      assert.equal(fake.findKey(created.id)?.limit, 10);
      assert.equal(result.outs.limit, 10);
      assert.equal(result.outs.hash, created.outs.hash);
      assert.equal(result.outs.key, created.outs.key);
      assert.equal(result.outs.createdAt, created.outs.createdAt);
    });

    it("clears a removed limit with null", async () => {
      const created = await provider.call<{ id: string; outs: KeyOutputs }>(
        "create",
        inputsFor(fake),
      );

      const result = await provider.call(
        "update",
        created.id,
        created.outs,
        inputsFor(fake, { limit: undefined, limitReset: undefined }),
      );

      assert.deepEqual(requestsTo(fake, "PATCH")[0].body, { limit: null, limit_reset: null });
      assert.equal(fake.findKey(created.id)?.limit, null);
      assert.equal("limit" in result.outs, false);
    });
  });

  describe("delete", () => {
    it("deletes the key by its hash", async () => {
      const created = await provider.call<{ id: string; outs: KeyOutputs }>(
        "create",
        inputsFor(fake),
      );

      await provider.call("delete", created.id, created.outs);

      const deletes = requestsTo(fake, "DELETE");
      assert.equal(deletes.length, 1);
      assert.equal(deletes[0].path, `/api/v1/keys/${created.outs.hash}`);
      assert.equal(fake.findKey(created.id)?.deleted, true);
    });

    it("reports a failed delete and succeeds on retry", async () => {
      const existing = fake.addInferenceKey("anythingllm-test-openrouter-old");
      const props = { ...inputsFor(fake), hash: existing.hash, key: existing.key };
      fake.fail({ method: "DELETE", path: `/api/v1/keys/${existing.hash}`, status: 500 });

      const error = await rejectionOf(provider.call("delete", existing.hash, props));

      assert.match(error.message, new RegExp(`Deleting OpenRouter key ${existing.hash} failed`));
      assert.match(error.message, /DELETE http:\/\/127\.0\.0\.1:\d+\/api\/v1\/keys\//);
      assert.match(error.message, /status 500: Internal Server Error/);
      assert.match(error.message, /next `pulumi up` retries the delete/);
      assertNoSecrets(error.message, knownSecrets(fake), "the error");
      assert.equal(fake.findKey(existing.hash)?.deleted, false);

      fake.fail({ method: "DELETE", path: `/api/v1/keys/${existing.hash}`, status: 404 });
      await provider.call("delete", existing.hash, props);

      assert.equal(requestsTo(fake, "DELETE").length, 2);
    });

    it("treats 404 as already deleted", async () => {
      const existing = fake.addInferenceKey("anythingllm-test-openrouter-old");
      const props = { ...inputsFor(fake), hash: existing.hash };
      await provider.call("delete", existing.hash, props);

      await provider.call("delete", existing.hash, props);

      assert.deepEqual(
        requestsTo(fake, "DELETE").map((request) => request.status),
        [200, 404],
      );
    });

    it("never sends a key string as hash", async () => {
      const existing = fake.addInferenceKey("anythingllm-test-openrouter-old");
      const props = { ...inputsFor(fake), hash: existing.key };

      const error = await rejectionOf(provider.call("delete", existing.key, props));

      assert.match(error.message, /not 64 hex characters/);
      assert.equal(fake.requests.length, 0);
      assertNoSecrets(error.message, [existing.key], "the error");
    });

    it("hides credentials when DELETE returns 401", async () => {
      const existing = fake.addInferenceKey("anythingllm-test-openrouter-old");
      const props = { ...inputsFor(fake), hash: existing.hash };
      fake.fail({ method: "DELETE", path: `/api/v1/keys/${existing.hash}`, status: 401 });

      const error = await rejectionOf(provider.call("delete", existing.hash, props));

      assert.match(error.message, /DELETE/);
      assert.match(
        error.message,
        new RegExp(`http://127\\.0\\.0\\.1:\\d+/api/v1/keys/${existing.hash}`),
      );
      assert.match(error.message, /status 401/);
      assert.match(error.message, /Missing Authentication header/);
      assertNoSecrets(error.message, knownSecrets(fake), "the error");
      assertNoSecrets(provider.output(), knownSecrets(fake), "the child output");
    });
  });

  describe("rate limits", () => {
    it("waits out two 429s on create", async () => {
      fake.fail({
        method: "POST",
        path: "/api/v1/keys",
        status: 429,
        headers: { "retry-after": "1" },
        times: 2,
      });
      const startMs = Date.now();

      const result = await provider.call<{ id: string }>("create", inputsFor(fake));

      const elapsedMs = Date.now() - startMs;
      assert.equal(requestsTo(fake, "POST").length, 3);
      assert.ok(elapsedMs >= 2000, `retried after ${elapsedMs} ms, before Retry-After`);
      assert.equal(fake.liveKeys().length, 1);
      assert.equal(fake.liveKeys()[0].hash, result.id);
    });

    it("fails past the retry cap", async () => {
      fake.fail({
        method: "POST",
        path: "/api/v1/keys",
        status: 429,
        headers: { "retry-after": "1" },
        times: Infinity,
      });

      const error = await rejectionOf(provider.call("create", inputsFor(fake)));

      assert.match(error.message, /rate limited/);
      assert.match(error.message, /POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/keys/);
      assert.equal(requestsTo(fake, "POST").length, 4);
      assert.equal(requestsTo(fake, "DELETE").length, 0);
      assert.equal(fake.liveKeys().length, 0);
    });
  });
});
