// Only the API's own 404 proves that a credential is gone. A 404 page of a proxy, a web front end
// or an unknown route must fail the call, or the engine drops a credential still in use. Also:
// error text that a server echoes back never carries an Authorization header.
import assert from "node:assert/strict";

import { infisicalClientSecretProvider } from "../../providers/InfisicalClientSecret";
import { infisicalSecretValueProvider } from "../../providers/InfisicalSecretValue";
import { openRouterKeyProvider } from "../../providers/OpenRouterKey";
import { startOpenRouterFake } from "../fakes/openrouter";
import {
  loginPath,
  operatorClientId,
  operatorIdentityId,
  projectSlug,
  startPopulatedInfisicalFake,
} from "../support/infisicalSetup";
import {
  assertNoSecrets,
  fastHttpEnv,
  managementKey,
  providerConfig,
  rejectionOf,
} from "../support/placeholders";
import { startSerializedProvider } from "../support/serializedProvider";

const htmlNotFound = { status: 404, body: "<html>Not Found</html>", contentType: "text/html" };
const routeNotFound = {
  status: 404,
  body: { message: "Route POST:/api/x not found", error: "Not Found", statusCode: 404 },
};

describe("404 answers that are not the API's", () => {
  describe("OpenRouter key", () => {
    const keyInputs = (url: string) => ({
      apiUrl: url,
      namePrefix: "anythingllm-test-openrouter",
      rotationTrigger: "2026-01-05T05:17:00Z",
    });

    it("keeps a key whose DELETE gets an HTML 404", async () => {
      const fake = await startOpenRouterFake({ managementKeys: [managementKey] });
      const provider = await startSerializedProvider(openRouterKeyProvider, {
        config: providerConfig,
        env: fastHttpEnv,
      });
      try {
        const created = await provider.call("create", keyInputs(fake.url));
        fake.fail({ method: "DELETE", path: /\/keys\//, ...htmlNotFound });

        const error = await rejectionOf(provider.call("delete", created.id, created.outs));

        assert.match(error.message, /status 404/);
        assert.match(error.message, /check the openrouterApiUrl setting/);
        assert.equal(fake.liveKeys().length, 1);
        assertNoSecrets(error.message, [managementKey, created.outs.key], "the error");
      } finally {
        await provider.close();
        await fake.close();
      }
    });

    it("does not report a key gone on an HTML 404", async () => {
      const fake = await startOpenRouterFake({ managementKeys: [managementKey] });
      const provider = await startSerializedProvider(openRouterKeyProvider, {
        config: providerConfig,
        env: fastHttpEnv,
      });
      try {
        const created = await provider.call("create", keyInputs(fake.url));
        fake.fail({ method: "GET", path: /\/keys\/[0-9a-f]{64}$/, ...htmlNotFound });

        const error = await rejectionOf(provider.call("read", created.id, created.outs));

        assert.match(error.message, /status 404/);
      } finally {
        await provider.close();
        await fake.close();
      }
    });

    it("still treats the API's own 404 as deleted", async () => {
      const fake = await startOpenRouterFake({ managementKeys: [managementKey] });
      const provider = await startSerializedProvider(openRouterKeyProvider, {
        config: providerConfig,
        env: fastHttpEnv,
      });
      try {
        const created = await provider.call("create", keyInputs(fake.url));
        await provider.call("delete", created.id, created.outs);

        await provider.call("delete", created.id, created.outs);

        const deletes = fake.requests.filter((request) => request.method === "DELETE");
        assert.deepEqual(
          deletes.map((request) => request.status),
          [200, 404],
        );
      } finally {
        await provider.close();
        await fake.close();
      }
    });
  });

  describe("Infisical client secret", () => {
    const secretInputs = (apiUrl: string) => ({
      apiUrl,
      identityId: operatorIdentityId,
      clientId: operatorClientId,
      rotationTrigger: "2026-01-05T05:17:00Z",
      descriptionPrefix: "anythingllm-test-operator",
      ttlSeconds: 37 * 86_400,
    });

    it("keeps a client secret whose revoke hits an unknown route", async () => {
      const { fake } = await startPopulatedInfisicalFake();
      const provider = await startSerializedProvider(infisicalClientSecretProvider, {
        config: providerConfig,
        env: fastHttpEnv,
      });
      try {
        const created = await provider.call("create", secretInputs(fake.apiUrl));
        fake.fail({ method: "POST", path: /\/revoke$/, ...routeNotFound });

        const error = await rejectionOf(provider.call("delete", created.id, created.outs));

        assert.match(error.message, /status 404/);
        assert.match(error.message, /check the infisicalHost setting/);
        assert.ok(fake.canLogin(operatorClientId, created.outs.clientSecret));
      } finally {
        await provider.close();
        await fake.close();
      }
    });

    it("does not report a client secret gone on an HTML 404", async () => {
      const { fake } = await startPopulatedInfisicalFake();
      const provider = await startSerializedProvider(infisicalClientSecretProvider, {
        config: providerConfig,
        env: fastHttpEnv,
      });
      try {
        const created = await provider.call("create", secretInputs(fake.apiUrl));
        fake.fail({ method: "GET", path: /\/client-secrets\/[0-9a-f-]{36}$/, ...htmlNotFound });

        const error = await rejectionOf(provider.call("read", created.id, created.outs));

        assert.match(error.message, /status 404/);
      } finally {
        await provider.close();
        await fake.close();
      }
    });

    it("sends the verification login once", async () => {
      const { fake } = await startPopulatedInfisicalFake();
      const provider = await startSerializedProvider(infisicalClientSecretProvider, {
        config: providerConfig,
        env: fastHttpEnv,
      });
      try {
        // The first login is the program's own; the second checks the new client secret. The
        // server counts the second, then the connection drops before the response.
        fake.fail({
          method: "POST",
          path: loginPath,
          skip: 1,
          afterProcessing: true,
          resetConnection: true,
        });

        const error = await rejectionOf(provider.call("create", secretInputs(fake.apiUrl)));

        const logins = fake.requests.filter((request) => request.path === loginPath);
        const created = fake
          .clientSecrets(operatorIdentityId)
          .filter((secret) => secret.description.startsWith("anythingllm-test-operator"));
        assert.match(error.message, /could not log in/);
        assert.equal(logins.length, 2);
        assert.equal(created.length, 1);
        assert.equal(created[0].numUses, 1);
        assert.equal(created[0].revoked, true);
      } finally {
        await provider.close();
        await fake.close();
      }
    });
  });

  describe("Infisical secret value", () => {
    it("does not report a secret gone on an HTML 404", async () => {
      const { fake } = await startPopulatedInfisicalFake();
      const provider = await startSerializedProvider(infisicalSecretValueProvider, {
        config: providerConfig,
        env: fastHttpEnv,
      });
      try {
        const inputs = {
          apiUrl: fake.apiUrl,
          projectSlug,
          environment: "prod",
          secretPath: "/",
          secretName: "OPENROUTER_API_KEY",
          value: "sk-or-v1-NEW-PLACEHOLDER",
        };
        const created = await provider.call("create", inputs);
        fake.fail({ method: "GET", path: /\/secrets\/raw\//, ...htmlNotFound });

        const error = await rejectionOf(provider.call("read", created.id, created.outs));

        assert.match(error.message, /status 404/);
      } finally {
        await provider.close();
        await fake.close();
      }
    });
  });

  describe("echoed Authorization header", () => {
    it("is removed from the error with its scheme", async () => {
      const fake = await startOpenRouterFake({ managementKeys: [managementKey] });
      const provider = await startSerializedProvider(openRouterKeyProvider, {
        config: providerConfig,
        env: fastHttpEnv,
      });
      try {
        fake.fail({
          method: "GET",
          path: "/api/v1/keys",
          status: 400,
          body: { error: { code: 400, message: `bad header: Bearer ${managementKey}` } },
        });

        const error = await rejectionOf(
          provider.call("create", {
            apiUrl: fake.url,
            namePrefix: "anythingllm-test-openrouter",
            rotationTrigger: "2026-01-05T05:17:00Z",
          }),
        );

        assert.match(error.message, /status 400/);
        assert.match(error.message, /bad header: \[redacted\]/);
        assertNoSecrets(error.message, [managementKey], "the error");
      } finally {
        await provider.close();
        await fake.close();
      }
    });
  });
});
