import assert from "node:assert/strict";

import { infisicalClientSecretProvider } from "../../providers/InfisicalClientSecret";
import { FakeClock } from "../fakes/faults";
import { InfisicalFake } from "../fakes/infisical";
import {
  loginPath,
  operatorClientId,
  operatorIdentityId,
  startPopulatedInfisicalFake,
} from "../support/infisicalSetup";
import {
  assertNoSecrets,
  fastHttpEnv,
  oldOperatorClientSecret,
  programClientSecret,
  providerConfig,
  rejectionOf,
} from "../support/placeholders";
import { SerializedProvider, startSerializedProvider } from "../support/serializedProvider";

const clientSecretsPath = `/api/v1/auth/universal-auth/identities/${operatorIdentityId}/client-secrets`;
const description = "anythingllm-prod-operator-2026-01-01T00:00:00Z";
const ttlSeconds = (30 + 7) * 86_400;
const dayMs = 86_400_000;

interface ClientSecretOutputs {
  apiUrl: string;
  identityId: string;
  clientId: string;
  rotationTrigger: string;
  descriptionPrefix: string;
  ttlSeconds: number;
  clientSecretId: string;
  clientSecret: string;
  createdAt: string;
}

function inputsFor(fake: InfisicalFake, overrides: Record<string, unknown> = {}) {
  return {
    apiUrl: fake.apiUrl,
    identityId: operatorIdentityId,
    clientId: operatorClientId,
    rotationTrigger: "2026-01-01T00:00:00Z",
    descriptionPrefix: "anythingllm-prod-operator",
    ttlSeconds,
    ...overrides,
  };
}

function requestsTo(fake: InfisicalFake, method: string, path: string) {
  return fake.requests.filter((request) => request.method === method && request.path === path);
}

/** Every client secret stored in the fake, plus the program's own. */
function knownSecrets(fake: InfisicalFake): string[] {
  const operatorSecrets = fake.clientSecrets(operatorIdentityId).map((record) => record.secret);
  return [programClientSecret, oldOperatorClientSecret, ...operatorSecrets];
}

