import * as assert from "node:assert";
import { createHash } from "node:crypto";

import { send } from "./httpClient";
import { OpenRouterFake, defaultWorkspaceId, startOpenRouterFake } from "./openrouter";

const managementKey = "mgmt-PLACEHOLDER-123";
const otherWorkspaceId = "11111111-2222-4333-8444-555555555555";

const keyObjectFields = [
  "hash",
  "name",
  "label",
  "disabled",
  "limit",
  "limit_remaining",
  "limit_reset",
  "include_byok_in_limit",
  "usage",
  "usage_daily",
  "usage_weekly",
  "usage_monthly",
  "byok_usage",
  "byok_usage_daily",
  "byok_usage_weekly",
  "byok_usage_monthly",
  "created_at",
  "updated_at",
  "creator_user_id",
  "workspace_id",
  "external_user",
];

const currentKeyFields = [
  "label",
  "limit",
  "limit_remaining",
  "limit_reset",
  "include_byok_in_limit",
  "usage",
  "usage_daily",
  "usage_weekly",
  "usage_monthly",
  "byok_usage",
  "byok_usage_daily",
  "byok_usage_weekly",
  "byok_usage_monthly",
  "is_free_tier",
  "is_management_key",
  "is_provisioning_key",
  "creator_user_id",
  "rate_limit",
  "allowed_data_regions",
  "free_model_daily_requests",
  "organization_id",
  "workspace_id",
];

