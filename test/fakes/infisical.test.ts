import * as assert from "node:assert";

import { FakeClock } from "./faults";
import { SendOptions, send } from "./httpClient";
import { InfisicalFake, organizationId, startInfisicalFake } from "./infisical";

const projectId = "6a1f0c3e-0000-4000-8000-00000000a001";
const writerId = "6a1f0c3e-0000-4000-8000-00000000b001";
const writerClientId = "6a1f0c3e-0000-4000-8000-00000000c001";
const readerId = "6a1f0c3e-0000-4000-8000-00000000b002";
const readerClientId = "6a1f0c3e-0000-4000-8000-00000000c002";
const operatorId = "6a1f0c3e-0000-4000-8000-00000000b003";
const operatorClientId = "6a1f0c3e-0000-4000-8000-00000000c003";
const writerSecret = "cs-WRITER-PLACEHOLDER";
const readerSecret = "cs-READER-PLACEHOLDER";
const operatorSecret = "cs-OLD-PLACEHOLDER";
const clientSecretFields = [
  "clientSecretNumUses",
  "clientSecretNumUsesLimit",
  "clientSecretPrefix",
  "clientSecretTTL",
  "createdAt",
  "description",
  "id",
  "identityUAId",
  "isClientSecretRevoked",
  "updatedAt",
];
const clientSecretsPath = `/v1/auth/universal-auth/identities/${operatorId}/client-secrets`;

