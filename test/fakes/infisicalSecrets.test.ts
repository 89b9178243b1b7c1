import * as assert from "node:assert";

import { FakeClock } from "./faults";
import { SendOptions, send } from "./httpClient";
import { InfisicalFake, hiddenSecretValue, startInfisicalFake } from "./infisical";

const projectId = "6a1f0c3e-0000-4000-8000-00000000a001";
const writerId = "6a1f0c3e-0000-4000-8000-00000000b001";
const writerClientId = "6a1f0c3e-0000-4000-8000-00000000c001";
const readerId = "6a1f0c3e-0000-4000-8000-00000000b002";
const readerClientId = "6a1f0c3e-0000-4000-8000-00000000c002";
const writerSecret = "cs-WRITER-PLACEHOLDER";
const readerSecret = "cs-READER-PLACEHOLDER";
const oldValue = "sk-or-v1-OLD-PLACEHOLDER";
const newValue = "sk-or-v1-NEW-PLACEHOLDER";
const rawSecretFields = [
  "_id",
  "createdAt",
  "environment",
  "id",
  "secretComment",
  "secretKey",
  "secretReminderNote",
  "secretReminderRepeatDays",
  "secretValue",
  "skipMultilineEncoding",
  "type",
  "updatedAt",
  "version",
  "workspace",
];