describe("startOpenRouterFake", () => {
  let fake: OpenRouterFake;

  beforeEach(async () => {
    fake = await startOpenRouterFake({ managementKeys: [managementKey] });
  });

  afterEach(async () => {
    await fake.close();
  });

  function asManager(method: string, path: string, json?: unknown) {
    const headers = { authorization: `Bearer ${managementKey}` };
    return send(`${fake.url}${path}`, { method, headers, json });
  }

  function withKey(key: string, method: string, path: string, json?: unknown) {
    return send(`${fake.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}` },
      json,
    });
  }

  describe("base URL", () => {
    it("ends in /api/v1 on 127.0.0.1", () => {
      assert.match(fake.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
    });

    it("returns 404 for paths outside /api/v1", async () => {
      const origin = fake.url.replace(/\/api\/v1$/, "");
      const headers = { authorization: `Bearer ${managementKey}` };

      const bare = await send(`${origin}/keys`, { headers });
      const doubled = await send(`${fake.url}/api/v1/keys`, { headers });

      assert.strictEqual(bare.status, 404);
      assert.strictEqual(doubled.status, 404);
    });

    it("returns 404 for an unknown route", async () => {
      const response = await asManager("GET", "/models-of-keys");

      assert.strictEqual(response.status, 404);
      assert.strictEqual(response.json.error.code, 404);
    });
  });

  describe("authentication", () => {
    it("rejects a request without Authorization", async () => {
      const response = await send(`${fake.url}/keys`);

      assert.strictEqual(response.status, 401);
      assert.deepStrictEqual(response.json, {
        error: { code: 401, message: "Missing Authentication header" },
      });
    });

    const malformedHeaders = [
      `bearer ${managementKey}`,
      `Bearer  ${managementKey}`,
      managementKey,
      `Token ${managementKey}`,
      "Bearer ",
    ];
    for (const header of malformedHeaders) {
      const form = JSON.stringify(header.replace(managementKey, "<key>"));
      it(`rejects the header form ${form}`, async () => {
        const response = await send(`${fake.url}/keys`, { headers: { authorization: header } });

        assert.strictEqual(response.status, 401);
      });
    }

    it("rejects an unknown key", async () => {
      const response = await withKey("sk-or-v1-UNKNOWN-PLACEHOLDER", "GET", "/keys");

      assert.strictEqual(response.status, 401);
      assert.strictEqual(response.json.error.code, 401);
      assert.strictEqual(response.json.error.message, "User not found");
    });

    const managementRoutes: Array<[string, string]> = [
      ["GET", "/keys"],
      ["POST", "/keys"],
      ["GET", "/keys/HASH"],
      ["PATCH", "/keys/HASH"],
      ["DELETE", "/keys/HASH"],
      ["GET", "/credits"],
    ];
    for (const [method, path] of managementRoutes) {
      it(`returns 403 to an inference key on ${method} ${path}`, async () => {
        const { key, hash } = fake.addInferenceKey("inference");
        const body = method === "GET" || method === "DELETE" ? undefined : { name: "renamed" };

        const response = await withKey(key, method, path.replace("HASH", hash), body);

        assert.strictEqual(response.status, 403);
        assert.deepStrictEqual(response.json, {
          error: { code: 403, message: "Only management keys can perform this operation" },
        });
        assert.strictEqual(fake.liveKeys().length, 1);
        assert.strictEqual(fake.liveKeys()[0].name, "inference");
      });
    }

    it("accepts a management key added later", async () => {
      fake.addManagementKey("mgmt-PLACEHOLDER-456");

      const response = await withKey("mgmt-PLACEHOLDER-456", "GET", "/keys");

      assert.strictEqual(response.status, 200);
    });
  });

  describe("POST /keys", () => {
    it("returns 201 with the key object and the key string", async () => {
      const response = await asManager("POST", "/keys", { name: "rotation-1", limit: 5 });

      assert.strictEqual(response.status, 201);
      assert.match(
        response.headers.get("content-type") ?? "",
        /^application\/json; charset=utf-8$/,
      );
      assert.match(response.json.key, /^sk-or-v1-[0-9a-f]{64}$/);
      assert.strictEqual(response.json.data.name, "rotation-1");
    });

    it("derives hash and label from the key string", async () => {
      const response = await asManager("POST", "/keys", { name: "rotation-1" });
      const key: string = response.json.key;
      const secret = key.slice("sk-or-v1-".length);

      const expectedHash = createHash("sha256").update(key).digest("hex");
      assert.strictEqual(response.json.data.hash, expectedHash);
      assert.strictEqual(
        response.json.data.label,
        `sk-or-v1-${secret.slice(0, 3)}...${secret.slice(-3)}`,
      );
    });

    it("returns every required key object field", async () => {
      const response = await asManager("POST", "/keys", {
        name: "rotation-1",
        limit: 5,
        limit_reset: "monthly",
      });
      const data = response.json.data;

      for (const field of keyObjectFields) {
        assert.ok(field in data, `missing field ${field}`);
      }
      assert.strictEqual(data.updated_at, null);
      assert.strictEqual(data.external_user, null);
      assert.strictEqual(data.disabled, false);
      assert.strictEqual(data.limit, 5);
      assert.strictEqual(data.limit_remaining, 5);
      assert.strictEqual(data.limit_reset, "monthly");
      assert.strictEqual(data.workspace_id, defaultWorkspaceId);
      assert.ok(!("key" in data), "the key object must not carry the key string");
      assert.match(data.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/);
    });

    it("accepts a trailing slash", async () => {
      const response = await asManager("POST", "/keys/", { name: "slash" });

      assert.strictEqual(response.status, 201);
    });

    it("accepts null limit and limit_reset", async () => {
      const response = await asManager("POST", "/keys", {
        name: "n",
        limit: null,
        limit_reset: null,
      });

      assert.strictEqual(response.status, 201);
      assert.strictEqual(response.json.data.limit, null);
      assert.strictEqual(response.json.data.limit_remaining, null);
    });

    const invalidBodies: Array<[string, unknown]> = [
      ["no name", { limit: 5 }],
      ["an empty name", { name: "" }],
      ["a numeric name", { name: 7 }],
      ["a negative limit", { name: "n", limit: -1 }],
      ["a string limit", { name: "n", limit: "5" }],
      ["an unknown limit_reset", { name: "n", limit_reset: "yearly" }],
      ["a string include_byok_in_limit", { name: "n", include_byok_in_limit: "yes" }],
      ["expires_at without seconds", { name: "n", expires_at: "2030-01-01T00:00Z" }],
      ["expires_at in another zone", { name: "n", expires_at: "2030-01-01T00:00:00+02:00" }],
      ["a workspace_id that is no UUID", { name: "n", workspace_id: "default" }],
      ["a label field", { name: "n", label: "rotation" }],
      ["an array body", [{ name: "n" }]],
    ];
    for (const [description, body] of invalidBodies) {
      it(`rejects ${description} with 400`, async () => {
        const response = await asManager("POST", "/keys", body);

        assert.strictEqual(response.status, 400);
        assert.strictEqual(response.json.error.code, 400);
        assert.strictEqual(typeof response.json.error.message, "string");
        assert.strictEqual(fake.allKeys().length, 0);
      });
    }

    it("rejects a missing body", async () => {
      const response = await send(`${fake.url}/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${managementKey}`, "content-type": "application/json" },
      });

      assert.strictEqual(response.status, 400);
    });

    it("rejects a body that is not JSON", async () => {
      const response = await send(`${fake.url}/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${managementKey}`, "content-type": "application/json" },
        text: "name=n",
      });

      assert.strictEqual(response.status, 400);
    });

    it("rejects a JSON body without a JSON Content-Type", async () => {
      const response = await send(`${fake.url}/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${managementKey}` },
        text: JSON.stringify({ name: "n" }),
      });

      assert.strictEqual(response.status, 400);
    });
  });

  describe("GET /keys", () => {
    it("lists keys newest first", async () => {
      const first = fake.addInferenceKey("first");
      const second = fake.addInferenceKey("second");

      const response = await asManager("GET", "/keys");

      assert.strictEqual(response.status, 200);
      const hashes = response.json.data.map((key: { hash: string }) => key.hash);
      assert.deepStrictEqual(hashes, [second.hash, first.hash]);
    });

    it("pages by 100 with offset", async () => {
      for (let i = 0; i < 150; i++) {
        fake.addInferenceKey(`key-${i}`);
      }

      const first = await asManager("GET", "/keys");
      const second = await asManager("GET", "/keys?offset=100");
      const third = await asManager("GET", "/keys?offset=200");

      assert.strictEqual(first.json.data.length, 100);
      assert.strictEqual(first.json.data[0].name, "key-149");
      assert.strictEqual(second.json.data.length, 50);
      assert.strictEqual(second.json.data[49].name, "key-0");
      assert.deepStrictEqual(third.json.data, []);
    });

    it("hides disabled keys unless include_disabled=true", async () => {
      const { hash } = fake.addInferenceKey("disabled");
      await asManager("PATCH", `/keys/${hash}`, { disabled: true });

      const hidden = await asManager("GET", "/keys");
      const explicit = await asManager("GET", "/keys?include_disabled=false");
      const shown = await asManager("GET", "/keys?include_disabled=true");

      assert.strictEqual(hidden.json.data.length, 0);
      assert.strictEqual(explicit.json.data.length, 0);
      assert.strictEqual(shown.json.data.length, 1);
    });

    it("hides keys of another workspace unless workspace_id names it", async () => {
      await asManager("POST", "/keys", { name: "elsewhere", workspace_id: otherWorkspaceId });

      const byDefault = await asManager("GET", "/keys");
      const named = await asManager("GET", `/keys?workspace_id=${otherWorkspaceId}`);

      assert.strictEqual(byDefault.json.data.length, 0);
      assert.strictEqual(named.json.data.length, 1);
    });

    for (const query of ["include_disabled=1", "include_disabled=yes", "offset=-1", "offset=x"]) {
      it(`rejects ${query} with 400`, async () => {
        const response = await asManager("GET", `/keys?${query}`);

        assert.strictEqual(response.status, 400);
        assert.strictEqual(response.json.error.code, 400);
      });
    }

    it("leaves deleted keys out", async () => {
      const { hash } = fake.addInferenceKey("gone");
      await asManager("DELETE", `/keys/${hash}`);

      const response = await asManager("GET", "/keys?include_disabled=true");

      assert.deepStrictEqual(response.json.data, []);
    });
  });

  describe("/keys/{hash}", () => {
    it("gets a key by hash", async () => {
      const { hash } = fake.addInferenceKey("lookup");

      const response = await asManager("GET", `/keys/${hash}`);

      assert.strictEqual(response.status, 200);
      assert.strictEqual(response.json.data.hash, hash);
      assert.strictEqual(response.json.data.name, "lookup");
    });

    const unknownHashes: Array<[string, string]> = [
      ["an unknown hash", "a".repeat(64)],
      ["a key string", `sk-or-v1-${"b".repeat(64)}`],
      ["an uppercase hash", "A".repeat(64)],
      ["a short hash", "hash-old"],
    ];
    for (const [description, hash] of unknownHashes) {
      for (const method of ["GET", "PATCH", "DELETE"]) {
        it(`returns 404 to ${method} with ${description}`, async () => {
          const body = method === "PATCH" ? { name: "x" } : undefined;

          const response = await asManager(method, `/keys/${hash}`, body);

          assert.strictEqual(response.status, 404);
          assert.deepStrictEqual(response.json, {
            error: { code: 404, message: "Resource not found" },
          });
        });
      }
    }

    it("looks up the hash of a key string, not the string", async () => {
      const { key, hash } = fake.addInferenceKey("pair");

      const byString = await asManager("GET", `/keys/${key}`);
      const byHash = await asManager("GET", `/keys/${hash}`);

      assert.strictEqual(byString.status, 404);
      assert.strictEqual(byHash.status, 200);
    });

    it("updates the allowed fields and sets updated_at", async () => {
      const { hash } = fake.addInferenceKey("before");

      const response = await asManager("PATCH", `/keys/${hash}`, {
        name: "after",
        disabled: true,
        limit: 10,
        limit_reset: "weekly",
        include_byok_in_limit: true,
      });

      assert.strictEqual(response.status, 200);
      const data = response.json.data;
      assert.strictEqual(data.name, "after");
      assert.strictEqual(data.disabled, true);
      assert.strictEqual(data.limit, 10);
      assert.strictEqual(data.limit_reset, "weekly");
      assert.strictEqual(data.include_byok_in_limit, true);
      assert.match(data.updated_at, /\+00:00$/);
    });

    const unpatchable = ["expires_at", "workspace_id", "creator_user_id", "hash", "label"];
    for (const field of unpatchable) {
      it(`rejects a PATCH of ${field}`, async () => {
        const { hash } = fake.addInferenceKey("fixed");

        const response = await asManager("PATCH", `/keys/${hash}`, { [field]: "x" });

        assert.strictEqual(response.status, 400);
        assert.strictEqual(fake.findKey(hash)?.updatedAtMs, null);
      });
    }

    it("rejects a PATCH with a string disabled flag", async () => {
      const { hash } = fake.addInferenceKey("flag");

      const response = await asManager("PATCH", `/keys/${hash}`, { disabled: "true" });

      assert.strictEqual(response.status, 400);
      assert.strictEqual(fake.findKey(hash)?.disabled, false);
    });

    it("deletes a key and forgets it", async () => {
      const { key, hash } = fake.addInferenceKey("doomed");

      const deleted = await asManager("DELETE", `/keys/${hash}`);
      const again = await asManager("DELETE", `/keys/${hash}`);
      const lookup = await asManager("GET", `/keys/${hash}`);
      const current = await withKey(key, "GET", "/key");

      assert.strictEqual(deleted.status, 200);
      assert.deepStrictEqual(deleted.json, { deleted: true });
      assert.strictEqual(again.status, 404);
      assert.strictEqual(lookup.status, 404);
      assert.strictEqual(current.status, 401);
      assert.strictEqual(fake.isKeyAccepted(key), false);
      assert.strictEqual(fake.liveKeys().length, 0);
      assert.strictEqual(fake.allKeys()[0].deleted, true);
    });
  });

  describe("GET /key", () => {
    it("describes an inference key without hash or name", async () => {
      const created = await asManager("POST", "/keys", { name: "current", limit: 3 });

      const response = await withKey(created.json.key, "GET", "/key");

      assert.strictEqual(response.status, 200);
      const data = response.json.data;
      for (const field of currentKeyFields) {
        assert.ok(field in data, `missing field ${field}`);
      }
      for (const field of ["hash", "name", "disabled", "created_at"]) {
        assert.ok(!(field in data), `unexpected field ${field}`);
      }
      assert.strictEqual(data.is_management_key, false);
      assert.strictEqual(data.limit, 3);
      assert.strictEqual(data.label, created.json.data.label);
    });

    it("describes a management key", async () => {
      const response = await asManager("GET", "/key");

      assert.strictEqual(response.status, 200);
      assert.strictEqual(response.json.data.is_management_key, true);
      assert.strictEqual(response.json.data.is_provisioning_key, true);
    });

    it("serves the legacy /auth/key alias", async () => {
      const response = await asManager("GET", "/auth/key");

      assert.strictEqual(response.status, 200);
    });

    it("rejects a disabled key with 401", async () => {
      const { key, hash } = fake.addInferenceKey("paused");
      await asManager("PATCH", `/keys/${hash}`, { disabled: true });

      const response = await withKey(key, "GET", "/key");

      assert.strictEqual(response.status, 401);
      assert.strictEqual(fake.isKeyAccepted(key), false);
    });

    it("rejects a key past its expires_at", async () => {
      const created = await asManager("POST", "/keys", {
        name: "short-lived",
        expires_at: new Date(fake.clock.now() + 60_000).toISOString(),
      });
      const key: string = created.json.key;
      const before = await withKey(key, "GET", "/key");

      fake.clock.advance(120_000);
      const after = await withKey(key, "GET", "/key");

      assert.strictEqual(before.status, 200);
      assert.strictEqual(after.status, 401);
    });
  });

  describe("state helpers", () => {
    it("reports accepted keys", () => {
      const { key } = fake.addInferenceKey("accepted");

      assert.strictEqual(fake.isKeyAccepted(key), true);
      assert.strictEqual(fake.isKeyAccepted(managementKey), true);
      assert.strictEqual(fake.isKeyAccepted("sk-or-v1-OTHER-PLACEHOLDER"), false);
    });

    it("returns copies that do not change the store", () => {
      const { hash } = fake.addInferenceKey("original");

      fake.liveKeys()[0].name = "mutated";

      assert.strictEqual(fake.findKey(hash)?.name, "original");
    });
  });
});

describe("startOpenRouterFake freshKeyUnauthorizedCount", () => {
  it("rejects the first GET /key calls", async () => {
    const fake = await startOpenRouterFake({
      managementKeys: [managementKey],
      freshKeyUnauthorizedCount: 2,
    });
    try {
      const created = await send(`${fake.url}/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${managementKey}` },
        json: { name: "fresh" },
      });
      const headers = { authorization: `Bearer ${created.json.key}` };

      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        statuses.push((await send(`${fake.url}/key`, { headers })).status);
      }

      assert.deepStrictEqual(statuses, [401, 401, 200]);
    } finally {
      await fake.close();
    }
  });

  it("leaves keys added as existing alone", async () => {
    const fake = await startOpenRouterFake({ freshKeyUnauthorizedCount: 2 });
    try {
      const { key } = fake.addInferenceKey("old");

      const response = await send(`${fake.url}/key`, {
        headers: { authorization: `Bearer ${key}` },
      });

      assert.strictEqual(response.status, 200);
    } finally {
      await fake.close();
    }
  });
});
