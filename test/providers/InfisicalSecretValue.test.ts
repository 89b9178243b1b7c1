import assert from "node:assert/strict";

import { infisicalSecretValueProvider } from "../../providers/InfisicalSecretValue";
import { InfisicalFake } from "../fakes/infisical";
import {
  loginPath,
  projectSlug,
  requestLines,
  startPopulatedInfisicalFake,
} from "../support/infisicalSetup";
import {
  assertNoSecrets,
  fastHttpEnv,
  programClientId,
  programClientSecret,
  providerConfig,
  rejectionOf,
} from "../support/placeholders";
import { SerializedProvider, startSerializedProvider } from "../support/serializedProvider";

const secretName = "OPENROUTER_API_KEY";
const secretPath = `/api/v3/secrets/raw/${secretName}`;
const oldValue = "sk-or-v1-OLD-PLACEHOLDER";
const newValue = "sk-or-v1-NEW-PLACEHOLDER";
const secrets = [programClientSecret, oldValue, newValue];

function inputsFor(fake: InfisicalFake, overrides: Record<string, unknown> = {}) {
  return {
    apiUrl: fake.apiUrl,
    projectSlug,
    environment: "prod",
    secretPath: "/",
    secretName,
    value: newValue,
    ...overrides,
  };
}

function requestsTo(fake: InfisicalFake, method: string, path = secretPath) {
  return fake.requests.filter((request) => request.method === method && request.path === path);
}

function storedValue(fake: InfisicalFake): string | undefined {
  return fake.getSecretValue(projectSlug, "prod", "/", secretName);
}