describe("startInfisicalFake secrets", () => {
  let fake: InfisicalFake;
  let writerToken: string;
  let readerToken: string;

  beforeEach(async () => {
    fake = await startInfisicalFake({ clock: new FakeClock({ frozen: true }) });
    fake.addProject({ id: projectId, slug: "demo-proj", environments: ["dev", "prod"] });
    fake.addIdentity({ id: writerId, clientId: writerClientId, role: "writer" });
    fake.addIdentity({ id: readerId, clientId: readerClientId, role: "reader" });
    fake.addClientSecret(writerId, { secret: writerSecret });
    fake.addClientSecret(readerId, { secret: readerSecret });
    fake.setSecretValue("demo-proj", "prod", "/", "OPENROUTER_API_KEY", oldValue);
    writerToken = await tokenFor(writerClientId, writerSecret);
    readerToken = await tokenFor(readerClientId, readerSecret);
  });

  afterEach(async () => {
    await fake.close();
  });

  async function tokenFor(clientId: string, clientSecret: string): Promise<string> {
    const response = await send(`${fake.apiUrl}/v1/auth/universal-auth/login`, {
      method: "POST",
      json: { clientId, clientSecret },
    });
    return response.json.accessToken;
  }

  function call(method: string, path: string, options: SendOptions & { token?: string } = {}) {
    const token = options.token ?? writerToken;
    const headers = { ...(options.headers ?? {}), authorization: `Bearer ${token}` };
    return send(`${fake.apiUrl}${path}`, { ...options, method, headers });
  }

  function secretPath(name: string, query = ""): string {
    return `/v3/secrets/raw/${encodeURIComponent(name)}${query === "" ? "" : `?${query}`}`;
  }

  function assertError(response: { status: number; json: any }, status: number, error: string) {
    assert.strictEqual(response.status, status);
    assert.strictEqual(response.json.statusCode, status);
    assert.strictEqual(response.json.error, error);
    assert.match(response.json.reqId, /^req-[A-Za-z0-9]{14}$/);
  }

  const storedValue = (name = "OPENROUTER_API_KEY") =>
    fake.getSecretValue("demo-proj", "prod", "/", name);

  describe("POST", () => {
    it("creates a secret and returns the bare RawSecret", async () => {
      const response = await call("POST", secretPath("JWT_SECRET"), {
        json: {
          projectSlug: "demo-proj",
          environment: "prod",
          secretPath: "/",
          secretValue: "jwt",
        },
      });

      assert.strictEqual(response.status, 200);
      assert.deepStrictEqual(Object.keys(response.json.secret).sort(), rawSecretFields);
      assert.strictEqual(response.json.secret.secretKey, "JWT_SECRET");
      assert.strictEqual(response.json.secret.secretValue, "jwt");
      assert.strictEqual(response.json.secret.workspace, projectId);
      assert.strictEqual(response.json.secret.version, 1);
      assert.strictEqual(storedValue("JWT_SECRET"), "jwt");
    });

    it("accepts workspaceId in the body", async () => {
      const response = await call("POST", secretPath("JWT_SECRET"), {
        json: { workspaceId: projectId, environment: "prod", secretValue: "jwt" },
      });

      assert.strictEqual(response.status, 200);
    });

    const wrongNames: Array<[string, Record<string, string>]> = [
      ["workspaceSlug", { workspaceSlug: "demo-proj" }],
      ["projectId", { projectId }],
      ["no project", {}],
    ];
    for (const [description, project] of wrongNames) {
      it(`drops ${description} and returns 400`, async () => {
        const response = await call("POST", secretPath("JWT_SECRET"), {
          json: { ...project, environment: "prod", secretValue: "jwt" },
        });

        assertError(response, 400, "BadRequest");
        assert.strictEqual(response.json.message, "You must provide projectSlug or workspaceId");
        assert.strictEqual(storedValue("JWT_SECRET"), undefined);
      });
    }

    it("returns 404 for an unknown project slug", async () => {
      const response = await call("POST", secretPath("JWT_SECRET"), {
        json: { projectSlug: "other-proj", environment: "prod", secretValue: "jwt" },
      });

      assertError(response, 404, "NotFound");
      assert.strictEqual(response.json.message, "No project found with slug other-proj");
    });

    const invalidBodies: Array<[string, Record<string, unknown>, string]> = [
      ["a missing environment", { projectSlug: "demo-proj", secretValue: "v" }, "environment"],
      ["a missing secretValue", { projectSlug: "demo-proj", environment: "prod" }, "secretValue"],
      [
        "a numeric secretValue",
        { projectSlug: "demo-proj", environment: "prod", secretValue: 5 },
        "secretValue",
      ],
    ];
    for (const [description, body, field] of invalidBodies) {
      it(`rejects ${description} with 422`, async () => {
        const response = await call("POST", secretPath("JWT_SECRET"), { json: body });

        assertError(response, 422, "ValidationFailure");
        assert.deepStrictEqual(response.json.message[0].path, [field]);
      });
    }

    for (const name of ["A:B", "A/B", " "]) {
      it(`rejects the name ${JSON.stringify(name)} with 422`, async () => {
        const response = await call("POST", secretPath(name), {
          json: { projectSlug: "demo-proj", environment: "prod", secretValue: "v" },
        });

        assertError(response, 422, "ValidationFailure");
        assert.deepStrictEqual(response.json.message[0].path, ["secretName"]);
      });
    }

    it("returns 400 when the secret exists", async () => {
      const response = await call("POST", secretPath("OPENROUTER_API_KEY"), {
        json: { projectSlug: "demo-proj", environment: "prod", secretValue: newValue },
      });

      assertError(response, 400, "BadRequest");
      assert.strictEqual(response.json.message, "Secret already exists");
      assert.strictEqual(storedValue(), oldValue);
    });

    it("names a missing folder CreateSecret", async () => {
      const response = await call("POST", secretPath("JWT_SECRET"), {
        json: { projectSlug: "demo-proj", environment: "production", secretValue: "v" },
      });

      assertError(response, 404, "CreateSecret");
      assert.strictEqual(
        response.json.message,
        "Folder with path '/' in environment with slug 'production' not found",
      );
    });

    it("rejects a personal secret from an identity", async () => {
      const response = await call("POST", secretPath("JWT_SECRET"), {
        json: { projectSlug: "demo-proj", environment: "prod", secretValue: "v", type: "personal" },
      });

      assertError(response, 400, "BadRequest");
    });

    it("trims the value but keeps one trailing newline", async () => {
      await call("POST", secretPath("A"), {
        json: { projectSlug: "demo-proj", environment: "prod", secretValue: "  spaced  " },
      });
      await call("POST", secretPath("B"), {
        json: { projectSlug: "demo-proj", environment: "prod", secretValue: " line\n" },
      });

      assert.strictEqual(storedValue("A"), "spaced");
      assert.strictEqual(storedValue("B"), "line\n");
    });
  });

  describe("POST with the older message", () => {
    it("returns 'Secret already exist'", async () => {
      const legacy = await startInfisicalFake({ legacyAlreadyExistMessage: true });
      try {
        legacy.addProject({ id: projectId, slug: "demo-proj", environments: ["prod"] });
        legacy.addIdentity({ id: writerId, clientId: writerClientId, role: "writer" });
        legacy.addClientSecret(writerId, { secret: writerSecret });
        legacy.setSecretValue("demo-proj", "prod", "/", "OPENROUTER_API_KEY", oldValue);
        const login = await send(`${legacy.apiUrl}/v1/auth/universal-auth/login`, {
          method: "POST",
          json: { clientId: writerClientId, clientSecret: writerSecret },
        });

        const response = await send(`${legacy.apiUrl}${secretPath("OPENROUTER_API_KEY")}`, {
          method: "POST",
          headers: { authorization: `Bearer ${login.json.accessToken}` },
          json: { projectSlug: "demo-proj", environment: "prod", secretValue: newValue },
        });

        assert.strictEqual(response.status, 400);
        assert.strictEqual(response.json.message, "Secret already exist");
      } finally {
        await legacy.close();
      }
    });
  });

  describe("PATCH", () => {
    it("updates the value and echoes the value sent", async () => {
      const response = await call("PATCH", secretPath("OPENROUTER_API_KEY"), {
        json: {
          projectSlug: "demo-proj",
          environment: "prod",
          secretPath: "/",
          secretValue: newValue,
        },
      });

      assert.strictEqual(response.status, 200);
      assert.strictEqual(response.json.secret.secretValue, newValue);
      assert.strictEqual(response.json.secret.secretValueHidden, false);
      assert.strictEqual(response.json.secret.version, 2);
      assert.strictEqual(storedValue(), newValue);
    });

    it("echoes an empty value when none is sent", async () => {
      const response = await call("PATCH", secretPath("OPENROUTER_API_KEY"), {
        json: { projectSlug: "demo-proj", environment: "prod", secretComment: "rotated" },
      });

      assert.strictEqual(response.status, 200);
      assert.strictEqual(response.json.secret.secretValue, "");
      assert.strictEqual(storedValue(), oldValue);
    });

    it("returns 404 for a missing secret", async () => {
      const response = await call("PATCH", secretPath("JWT_SECRET"), {
        json: { projectSlug: "demo-proj", environment: "prod", secretValue: "v" },
      });

      assertError(response, 404, "NotFound");
      assert.strictEqual(response.json.message, "Secret with name JWT_SECRET not found");
      assert.strictEqual(storedValue("JWT_SECRET"), undefined);
    });

    it("rejects a rename to the current name", async () => {
      const response = await call("PATCH", secretPath("OPENROUTER_API_KEY"), {
        json: {
          projectSlug: "demo-proj",
          environment: "prod",
          secretValue: newValue,
          newSecretName: "OPENROUTER_API_KEY",
        },
      });

      assertError(response, 400, "BadRequest");
      assert.strictEqual(response.json.message, "Secret with the new name already exists");
      assert.strictEqual(storedValue(), oldValue);
    });

    it("renames to a free name", async () => {
      const response = await call("PATCH", secretPath("OPENROUTER_API_KEY"), {
        json: { projectSlug: "demo-proj", environment: "prod", newSecretName: "OPENROUTER_KEY" },
      });

      assert.strictEqual(response.status, 200);
      assert.strictEqual(storedValue(), undefined);
      assert.strictEqual(storedValue("OPENROUTER_KEY"), oldValue);
    });

    it("rejects a new name with a colon", async () => {
      const response = await call("PATCH", secretPath("OPENROUTER_API_KEY"), {
        json: { projectSlug: "demo-proj", environment: "prod", newSecretName: "A:B" },
      });

      assertError(response, 422, "ValidationFailure");
    });

    it("names a missing folder UpdateSecret", async () => {
      const response = await call("PATCH", secretPath("OPENROUTER_API_KEY"), {
        json: {
          projectSlug: "demo-proj",
          environment: "prod",
          secretPath: "app",
          secretValue: "v",
        },
      });

      assertError(response, 404, "UpdateSecret");
    });

    it("rejects a missing environment with 422", async () => {
      const response = await call("PATCH", secretPath("OPENROUTER_API_KEY"), {
        json: { projectSlug: "demo-proj", secretValue: newValue },
      });

      assertError(response, 422, "ValidationFailure");
      assert.strictEqual(storedValue(), oldValue);
    });

    it("drops workspaceSlug in the body", async () => {
      const response = await call("PATCH", secretPath("OPENROUTER_API_KEY"), {
        json: { workspaceSlug: "demo-proj", environment: "prod", secretValue: newValue },
      });

      assertError(response, 400, "BadRequest");
      assert.strictEqual(storedValue(), oldValue);
    });
  });

  describe("DELETE", () => {
    it("deletes with a JSON body and returns the old value", async () => {
      const response = await call("DELETE", secretPath("OPENROUTER_API_KEY"), {
        json: { projectSlug: "demo-proj", environment: "prod", secretPath: "/" },
      });

      assert.strictEqual(response.status, 200);
      assert.strictEqual(response.json.secret.secretValue, oldValue);
      assert.strictEqual(storedValue(), undefined);
    });

    it("returns 404 for a missing secret", async () => {
      const response = await call("DELETE", secretPath("JWT_SECRET"), {
        json: { projectSlug: "demo-proj", environment: "prod" },
      });

      assertError(response, 404, "NotFound");
      assert.strictEqual(response.json.message, "Secret not found");
    });

    it("rejects a delete without a body with 422", async () => {
      const response = await call("DELETE", secretPath("OPENROUTER_API_KEY"));

      assertError(response, 422, "ValidationFailure");
      assert.strictEqual(storedValue(), oldValue);
    });

    it("ignores the project in the query", async () => {
      const response = await call(
        "DELETE",
        secretPath("OPENROUTER_API_KEY", "projectSlug=demo-proj&environment=prod"),
        { json: {} },
      );

      assertError(response, 422, "ValidationFailure");
      assert.strictEqual(storedValue(), oldValue);
    });

    it("names a missing folder DeleteSecret", async () => {
      const response = await call("DELETE", secretPath("OPENROUTER_API_KEY"), {
        json: { projectSlug: "demo-proj", environment: "staging" },
      });

      assertError(response, 404, "DeleteSecret");
    });
  });

  describe("GET one", () => {
    it("reads by workspaceSlug or workspaceId", async () => {
      const bySlug = await call(
        "GET",
        secretPath("OPENROUTER_API_KEY", "workspaceSlug=demo-proj&environment=prod"),
      );
      const byId = await call(
        "GET",
        secretPath("OPENROUTER_API_KEY", `workspaceId=${projectId}&environment=prod`),
      );

      assert.strictEqual(bySlug.status, 200);
      assert.strictEqual(bySlug.json.secret.secretValue, oldValue);
      assert.strictEqual(bySlug.json.secret.secretPath, "/");
      assert.strictEqual(bySlug.json.secret.secretValueHidden, false);
      assert.strictEqual(byId.status, 200);
    });

    it("drops projectSlug in the query", async () => {
      const response = await call(
        "GET",
        secretPath("OPENROUTER_API_KEY", "projectSlug=demo-proj&environment=prod"),
      );

      assertError(response, 400, "BadRequest");
      assert.strictEqual(response.json.message, "You must provide projectSlug or workspaceId");
    });

    it("returns 400 without an environment", async () => {
      const response = await call(
        "GET",
        secretPath("OPENROUTER_API_KEY", "workspaceSlug=demo-proj"),
      );

      assertError(response, 400, "BadRequest");
      assert.strictEqual(response.json.message, "Missing environment");
    });

    it("returns 404 for a missing secret", async () => {
      const response = await call(
        "GET",
        secretPath("JWT_SECRET", "workspaceSlug=demo-proj&environment=prod"),
      );

      assertError(response, 404, "NotFound");
      assert.strictEqual(response.json.message, "Secret with name 'JWT_SECRET' not found");
    });

    it("names a missing folder GetSecretByName", async () => {
      const response = await call(
        "GET",
        secretPath(
          "OPENROUTER_API_KEY",
          "workspaceSlug=demo-proj&environment=prod&secretPath=/app",
        ),
      );

      assertError(response, 404, "GetSecretByName");
    });

    it("hides the value when viewSecretValue=false", async () => {
      const response = await call(
        "GET",
        secretPath(
          "OPENROUTER_API_KEY",
          "workspaceSlug=demo-proj&environment=prod&viewSecretValue=false",
        ),
      );

      assert.strictEqual(response.json.secret.secretValue, hiddenSecretValue);
      assert.strictEqual(response.json.secret.secretValueHidden, true);
    });

    for (const flag of [
      "viewSecretValue=1",
      "expandSecretReferences=yes",
      "include_imports=True",
    ]) {
      it(`rejects ${flag} with 422`, async () => {
        const query = `workspaceSlug=demo-proj&environment=prod&${flag}`;

        const response = await call("GET", secretPath("OPENROUTER_API_KEY", query));

        assertError(response, 422, "ValidationFailure");
        assert.strictEqual(response.json.message[0].code, "invalid_enum_value");
      });
    }

    it("lets a reader read", async () => {
      const response = await call(
        "GET",
        secretPath("OPENROUTER_API_KEY", "workspaceSlug=demo-proj&environment=prod"),
        { token: readerToken },
      );

      assert.strictEqual(response.status, 200);
    });

    it("sends an ETag and honours If-None-Match", async () => {
      const path = secretPath("OPENROUTER_API_KEY", "workspaceSlug=demo-proj&environment=prod");
      const first = await call("GET", path);
      const etag = first.headers.get("etag") ?? "";

      const second = await call("GET", path, { headers: { "if-none-match": etag } });

      assert.match(etag, /^".+"$/);
      assert.strictEqual(second.status, 304);
      assert.strictEqual(second.text, "");
    });
  });

  describe("GET list", () => {
    beforeEach(() => {
      fake.setSecretValue("demo-proj", "prod", "/", "JWT_SECRET", "jwt");
      fake.setSecretValue("demo-proj", "prod", "/app", "NESTED", "nested");
    });

    it("lists the secrets of one folder", async () => {
      const response = await call(
        "GET",
        `/v3/secrets/raw?workspaceId=${projectId}&environment=prod`,
      );

      assert.strictEqual(response.status, 200);
      const keys = response.json.secrets.map((secret: { secretKey: string }) => secret.secretKey);
      assert.deepStrictEqual(keys, ["JWT_SECRET", "OPENROUTER_API_KEY"]);
      assert.ok(!("imports" in response.json));
    });

    it("includes subfolders when recursive", async () => {
      const response = await call(
        "GET",
        "/v3/secrets/raw?workspaceSlug=demo-proj&environment=prod" +
          "&recursive=true&include_imports=true",
      );

      const keys = response.json.secrets.map((secret: { secretKey: string }) => secret.secretKey);
      assert.deepStrictEqual(keys, ["JWT_SECRET", "NESTED", "OPENROUTER_API_KEY"]);
      assert.deepStrictEqual(response.json.imports, []);
    });

    it("strips a trailing slash from secretPath", async () => {
      const response = await call(
        "GET",
        `/v3/secrets/raw?workspaceSlug=demo-proj&environment=prod&secretPath=/app/`,
      );

      assert.strictEqual(response.status, 200);
      assert.strictEqual(response.json.secrets[0].secretKey, "NESTED");
    });

    it("returns 400 without a project or environment", async () => {
      const noProject = await call("GET", "/v3/secrets/raw?environment=prod");
      const noEnvironment = await call("GET", "/v3/secrets/raw?workspaceSlug=demo-proj");

      for (const response of [noProject, noEnvironment]) {
        assertError(response, 400, "BadRequest");
        assert.strictEqual(response.json.message, "Missing project id or environment");
      }
    });

    it("names a missing folder SecretPathNotFound", async () => {
      const response = await call(
        "GET",
        "/v3/secrets/raw?workspaceSlug=demo-proj&environment=prod&secretPath=app",
      );

      assertError(response, 404, "SecretPathNotFound");
    });
  });

  describe("reader identity", () => {
    const writes: Array<[string, string, Record<string, unknown>]> = [
      ["POST", "JWT_SECRET", { secretValue: "v" }],
      ["PATCH", "OPENROUTER_API_KEY", { secretValue: newValue }],
      ["DELETE", "OPENROUTER_API_KEY", {}],
    ];
    for (const [method, name, extra] of writes) {
      it(`is denied ${method}`, async () => {
        const response = await call(method, secretPath(name), {
          token: readerToken,
          json: { projectSlug: "demo-proj", environment: "prod", ...extra },
        });

        assertError(response, 403, "PermissionDenied");
        assert.strictEqual(storedValue(), oldValue);
        assert.strictEqual(storedValue("JWT_SECRET"), undefined);
      });
    }
  });

  describe("faults", () => {
    it("send the rate-limit body with Retry-After", async () => {
      const path = "/api/v3/secrets/raw/OPENROUTER_API_KEY";
      fake.fail({ method: "PATCH", path, status: 429, headers: { "retry-after": "1" } });

      const response = await call("PATCH", secretPath("OPENROUTER_API_KEY"), {
        json: { projectSlug: "demo-proj", environment: "prod", secretValue: newValue },
      });

      assertError(response, 429, "RateLimitExceeded");
      assert.strictEqual(
        response.json.message,
        "Rate limit exceeded. Please try again in 1 seconds",
      );
      assert.strictEqual(response.headers.get("retry-after"), "1");
      assert.strictEqual(storedValue(), oldValue);
    });
  });

  describe("state helpers", () => {
    it("list copies of one folder", () => {
      fake.setSecretValue("demo-proj", "prod", "/", "JWT_SECRET", "jwt");

      const secrets = fake.listSecrets("demo-proj", "prod");
      secrets[0].value = "changed";

      assert.deepStrictEqual(
        secrets.map((secret) => secret.key),
        ["JWT_SECRET", "OPENROUTER_API_KEY"],
      );
      assert.strictEqual(storedValue("JWT_SECRET"), "jwt");
    });

    it("check a login without using up the secret", () => {
      const { secret } = fake.addClientSecret(readerId, { numUsesLimit: 1 });

      const first = fake.canLogin(readerClientId, secret);
      const second = fake.canLogin(readerClientId, secret);

      assert.strictEqual(first, true);
      assert.strictEqual(second, true);
      assert.strictEqual(fake.clientSecrets(readerId)[1].numUses, 0);
    });
  });
});