describe("InfisicalClientSecret provider", function () {
  this.timeout(30_000);

  let fake: InfisicalFake;
  let oldClientSecretId: string;
  let provider: SerializedProvider;

  before(async () => {
    provider = await startSerializedProvider(infisicalClientSecretProvider, {
      config: providerConfig,
      env: fastHttpEnv,
    });
  });

  after(async () => {
    await provider.close();
  });

  beforeEach(async () => {
    ({ fake, oldClientSecretId } = await startPopulatedInfisicalFake());
  });

  afterEach(async () => {
    await fake.close();
  });

  function create(overrides: Record<string, unknown> = {}) {
    return provider.call<{ id: string; outs: ClientSecretOutputs }>(
      "create",
      inputsFor(fake, overrides),
    );
  }

  describe("check", () => {
    it("accepts valid inputs", async () => {
      const result = await provider.call("check", {}, inputsFor(fake, { apiUrl: fake.url }));

      assert.deepEqual(result.failures, []);
      assert.equal(result.inputs.apiUrl, fake.apiUrl);
    });

    const invalidCases: Array<[string, Record<string, unknown>]> = [
      ["identityId", { identityId: "" }],
      ["clientId", { clientId: undefined }],
      ["rotationTrigger", { rotationTrigger: "" }],
      ["descriptionPrefix", { descriptionPrefix: 3 }],
      ["ttlSeconds", { ttlSeconds: 1.5 }],
      ["ttlSeconds", { ttlSeconds: 315_360_001 }],
    ];
    for (const [property, override] of invalidCases) {
      it(`rejects ${property} ${JSON.stringify(Object.values(override)[0])}`, async () => {
        const result = await provider.call("check", {}, inputsFor(fake, override));

        const properties = result.failures.map((failure: { property: string }) => failure.property);
        assert.deepEqual(properties, [property]);
      });
    }
  });

  describe("create", () => {
    it("creates a client secret that logs in", async () => {
      const result = await create();

      const records = fake.clientSecrets(operatorIdentityId);
      const created = records.find((record) => record.id === result.id);
      assert.ok(created !== undefined, "the fake has no client secret with the returned id");
      assert.equal(result.outs.clientSecretId, created.id);
      assert.equal(result.outs.clientSecret, created.secret);
      assert.equal(created.description, description);
      assert.equal(created.revoked, false);
      assert.ok(fake.canLogin(operatorClientId, result.outs.clientSecret));
      assert.ok(result.outs.createdAt.length > 0);
    });

    it("sends no use limit and the TTL", async () => {
      await create();

      const posts = requestsTo(fake, "POST", clientSecretsPath);
      assert.equal(posts.length, 1);
      assert.deepEqual(posts[0].body, { description, numUsesLimit: 0, ttl: ttlSeconds });
    });

    it("verifies with the operator's client id", async () => {
      const result = await create();

      const logins = requestsTo(fake, "POST", loginPath);
      assert.equal(logins.length, 2);
      const verification = logins[1];
      assert.deepEqual(verification.body, {
        clientId: operatorClientId,
        clientSecret: result.outs.clientSecret,
      });
      assert.equal(verification.headers.authorization, undefined);
      assert.equal(verification.status, 200);
    });

    it("leaves the old client secret alone", async () => {
      await create();

      const old = fake.clientSecrets(operatorIdentityId).find((r) => r.id === oldClientSecretId);
      assert.equal(old?.revoked, false);
      assert.ok(fake.canLogin(operatorClientId, oldOperatorClientSecret));
    });

    it("revokes a leftover of the same rotation", async () => {
      const leftover = fake.addClientSecret(operatorIdentityId, { description });

      const result = await create();

      const records = fake.clientSecrets(operatorIdentityId);
      assert.equal(records.find((record) => record.id === leftover.id)?.revoked, true);
      assert.equal(records.find((record) => record.id === oldClientSecretId)?.revoked, false);
      assert.equal(records.find((record) => record.id === result.id)?.revoked, false);
    });

    it("revokes a client secret that cannot log in", async () => {
      const error = await rejectionOf(create({ clientId: "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e" }));

      assert.match(error.message, /The new client secret could not log in/);
      assert.match(error.message, /status 401 UnauthorizedError: Invalid credentials/);
      assert.match(error.message, /was revoked and nothing was stored/);
      const records = fake.clientSecrets(operatorIdentityId);
      const created = records.filter((record) => record.description === description);
      assert.equal(created.length, 1);
      assert.equal(created[0].revoked, true);
      assert.equal(records.find((record) => record.id === oldClientSecretId)?.revoked, false);
      assertNoSecrets(error.message, knownSecrets(fake), "the error");
    });

    it("revokes it when the verification login fails", async () => {
      // The first login, the program's own, passes. The second one, the verification, fails.
      fake.fail({ method: "POST", path: loginPath, delayMs: 1 });
      fake.fail({ method: "POST", path: loginPath, status: 401 });

      const error = await rejectionOf(create());

      assert.match(error.message, /The new client secret could not log in/);
      const created = fake
        .clientSecrets(operatorIdentityId)
        .filter((record) => record.description === description);
      assert.equal(created.length, 1);
      assert.equal(created[0].revoked, true);
      assert.equal(
        requestsTo(fake, "POST", `${clientSecretsPath}/${created[0].id}/revoke`).length,
        1,
      );
      assertNoSecrets(provider.output(), knownSecrets(fake), "the child output");
    });

    it("names an unknown identity", async () => {
      const unknownIdentity = "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b";

      const error = await rejectionOf(create({ identityId: unknownIdentity }));

      assert.match(error.message, /status 404/);
      assert.match(error.message, new RegExp(`The identity ${unknownIdentity} was not found`));
    });

    it("reports a missing permission", async () => {
      await fake.close();
      ({ fake } = await startPopulatedInfisicalFake({ programRole: "reader" }));

      const error = await rejectionOf(create());

      assert.match(
        error.message,
        new RegExp(`GET http://127\\.0\\.0\\.1:\\d+${clientSecretsPath}`),
      );
      assert.match(error.message, /status 403/);
      assert.equal(requestsTo(fake, "POST", clientSecretsPath).length, 0);
    });

    it("does not repeat a create after a reset", async () => {
      fake.fail({
        method: "POST",
        path: clientSecretsPath,
        afterProcessing: true,
        resetConnection: true,
      });

      const error = await rejectionOf(create());

      assert.match(error.message, /connection reset/);
      assert.match(error.message, /may have processed the request/);
      assert.equal(requestsTo(fake, "POST", clientSecretsPath).length, 1);
    });

    it("revokes the lost one on the next create", async () => {
      fake.fail({
        method: "POST",
        path: clientSecretsPath,
        afterProcessing: true,
        resetConnection: true,
      });
      await rejectionOf(create());
      const lost = fake
        .clientSecrets(operatorIdentityId)
        .find((record) => record.description === description);

      const result = await create();

      const records = fake.clientSecrets(operatorIdentityId);
      assert.equal(records.find((record) => record.id === lost?.id)?.revoked, true);
      assert.equal(records.find((record) => record.id === result.id)?.revoked, false);
    });
  });

  describe("read", () => {
    it("returns a live client secret", async () => {
      const created = await create();

      const result = await provider.call("read", created.id, created.outs);

      assert.equal(result.id, created.id);
      assert.equal(result.props.clientSecret, created.outs.clientSecret);
    });

    it("returns an empty id once revoked", async () => {
      const created = await create();
      await provider.call("delete", created.id, created.outs);

      const result = await provider.call("read", created.id, created.outs);

      assert.equal(result.id, "");
    });

    it("returns an empty id for an unknown id", async () => {
      const props = { ...inputsFor(fake), clientSecretId: "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d" };

      const result = await provider.call("read", props.clientSecretId, props);

      assert.equal(result.id, "");
      assert.equal(
        requestsTo(fake, "GET", `${clientSecretsPath}/${props.clientSecretId}`)[0].status,
        404,
      );
    });

    it("returns an empty id past the TTL", async () => {
      await fake.close();
      const clock = new FakeClock();
      ({ fake } = await startPopulatedInfisicalFake({ clock }));
      const created = await create({ ttlSeconds: 30 * 86_400 });
      // The server's clock, which its Date header reports, passes the 30-day TTL.
      clock.advance(31 * dayMs);

      const result = await provider.call("read", created.id, created.outs);

      assert.equal(result.id, "");
    });

    it("keeps a client secret within its TTL", async () => {
      await fake.close();
      const clock = new FakeClock();
      ({ fake } = await startPopulatedInfisicalFake({ clock }));
      const created = await create({ ttlSeconds: 30 * 86_400 });
      clock.advance(29 * dayMs);

      const result = await provider.call("read", created.id, created.outs);

      assert.equal(result.id, created.id);
    });
  });

  describe("update", () => {
    it("keeps every output without a request", async () => {
      const created = await create();
      const before = fake.requests.length;
      const olds = { ...created.outs, __provider: "exports.handler = old;" };
      const news = { ...inputsFor(fake, { ttlSeconds: 60 * 86_400 }), __provider: "new" };

      const result = await provider.call("update", created.id, olds, news);

      assert.equal(fake.requests.length, before);
      assert.equal(result.outs.clientSecretId, created.outs.clientSecretId);
      assert.equal(result.outs.clientSecret, created.outs.clientSecret);
      assert.equal(result.outs.createdAt, created.outs.createdAt);
      assert.equal(result.outs.ttlSeconds, 60 * 86_400);
    });
  });

  describe("delete", () => {
    it("revokes the client secret", async () => {
      const created = await create();

      await provider.call("delete", created.id, created.outs);

      const record = fake.clientSecrets(operatorIdentityId).find((r) => r.id === created.id);
      assert.equal(record?.revoked, true);
      assert.equal(requestsTo(fake, "POST", `${clientSecretsPath}/${created.id}/revoke`).length, 1);
      assert.ok(!fake.canLogin(operatorClientId, created.outs.clientSecret));
    });

    it("treats 404 as already revoked", async () => {
      const props = { ...inputsFor(fake), clientSecretId: "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d" };

      await provider.call("delete", props.clientSecretId, props);

      const revokes = requestsTo(
        fake,
        "POST",
        `${clientSecretsPath}/${props.clientSecretId}/revoke`,
      );
      assert.deepEqual(
        revokes.map((request) => request.status),
        [404],
      );
    });

    it("reports a failed revoke for a retry", async () => {
      fake.fail({
        method: "POST",
        path: `${clientSecretsPath}/${oldClientSecretId}/revoke`,
        status: 500,
      });
      const props = { ...inputsFor(fake), clientSecretId: oldClientSecretId };

      const error = await rejectionOf(provider.call("delete", oldClientSecretId, props));

      assert.match(
        error.message,
        new RegExp(`Revoking Infisical client secret ${oldClientSecretId}`),
      );
      assert.match(error.message, /status 500/);
      assert.match(error.message, /next `pulumi up` retries/);
      assert.ok(fake.canLogin(operatorClientId, oldOperatorClientSecret));
      assertNoSecrets(error.message, knownSecrets(fake), "the error");
    });
  });

  describe("diff", () => {
    it("ignores a changed __provider", async () => {
      const olds = { ...inputsFor(fake), clientSecretId: "id", __provider: "old" };
      const news = { ...inputsFor(fake), __provider: "new" };

      const result = await provider.call("diff", "id", olds, news);

      assert.equal(result.changes, false);
      assert.deepEqual(result.replaces, []);
    });

    const cases: Array<[string, Record<string, unknown>, string[]]> = [
      ["rotationTrigger", { rotationTrigger: "2026-01-31T00:00:00Z" }, ["rotationTrigger"]],
      ["identityId", { identityId: "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b" }, ["identityId"]],
      ["clientId", { clientId: "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e" }, []],
      ["ttlSeconds", { ttlSeconds: 60 * 86_400 }, []],
      ["descriptionPrefix", { descriptionPrefix: "other" }, []],
    ];
    for (const [property, override, replaces] of cases) {
      it(`handles a new ${property}`, async () => {
        const result = await provider.call(
          "diff",
          "id",
          inputsFor(fake),
          inputsFor(fake, override),
        );

        assert.equal(result.changes, true);
        assert.deepEqual(result.replaces, replaces);
      });
    }
  });
});