describe("InfisicalSecretValue provider", function () {
  this.timeout(30_000);

  let fake: InfisicalFake;
  let provider: SerializedProvider;

  before(async () => {
    provider = await startSerializedProvider(infisicalSecretValueProvider, {
      config: providerConfig,
      env: fastHttpEnv,
    });
  });

  after(async () => {
    await provider.close();
  });

  beforeEach(async () => {
    ({ fake } = await startPopulatedInfisicalFake());
  });

  afterEach(async () => {
    await fake.close();
  });

  describe("check", () => {
    it("accepts valid inputs and normalises the host", async () => {
      const result = await provider.call("check", {}, inputsFor(fake, { apiUrl: `${fake.url}/` }));

      assert.deepEqual(result.failures, []);
      assert.equal(result.inputs.apiUrl, `${fake.url}/api`);
    });

    const invalidCases: Array<[string, Record<string, unknown>]> = [
      ["apiUrl", { apiUrl: "infisical.example.test" }],
      ["projectSlug", { projectSlug: "" }],
      ["environment", { environment: "" }],
      ["secretPath", { secretPath: "app" }],
      ["secretName", { secretName: "A/B" }],
      ["value", { value: 42 }],
    ];
    for (const [property, override] of invalidCases) {
      it(`rejects an invalid ${property}`, async () => {
        const result = await provider.call("check", {}, inputsFor(fake, override));

        const properties = result.failures.map((failure: { property: string }) => failure.property);
        assert.deepEqual(properties, [property]);
      });
    }

    it("says a secretPath must start with a slash", async () => {
      const result = await provider.call("check", {}, inputsFor(fake, { secretPath: "app" }));

      assert.match(result.failures[0].reason, /must start with "\/"/);
      assert.match(result.failures[0].reason, /"app"/);
    });

    it("fails without Infisical credentials", async () => {
      const bare = await startSerializedProvider(infisicalSecretValueProvider, {
        env: fastHttpEnv,
      });
      try {
        const error = await rejectionOf(bare.call("check", {}, inputsFor(fake)));

        assert.match(error.message, /pulumi config set anythingllm-secrets:infisicalClientId/);
        assert.match(error.message, /INFISICAL_UNIVERSAL_AUTH_CLIENT_ID/);
        assert.equal(fake.requests.length, 0);
      } finally {
        await bare.close();
      }
    });

    it("reads credentials from the environment", async () => {
      const envProvider = await startSerializedProvider(infisicalSecretValueProvider, {
        env: {
          ...fastHttpEnv,
          INFISICAL_UNIVERSAL_AUTH_CLIENT_ID: programClientId,
          INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET: programClientSecret,
        },
      });
      try {
        await envProvider.call("create", inputsFor(fake));

        assert.equal(storedValue(fake), newValue);
      } finally {
        await envProvider.close();
      }
    });
  });

  describe("host spellings", () => {
    for (const suffix of ["", "/", "/api", "/api/"]) {
      it(`reaches the login from host${suffix}`, async () => {
        await provider.call("create", inputsFor(fake, { apiUrl: `${fake.url}${suffix}` }));

        const paths = fake.requests.map((request) => request.path);
        assert.equal(paths[0], loginPath);
        assert.equal(paths[1], secretPath);
        for (const path of paths) {
          assert.ok(!path.includes("//"), `${path} contains //`);
          assert.ok(!path.startsWith("/api/api"), `${path} repeats /api`);
        }
      });
    }

    it("fails once on an HTML login page", async () => {
      fake.serveHtmlAt("/api/v1/auth");

      const error = await rejectionOf(provider.call("create", inputsFor(fake)));

      assert.equal(
        error.message,
        `Infisical API returned non-JSON (text/html) from ${fake.url}${loginPath}; ` +
          "check the infisicalHost setting",
      );
      assert.deepEqual(requestLines(fake), [`POST ${loginPath}`]);
    });
  });

  describe("login", () => {
    it("sends no Authorization header", async () => {
      await provider.call("create", inputsFor(fake));

      const login = fake.requests[0];
      assert.equal(login.path, loginPath);
      assert.equal(login.headers.authorization, undefined);
      assert.deepEqual(login.body, {
        clientId: programClientId,
        clientSecret: programClientSecret,
      });
    });

    it("reuses the access token", async () => {
      await provider.call("create", inputsFor(fake));
      await provider.call("update", "id", inputsFor(fake), inputsFor(fake, { value: oldValue }));

      assert.equal(requestsTo(fake, "POST", loginPath).length, 1);
    });

    it("logs in again after a rejected token", async () => {
      await provider.call("create", inputsFor(fake));
      fake.fail({ method: "PATCH", path: secretPath, status: 401 });

      await provider.call("update", "id", inputsFor(fake), inputsFor(fake, { value: oldValue }));

      assert.equal(requestsTo(fake, "POST", loginPath).length, 2);
      assert.equal(requestsTo(fake, "PATCH").length, 2);
      assert.equal(storedValue(fake), oldValue);
    });

    it("logs in again after an expired token", async () => {
      await fake.close();
      ({ fake } = await startPopulatedInfisicalFake({ programTokenTtlSeconds: 60 }));
      await provider.call("create", inputsFor(fake));
      fake.clock.advance(120_000);

      await provider.call("update", "id", inputsFor(fake), inputsFor(fake, { value: oldValue }));

      const patches = requestsTo(fake, "PATCH");
      assert.deepEqual(
        patches.map((request) => request.status),
        [403, 200],
      );
      assert.equal(requestsTo(fake, "POST", loginPath).length, 2);
    });

    it("reports a login 500 without secrets", async () => {
      fake.fail({ method: "POST", path: loginPath, status: 500 });

      const error = await rejectionOf(provider.call("create", inputsFor(fake)));

      assert.match(error.message, /^Infisical POST /);
      assert.match(error.message, new RegExp(`http://127\\.0\\.0\\.1:\\d+${loginPath}`));
      assert.match(error.message, /status 500 InternalServerError: Something went wrong/);
      assertNoSecrets(error.message, secrets, "the error");
      assertNoSecrets(provider.output(), secrets, "the child output");
    });

    it("reports wrong credentials with the settings", async () => {
      const wrong = await startSerializedProvider(infisicalSecretValueProvider, {
        config: {
          ...providerConfig,
          "anythingllm-secrets:infisicalClientSecret": "cs-WRONG-PLACEHOLDER",
        },
        env: fastHttpEnv,
      });
      try {
        const error = await rejectionOf(wrong.call("create", inputsFor(fake)));

        assert.match(error.message, /status 401 UnauthorizedError: Invalid credentials/);
        assert.match(error.message, /anythingllm-secrets:infisicalClientSecret/);
        assertNoSecrets(error.message, ["cs-WRONG-PLACEHOLDER", ...secrets], "the error");
      } finally {
        await wrong.close();
      }
    });
  });

  describe("create", () => {
    it("posts a new secret with projectSlug", async () => {
      const result = await provider.call("create", inputsFor(fake));

      assert.equal(storedValue(fake), newValue);
      const posts = requestsTo(fake, "POST");
      assert.equal(posts.length, 1);
      assert.deepEqual(posts[0].body, {
        projectSlug,
        environment: "prod",
        secretPath: "/",
        type: "shared",
        secretValue: newValue,
      });
      assert.equal(result.id, `${projectSlug}:prod:/:${secretName}`);
      assert.equal(result.outs.value, newValue);
      assert.equal(result.outs.apiUrl, fake.apiUrl);
    });

    for (const legacy of [false, true]) {
      it(`updates an existing secret (legacy text ${legacy})`, async () => {
        await fake.close();
        ({ fake } = await startPopulatedInfisicalFake({ legacyAlreadyExistMessage: legacy }));
        fake.setSecretValue(projectSlug, "prod", "/", secretName, oldValue);

        await provider.call("create", inputsFor(fake));

        const writes = fake.requests.filter((request) => request.path === secretPath);
        assert.deepEqual(
          writes.map((request) => `${request.method} ${request.status}`),
          ["POST 400", "PATCH 200"],
        );
        assert.equal(storedValue(fake), newValue);
      });
    }

    it("sends no rename field on PATCH", async () => {
      fake.setSecretValue(projectSlug, "prod", "/", secretName, oldValue);

      await provider.call("create", inputsFor(fake));

      const patch = requestsTo(fake, "PATCH")[0];
      assert.equal(patch.status, 200);
      assert.equal("newSecretName" in (patch.body as object), false);
    });

    it("fails on another 400 without fallback", async () => {
      fake.fail({
        method: "POST",
        path: secretPath,
        status: 400,
        body: { statusCode: 400, error: "BadRequest", message: "Secret name must be in UPPERCASE" },
      });

      const error = await rejectionOf(provider.call("create", inputsFor(fake)));

      assert.match(error.message, /status 400 BadRequest: Secret name must be in UPPERCASE/);
      assert.equal(requestsTo(fake, "PATCH").length, 0);
      assertNoSecrets(error.message, secrets, "the error");
    });
  });

  describe("update", () => {
    it("patches the new value", async () => {
      fake.setSecretValue(projectSlug, "prod", "/", secretName, oldValue);

      const result = await provider.call(
        "update",
        "id",
        inputsFor(fake, { value: oldValue }),
        inputsFor(fake),
      );

      assert.equal(storedValue(fake), newValue);
      assert.equal(requestsTo(fake, "PATCH").length, 1);
      assert.equal(requestsTo(fake, "POST").length, 0);
      assert.equal("newSecretName" in (requestsTo(fake, "PATCH")[0].body as object), false);
      assert.equal(result.outs.value, newValue);
    });

    it("creates once when PATCH returns 404", async () => {
      const result = await provider.call(
        "update",
        "id",
        inputsFor(fake, { value: oldValue }),
        inputsFor(fake),
      );

      const writes = fake.requests.filter((request) => request.path === secretPath);
      assert.deepEqual(
        writes.map((request) => `${request.method} ${request.status}`),
        ["PATCH 404", "POST 200"],
      );
      assert.equal(storedValue(fake), newValue);
      assert.equal(result.outs.value, newValue);
    });

    for (const status of [400, 403, 422]) {
      it(`fails on ${status} without fallback`, async () => {
        fake.setSecretValue(projectSlug, "prod", "/", secretName, oldValue);
        fake.fail({ method: "PATCH", path: secretPath, status });

        const error = await rejectionOf(
          provider.call("update", "id", inputsFor(fake, { value: oldValue }), inputsFor(fake)),
        );

        assert.match(error.message, new RegExp(`PATCH http://127\\.0\\.0\\.1:\\d+${secretPath}`));
        assert.match(error.message, new RegExp(`status ${status}`));
        assert.equal(requestsTo(fake, "PATCH").length, 1);
        assert.equal(requestsTo(fake, "POST").length, 0);
        assert.equal(storedValue(fake), oldValue);
        assertNoSecrets(error.message, secrets, "the error");
      });
    }

    it("sends nothing when only __provider changed", async () => {
      const olds = { ...inputsFor(fake), __provider: "exports.handler = old;" };
      const news = { ...inputsFor(fake), __provider: "exports.handler = new;" };

      const result = await provider.call("update", "id", olds, news);

      assert.equal(fake.requests.length, 0);
      assert.equal(result.outs.value, newValue);
    });

    it("reports a reset PATCH without secrets", async () => {
      fake.setSecretValue(projectSlug, "prod", "/", secretName, oldValue);
      fake.fail({ method: "PATCH", path: secretPath, resetConnection: true, times: Infinity });

      const error = await rejectionOf(
        provider.call("update", "id", inputsFor(fake, { value: oldValue }), inputsFor(fake)),
      );

      assert.match(
        error.message,
        new RegExp(`^Infisical PATCH http://127\\.0\\.0\\.1:\\d+${secretPath} failed`),
      );
      assert.match(error.message, /connection reset \(ECONNRESET\)/);
      assertNoSecrets(error.message, secrets, "the error");
      assertNoSecrets(provider.output(), secrets, "the child output");
    });
  });

  describe("rate limits", () => {
    it("waits out two 429s on PATCH", async () => {
      fake.setSecretValue(projectSlug, "prod", "/", secretName, oldValue);
      fake.fail({
        method: "PATCH",
        path: secretPath,
        status: 429,
        headers: { "retry-after": "1" },
        times: 2,
      });
      const startMs = Date.now();

      await provider.call("update", "id", inputsFor(fake, { value: oldValue }), inputsFor(fake));

      const elapsedMs = Date.now() - startMs;
      assert.ok(elapsedMs >= 2000, `retried after ${elapsedMs} ms, before Retry-After`);
      assert.equal(requestsTo(fake, "PATCH").length, 3);
      assert.equal(storedValue(fake), newValue);
    });

    it("fails past the retry cap", async () => {
      fake.setSecretValue(projectSlug, "prod", "/", secretName, oldValue);
      fake.fail({
        method: "PATCH",
        path: secretPath,
        status: 429,
        headers: { "retry-after": "1" },
        times: Infinity,
      });

      const error = await rejectionOf(
        provider.call("update", "id", inputsFor(fake, { value: oldValue }), inputsFor(fake)),
      );

      assert.match(error.message, /rate limited/);
      assert.match(error.message, new RegExp(`PATCH http://127\\.0\\.0\\.1:\\d+${secretPath}`));
      assert.equal(requestsTo(fake, "PATCH").length, 4);
      assert.equal(storedValue(fake), oldValue);
    });
  });

  describe("read", () => {
    it("returns the stored value with workspaceSlug", async () => {
      const created = await provider.call("create", inputsFor(fake));
      fake.setSecretValue(projectSlug, "prod", "/", secretName, oldValue);

      const result = await provider.call("read", created.id, created.outs);

      assert.equal(result.id, created.id);
      assert.equal(result.props.value, oldValue);
      const get = requestsTo(fake, "GET")[0];
      assert.equal(get.query.workspaceSlug, projectSlug);
      assert.equal(get.query.environment, "prod");
      assert.equal(get.query.secretPath, "/");
      assert.equal(get.query.viewSecretValue, "true");
      assert.equal(get.query.projectSlug, undefined);
    });

    it("returns an empty id for a deleted secret", async () => {
      const created = await provider.call("create", inputsFor(fake));
      await provider.call("delete", created.id, created.outs);

      const result = await provider.call("read", created.id, created.outs);

      assert.equal(result.id, "");
    });
  });

  describe("delete", () => {
    it("deletes with projectSlug in the body", async () => {
      const created = await provider.call("create", inputsFor(fake));

      await provider.call("delete", created.id, created.outs);

      assert.equal(storedValue(fake), undefined);
      const request = requestsTo(fake, "DELETE")[0];
      assert.deepEqual(request.body, {
        projectSlug,
        environment: "prod",
        secretPath: "/",
        type: "shared",
      });
    });

    it("treats 404 as already deleted", async () => {
      await provider.call("delete", "id", inputsFor(fake));

      assert.deepEqual(
        requestsTo(fake, "DELETE").map((request) => request.status),
        [404],
      );
    });
  });

  describe("diff", () => {
    it("ignores a changed __provider", async () => {
      const olds = { ...inputsFor(fake), __provider: "exports.handler = old;" };
      const news = { ...inputsFor(fake), __provider: "exports.handler = new;" };

      const result = await provider.call("diff", "id", olds, news);

      assert.equal(result.changes, false);
      assert.deepEqual(result.replaces, []);
    });

    const cases: Array<[string, Record<string, unknown>, string[]]> = [
      ["projectSlug", { projectSlug: "other" }, ["projectSlug"]],
      ["environment", { environment: "dev" }, ["environment"]],
      ["secretPath", { secretPath: "/app" }, ["secretPath"]],
      ["secretName", { secretName: "JWT_SECRET" }, ["secretName"]],
      ["value", { value: oldValue }, []],
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

    it("treats another host spelling as no change", async () => {
      const result = await provider.call(
        "diff",
        "id",
        inputsFor(fake),
        inputsFor(fake, { apiUrl: `${fake.url}/` }),
      );

      assert.equal(result.changes, false);
    });
  });
});