describe("startInfisicalFake", () => {
  let fake: InfisicalFake;
  let clock: FakeClock;

  beforeEach(async () => {
    clock = new FakeClock({ frozen: true });
    fake = await startInfisicalFake({ clock });
    fake.addProject({ id: projectId, slug: "demo-proj", environments: ["dev", "staging", "prod"] });
    fake.addIdentity({ id: writerId, clientId: writerClientId, role: "writer" });
    fake.addIdentity({ id: readerId, clientId: readerClientId, role: "reader" });
    fake.addIdentity({ id: operatorId, clientId: operatorClientId, role: "reader" });
    fake.addClientSecret(writerId, { secret: writerSecret });
    fake.addClientSecret(readerId, { secret: readerSecret });
    fake.addClientSecret(operatorId, { secret: operatorSecret, description: "old" });
  });

  afterEach(async () => {
    await fake.close();
  });

  function call(method: string, path: string, options: SendOptions & { token?: string } = {}) {
    const headers = { ...(options.headers ?? {}) };
    if (options.token !== undefined) {
      headers.authorization = `Bearer ${options.token}`;
    }
    return send(`${fake.apiUrl}${path}`, { ...options, method, headers });
  }

  function logIn(clientId: string, clientSecret: string, headers?: Record<string, string>) {
    return call("POST", "/v1/auth/universal-auth/login", {
      json: { clientId, clientSecret },
      headers,
    });
  }

  async function tokenFor(clientId: string, clientSecret: string): Promise<string> {
    const response = await logIn(clientId, clientSecret);
    assert.strictEqual(response.status, 200, response.text);
    return response.json.accessToken;
  }

  function assertError(response: { status: number; json: any }, status: number, error: string) {
    assert.strictEqual(response.status, status);
    assert.strictEqual(response.json.statusCode, status);
    assert.strictEqual(response.json.error, error);
    assert.match(response.json.reqId, /^req-[A-Za-z0-9]{14}$/);
  }

  describe("routing", () => {
    it("serves the API under /api of the origin", () => {
      assert.match(fake.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.strictEqual(fake.apiUrl, `${fake.url}/api`);
    });

    it("returns Fastify's 404 for unknown routes", async () => {
      const response = await call("GET", "/v1/nothing-here?x=1");

      assert.strictEqual(response.status, 404);
      assert.deepStrictEqual(response.json, {
        message: "Route GET:/api/v1/nothing-here?x=1 not found",
        error: "Not Found",
        statusCode: 404,
      });
    });

    const misspelledPaths = [
      "/api/api/v1/auth/universal-auth/login",
      "/v1/auth/universal-auth/login",
      "//api/v1/auth/universal-auth/login",
    ];
    for (const path of misspelledPaths) {
      it(`returns 404 to a login at ${path}`, async () => {
        const response = await send(`${fake.url}${path}`, {
          method: "POST",
          json: { clientId: writerClientId, clientSecret: writerSecret },
        });

        assert.strictEqual(response.status, 404);
        assert.strictEqual(response.json.error, "Not Found");
      });
    }

    it("returns 404 for another method", async () => {
      const token = await tokenFor(writerClientId, writerSecret);

      const response = await call("PUT", "/v3/secrets/raw/A", { token, json: {} });

      assert.strictEqual(response.status, 404);
      assert.strictEqual(response.json.message, "Route PUT:/api/v3/secrets/raw/A not found");
    });

    it("ignores a trailing slash", async () => {
      const response = await call("POST", "/v1/auth/universal-auth/login/", {
        json: { clientId: writerClientId, clientSecret: writerSecret },
      });

      assert.strictEqual(response.status, 200);
    });

    it("serves HTML under a registered prefix", async () => {
      fake.serveHtmlAt("/v1/");

      const html = await send(`${fake.url}/v1/auth/universal-auth/login`, {
        method: "POST",
        json: { clientId: writerClientId, clientSecret: writerSecret },
      });
      const api = await logIn(writerClientId, writerSecret);

      assert.strictEqual(html.status, 200);
      assert.match(html.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(html.text, /^<!DOCTYPE html>/);
      assert.strictEqual(api.status, 200);
    });
  });

  describe("login", () => {
    it("returns an access token", async () => {
      const response = await logIn(writerClientId, writerSecret);

      assert.strictEqual(response.status, 200);
      assert.deepStrictEqual(Object.keys(response.json).sort(), [
        "accessToken",
        "accessTokenMaxTTL",
        "expiresIn",
        "tokenType",
      ]);
      assert.strictEqual(response.json.tokenType, "Bearer");
      assert.strictEqual(response.json.expiresIn, 2592000);
      assert.strictEqual(response.json.accessTokenMaxTTL, 2592000);
      assert.match(response.json.accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    });

    it("counts each successful login", async () => {
      await logIn(operatorClientId, operatorSecret);
      await logIn(operatorClientId, operatorSecret);

      assert.strictEqual(fake.clientSecrets(operatorId)[0].numUses, 2);
    });

    const rejected: Array<[string, string, string]> = [
      ["an unknown client id", "6a1f0c3e-0000-4000-8000-0000000000ff", writerSecret],
      ["a wrong secret", writerClientId, "cs-WRONG-PLACEHOLDER"],
      ["another identity's secret", writerClientId, readerSecret],
    ];
    for (const [description, clientId, clientSecret] of rejected) {
      it(`rejects ${description} with 401`, async () => {
        const response = await logIn(clientId, clientSecret);

        assertError(response, 401, "UnauthorizedError");
        assert.strictEqual(response.json.message, "Invalid credentials");
      });
    }

    it("rejects a revoked secret", async () => {
      const { id, secret } = fake.addClientSecret(operatorId);
      const token = await tokenFor(writerClientId, writerSecret);
      await call("POST", `${clientSecretsPath}/${id}/revoke`, { token });

      const response = await logIn(operatorClientId, secret);

      assertError(response, 401, "UnauthorizedError");
    });

    it("revokes a secret past its TTL", async () => {
      const { id, secret } = fake.addClientSecret(operatorId, { ttl: 60 });
      const before = await logIn(operatorClientId, secret);

      clock.advance(61_000);
      const after = await logIn(operatorClientId, secret);

      assert.strictEqual(before.status, 200);
      assertError(after, 401, "UnauthorizedError");
      assert.strictEqual(after.json.message, "Access denied due to expired client secret");
      assert.strictEqual(fake.clientSecrets(operatorId).find((s) => s.id === id)?.revoked, true);
    });

    it("revokes a secret whose uses ran out", async () => {
      const { id, secret } = fake.addClientSecret(operatorId, { numUsesLimit: 1 });
      const first = await logIn(operatorClientId, secret);

      const second = await logIn(operatorClientId, secret);

      assert.strictEqual(first.status, 200);
      assertError(second, 401, "UnauthorizedError");
      assert.strictEqual(
        second.json.message,
        "Access denied due to client secret usage limit reached",
      );
      assert.strictEqual(fake.clientSecrets(operatorId).find((s) => s.id === id)?.revoked, true);
    });

    it("rejects a junk Authorization header with 403", async () => {
      const response = await logIn(writerClientId, writerSecret, {
        authorization: "Bearer not-a-token",
      });

      assertError(response, 403, "TokenError");
    });

    it("rejects an expired Authorization header with 403", async () => {
      const stale = await tokenFor(writerClientId, writerSecret);
      clock.advance(2_592_000_000);

      const response = await logIn(writerClientId, writerSecret, {
        authorization: `Bearer ${stale}`,
      });

      assertError(response, 403, "TokenError");
      assert.strictEqual(response.json.message, "Your token has expired. Please re-authenticate.");
    });

    it("accepts a valid Authorization header", async () => {
      const token = await tokenFor(writerClientId, writerSecret);

      const response = await logIn(writerClientId, writerSecret, {
        authorization: `Bearer ${token}`,
      });

      assert.strictEqual(response.status, 200);
    });

    it("rejects a missing clientSecret with 422 issues", async () => {
      const response = await call("POST", "/v1/auth/universal-auth/login", {
        json: { clientId: writerClientId },
      });

      assertError(response, 422, "ValidationFailure");
      assert.ok(Array.isArray(response.json.message));
      assert.deepStrictEqual(response.json.message[0].path, ["clientSecret"]);
      assert.strictEqual(response.json.message[0].code, "invalid_type");
    });

    it("rejects a JSON body sent as text/plain with 422", async () => {
      const response = await call("POST", "/v1/auth/universal-auth/login", {
        text: JSON.stringify({ clientId: writerClientId, clientSecret: writerSecret }),
        headers: { "content-type": "text/plain" },
      });

      assertError(response, 422, "ValidationFailure");
    });

    it("rejects a body without Content-Type with 415", async () => {
      const response = await call("POST", "/v1/auth/universal-auth/login", {
        text: JSON.stringify({ clientId: writerClientId, clientSecret: writerSecret }),
      });

      assert.strictEqual(response.status, 415);
    });

    it("rejects invalid JSON with 400", async () => {
      const response = await call("POST", "/v1/auth/universal-auth/login", {
        text: "{clientId:",
        headers: { "content-type": "application/json" },
      });

      assert.strictEqual(response.status, 400);
    });

    it("locks out after three wrong secrets", async () => {
      for (let i = 0; i < 3; i++) {
        await logIn(operatorClientId, "cs-WRONG-PLACEHOLDER");
      }

      const locked = await logIn(operatorClientId, operatorSecret);
      const lockedCheck = fake.canLogin(operatorClientId, operatorSecret);
      clock.advance(300_001);
      const unlocked = await logIn(operatorClientId, operatorSecret);

      assertError(locked, 401, "UnauthorizedError");
      assert.match(locked.json.message, /temporarily locked/);
      assert.strictEqual(lockedCheck, false);
      assert.strictEqual(unlocked.status, 200);
    });

    it("resets the failure count after 30 seconds", async () => {
      await logIn(operatorClientId, "cs-WRONG-PLACEHOLDER");
      await logIn(operatorClientId, "cs-WRONG-PLACEHOLDER");
      clock.advance(31_000);
      await logIn(operatorClientId, "cs-WRONG-PLACEHOLDER");

      const response = await logIn(operatorClientId, operatorSecret);

      assert.strictEqual(response.status, 200);
    });
  });

  describe("access tokens", () => {
    it("are required on protected routes", async () => {
      const response = await call("GET", "/v3/secrets/raw?workspaceId=x&environment=dev");

      assertError(response, 401, "UnauthorizedError");
      assert.strictEqual(response.json.message, "Token missing");
    });

    it("expire on the fake clock", async () => {
      fake.addIdentity({
        id: "6a1f0c3e-0000-4000-8000-00000000b009",
        clientId: "short-lived-client",
        role: "reader",
        accessTokenTTL: 60,
      });
      const { secret } = fake.addClientSecret("6a1f0c3e-0000-4000-8000-00000000b009");
      const login = await logIn("short-lived-client", secret);
      const path = `/v2/workspace/demo-proj`;
      const before = await call("GET", path, { token: login.json.accessToken });

      clock.advance(60_000);
      const after = await call("GET", path, { token: login.json.accessToken });

      assert.strictEqual(login.json.expiresIn, 60);
      assert.strictEqual(before.status, 200);
      assertError(after, 403, "TokenError");
      assert.strictEqual(after.json.message, "Your token has expired. Please re-authenticate.");
    });

    it("reject a token signed by another server", async () => {
      const other = await startInfisicalFake();
      try {
        other.addIdentity({ id: writerId, clientId: writerClientId, role: "writer" });
        other.addClientSecret(writerId, { secret: writerSecret });
        const login = await send(`${other.apiUrl}/v1/auth/universal-auth/login`, {
          method: "POST",
          json: { clientId: writerClientId, clientSecret: writerSecret },
        });

        const response = await call("GET", "/v2/workspace/demo-proj", {
          token: login.json.accessToken,
        });

        assertError(response, 403, "TokenError");
      } finally {
        await other.close();
      }
    });

    it("renew while within the max TTL", async () => {
      fake.addIdentity({
        id: "6a1f0c3e-0000-4000-8000-00000000b00a",
        clientId: "renewing-client",
        role: "reader",
        accessTokenTTL: 60,
        accessTokenMaxTTL: 150,
      });
      const { secret } = fake.addClientSecret("6a1f0c3e-0000-4000-8000-00000000b00a");
      const first = await tokenFor("renewing-client", secret);

      clock.advance(50_000);
      const renewed = await call("POST", "/v1/auth/token/renew", { json: { accessToken: first } });
      clock.advance(50_000);
      const tooLate = await call("POST", "/v1/auth/token/renew", {
        json: { accessToken: renewed.json.accessToken },
      });

      assert.strictEqual(renewed.status, 200);
      assert.notStrictEqual(renewed.json.accessToken, first);
      assertError(tooLate, 401, "UnauthorizedError");
      assert.match(tooLate.json.message, /Max TTL/);
    });

    it("stop working once revoked", async () => {
      const token = await tokenFor(writerClientId, writerSecret);

      const revoked = await call("POST", "/v1/auth/token/revoke", { json: { accessToken: token } });
      const after = await call("GET", "/v2/workspace/demo-proj", { token });

      assert.strictEqual(revoked.status, 200);
      assertError(after, 401, "UnauthorizedError");
    });
  });

  describe("client secrets", () => {
    let writerToken: string;

    beforeEach(async () => {
      writerToken = await tokenFor(writerClientId, writerSecret);
    });

    it("creates a secret that can log in", async () => {
      const response = await call("POST", clientSecretsPath, {
        token: writerToken,
        json: { description: "rotation-2", ttl: 3196800, numUsesLimit: 0 },
      });

      assert.strictEqual(response.status, 200);
      assert.match(response.json.clientSecret, /^[0-9a-f]{64}$/);
      const data = response.json.clientSecretData;
      assert.deepStrictEqual(Object.keys(data).sort(), clientSecretFields);
      assert.strictEqual(data.clientSecretPrefix, response.json.clientSecret.slice(0, 4));
      assert.strictEqual(data.description, "rotation-2");
      assert.strictEqual(data.clientSecretTTL, 3196800);
      assert.strictEqual(data.clientSecretNumUsesLimit, 0);
      assert.strictEqual(data.isClientSecretRevoked, false);
      assert.strictEqual(fake.canLogin(operatorClientId, response.json.clientSecret), true);
    });

    it("applies defaults to an empty body", async () => {
      const response = await call("POST", clientSecretsPath, { token: writerToken, json: {} });

      assert.strictEqual(response.status, 200);
      assert.strictEqual(response.json.clientSecretData.description, "");
      assert.strictEqual(response.json.clientSecretData.clientSecretTTL, 0);
      assert.strictEqual(response.json.clientSecretData.clientSecretNumUsesLimit, 0);
    });

    it("accepts the maximum TTL", async () => {
      const response = await call("POST", clientSecretsPath, {
        token: writerToken,
        json: { ttl: 315360000 },
      });

      assert.strictEqual(response.status, 200);
    });

    const invalidBodies: Array<[string, unknown, string]> = [
      ["a string ttl", { ttl: "2592000" }, "ttl"],
      ["a negative ttl", { ttl: -1 }, "ttl"],
      ["a ttl above ten years", { ttl: 315360001 }, "ttl"],
      ["a negative numUsesLimit", { numUsesLimit: -1 }, "numUsesLimit"],
      ["a numeric description", { description: 5 }, "description"],
    ];
    for (const [description, body, field] of invalidBodies) {
      it(`rejects ${description} with 422`, async () => {
        const response = await call("POST", clientSecretsPath, { token: writerToken, json: body });

        assertError(response, 422, "ValidationFailure");
        assert.deepStrictEqual(response.json.message[0].path, [field]);
        assert.strictEqual(fake.clientSecrets(operatorId).length, 1);
      });
    }

    it("rejects a create without a body with 422", async () => {
      const response = await call("POST", clientSecretsPath, { token: writerToken });

      assertError(response, 422, "ValidationFailure");
    });

    it("returns 404 for an unknown identity", async () => {
      const unknownId = "6a1f0c3e-0000-4000-8000-0000000000ee";

      const response = await call(
        "POST",
        `/v1/auth/universal-auth/identities/${unknownId}/client-secrets`,
        {
          token: writerToken,
          json: {},
        },
      );

      assertError(response, 404, "NotFound");
      assert.strictEqual(response.json.message, `Failed to find identity with ID ${unknownId}`);
    });

    it("lists only secrets not revoked", async () => {
      const { id } = fake.addClientSecret(operatorId, { description: "new" });
      const old = fake.clientSecrets(operatorId)[0];
      await call("POST", `${clientSecretsPath}/${old.id}/revoke`, { token: writerToken });

      const response = await call("GET", clientSecretsPath, { token: writerToken });

      assert.strictEqual(response.status, 200);
      const ids = response.json.clientSecretData.map((data: { id: string }) => data.id);
      assert.deepStrictEqual(ids, [id]);
    });

    it("gets one secret by id", async () => {
      const { id } = fake.addClientSecret(operatorId, { description: "lookup" });

      const response = await call("GET", `${clientSecretsPath}/${id}`, { token: writerToken });

      assert.strictEqual(response.status, 200);
      assert.strictEqual(response.json.clientSecretData.id, id);
      assert.deepStrictEqual(
        Object.keys(response.json.clientSecretData).sort(),
        clientSecretFields,
      );
    });

    it("revokes a secret", async () => {
      const { id, secret } = fake.addClientSecret(operatorId);

      const response = await call("POST", `${clientSecretsPath}/${id}/revoke`, {
        token: writerToken,
      });

      assert.strictEqual(response.status, 200);
      assert.strictEqual(response.json.clientSecretData.isClientSecretRevoked, true);
      assert.strictEqual(fake.canLogin(operatorClientId, secret), false);
    });

    it("rejects a revoke with an empty JSON body", async () => {
      const { id } = fake.addClientSecret(operatorId);

      const response = await call("POST", `${clientSecretsPath}/${id}/revoke`, {
        token: writerToken,
        headers: { "content-type": "application/json" },
      });

      assert.strictEqual(response.status, 400);
      assert.strictEqual(fake.clientSecrets(operatorId)[1].revoked, false);
    });

    const unknownSecretIds: Array<[string, () => string]> = [
      ["an unknown id", () => "6a1f0c3e-0000-4000-8000-0000000000dd"],
      ["another identity's secret", () => fake.clientSecrets(writerId)[0].id],
    ];
    for (const [description, secretId] of unknownSecretIds) {
      for (const [method, suffix] of [
        ["GET", ""],
        ["POST", "/revoke"],
      ]) {
        it(`returns 404 to ${method} with ${description}`, async () => {
          const response = await call(method, `${clientSecretsPath}/${secretId()}${suffix}`, {
            token: writerToken,
          });

          assertError(response, 404, "NotFound");
          assert.strictEqual(
            response.json.message,
            `Failed to find identity with ID ${operatorId}`,
          );
          assert.strictEqual(fake.clientSecrets(writerId)[0].revoked, false);
        });
      }
    }

    it("denies every client-secret route to a reader", async () => {
      const readerToken = await tokenFor(readerClientId, readerSecret);
      const existing = fake.clientSecrets(operatorId)[0].id;
      const attempts: Array<[string, string, unknown]> = [
        ["POST", clientSecretsPath, {}],
        ["GET", clientSecretsPath, undefined],
        ["GET", `${clientSecretsPath}/${existing}`, undefined],
        ["POST", `${clientSecretsPath}/${existing}/revoke`, undefined],
      ];

      for (const [method, path, json] of attempts) {
        const response = await call(method, path, { token: readerToken, json });
        assertError(response, 403, "PermissionDenied");
      }
      assert.strictEqual(fake.clientSecrets(operatorId).length, 1);
      assert.strictEqual(fake.clientSecrets(operatorId)[0].revoked, false);
    });
  });

  describe("GET /api/v2/workspace/{slug}", () => {
    it("returns the project at the top level", async () => {
      const token = await tokenFor(readerClientId, readerSecret);

      const response = await call("GET", "/v2/workspace/demo-proj", { token });

      assert.strictEqual(response.status, 200);
      assert.strictEqual(response.json.id, projectId);
      assert.strictEqual(response.json._id, projectId);
      assert.strictEqual(response.json.slug, "demo-proj");
      assert.strictEqual(response.json.orgId, organizationId);
      const slugs = response.json.environments.map((env: { slug: string }) => env.slug);
      assert.deepStrictEqual(slugs, ["dev", "staging", "prod"]);
      assert.strictEqual(response.json.environments[2].name, "Production");
      assert.strictEqual(typeof response.json.environments[2].id, "string");
    });

    it("returns 404 for an unknown slug", async () => {
      const token = await tokenFor(readerClientId, readerSecret);

      const response = await call("GET", "/v2/workspace/other-proj", { token });

      assertError(response, 404, "NotFound");
    });
  });
});
