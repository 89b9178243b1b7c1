import * as assert from "node:assert/strict";

import {
  checkEnvironment,
  findScopeProblems,
  ScopeSettings,
  verifyInfisicalScope,
} from "../../config/infisicalScope";
import { infisicalHost } from "../../config/rules";
import { StackConfigError } from "../../config/stackConfig";
import { clearProviderConfig, storeProviderConfig } from "../../providers/credentials";
import { clearInfisicalTokenCache } from "../../providers/infisicalAuth";
import { InfisicalFake, startInfisicalFake } from "../fakes/infisical";

const programIdentity = {
  id: "5e0c8a1f-2b3d-4c5e-8f90-a1b2c3d4e5f6",
  clientId: "0b7c2d4e-1111-4aaa-8bbb-123456789abc",
  secret: "cs-PROGRAM-PLACEHOLDER",
};

function normalisedHost(host: string): string {
  const result = infisicalHost(host);
  assert.ok(result.ok, `host ${host} should be valid`);
  return result.value;
}

describe("checkEnvironment", () => {
  const settings: ScopeSettings = {
    infisicalApiUrl: "https://infisical.example.test/api",
    projectSlug: "demo-proj",
    envSlug: "production",
    secretsPath: "/",
  };
  const project = { environments: ["dev", "staging", "prod"].map((slug) => ({ slug })) };

  it("accepts an environment of the project", () => {
    assert.equal(checkEnvironment({ ...settings, envSlug: "staging" }, project), undefined);
  });

  it("names envSlug, the bad value and the valid slugs", () => {
    const problem = checkEnvironment(settings, project);

    assert.equal(problem?.key, "envSlug");
    assert.match(problem!.message, /^envSlug "production" is not an environment/);
    assert.match(problem!.message, /"demo-proj"/);
    assert.match(problem!.message, /its environment slugs are dev, staging, prod\./);
  });

  it("suggests the slug that starts like the bad one", () => {
    const problem = checkEnvironment(settings, project);

    assert.match(problem!.message, /Fix: pulumi config set anythingllm-secrets:envSlug prod$/);
  });

  it("handles a project without environments", () => {
    const problem = checkEnvironment(settings, { environments: [] });

    assert.match(problem!.message, /slugs are \(none\)/);
    assert.match(problem!.message, /envSlug <env-slug>$/);
  });
});

describe("Infisical scope check", () => {
  let fake: InfisicalFake;
  let settings: ScopeSettings;

  before(async () => {
    process.env.ANYTHINGLLM_HTTP_RETRY_BASE_MS = "1";
    process.env.ANYTHINGLLM_HTTP_TIMEOUT_MS = "2000";
    fake = await startInfisicalFake();
    fake.addProject({ id: "proj-1", slug: "demo-proj", environments: ["dev", "staging", "prod"] });
    fake.addFolder("demo-proj", "prod", "/apps/anythingllm");
    fake.addIdentity({
      id: programIdentity.id,
      clientId: programIdentity.clientId,
      role: "writer",
    });
    fake.addClientSecret(programIdentity.id, { secret: programIdentity.secret });
  });

  after(async () => {
    await fake.close();
    delete process.env.ANYTHINGLLM_HTTP_RETRY_BASE_MS;
    delete process.env.ANYTHINGLLM_HTTP_TIMEOUT_MS;
  });

  beforeEach(() => {
    clearInfisicalTokenCache();
    fake.clearFaults();
    fake.requests.length = 0;
    storeProviderConfig({
      get: (key) =>
        ({
          "anythingllm-secrets:infisicalClientId": programIdentity.clientId,
          "anythingllm-secrets:infisicalClientSecret": programIdentity.secret,
        })[key],
    });
    settings = {
      infisicalApiUrl: normalisedHost(fake.url),
      projectSlug: "demo-proj",
      envSlug: "prod",
      secretsPath: "/apps/anythingllm",
    };
  });

  afterEach(() => {
    clearProviderConfig();
  });

  it("finds no problem in a valid scope", async () => {
    assert.deepEqual(await findScopeProblems(settings, []), []);
  });

  it("looks the project up by slug with a token", async () => {
    await findScopeProblems(settings, []);
    const lookup = fake.requests.find((request) => request.path === "/api/v2/workspace/demo-proj");

    assert.ok(lookup, "expected a project lookup");
    assert.equal(lookup.method, "GET");
    assert.equal(lookup.status, 200);
  });

  it("checks the folder with secret values hidden", async () => {
    await findScopeProblems(settings, []);
    const list = fake.requests.find((request) => request.path === "/api/v3/secrets/raw");

    assert.ok(list, "expected a folder check");
    assert.equal(list.query.workspaceSlug, "demo-proj");
    assert.equal(list.query.environment, "prod");
    assert.equal(list.query.secretPath, "/apps/anythingllm");
    assert.equal(list.query.viewSecretValue, "false");
  });

  it("reports an unknown environment with the valid slugs", async () => {
    const problems = await findScopeProblems({ ...settings, envSlug: "production" }, []);

    assert.equal(problems.length, 1);
    assert.equal(problems[0].key, "envSlug");
    assert.match(problems[0].message, /envSlug "production"/);
    assert.match(problems[0].message, /dev, staging, prod/);
  });

  it("reports an unknown project", async () => {
    const problems = await findScopeProblems({ ...settings, projectSlug: "no-such-proj" }, []);

    assert.equal(problems.length, 1);
    assert.equal(problems[0].key, "projectSlug");
    assert.match(problems[0].message, /projectSlug "no-such-proj" names no Infisical project/);
  });

  it("reports a missing folder", async () => {
    const problems = await findScopeProblems({ ...settings, secretsPath: "/missing" }, []);

    assert.equal(problems.length, 1);
    assert.equal(problems[0].key, "secretsPath");
    assert.match(
      problems[0].message,
      /secretsPath "\/missing" is not a folder of environment "prod"/,
    );
  });

  it("skips the folder check when secretsPath is already invalid", async () => {
    const known = [{ key: "secretsPath", message: "secretsPath is invalid" }];

    const problems = await findScopeProblems({ ...settings, secretsPath: "app" }, known);

    assert.deepEqual(problems, []);
    assert.equal(fake.requests.filter((r) => r.path === "/api/v3/secrets/raw").length, 0);
  });

  it("skips the lookup when a setting it needs is invalid", async () => {
    const known = [{ key: "infisicalHost", message: "infisicalHost is invalid" }];

    const problems = await findScopeProblems(settings, known);

    assert.deepEqual(problems, []);
    assert.equal(fake.requests.length, 0);
  });

  it("reports a failed login as a verifyScope problem without the secret", async () => {
    storeProviderConfig({
      get: (key) =>
        ({
          "anythingllm-secrets:infisicalClientId": programIdentity.clientId,
          "anythingllm-secrets:infisicalClientSecret": "cs-WRONG-PLACEHOLDER",
        })[key],
    });

    const problems = await findScopeProblems(settings, []);

    assert.equal(problems.length, 1);
    assert.equal(problems[0].key, "verifyScope");
    assert.match(problems[0].message, /401/);
    assert.match(problems[0].message, /verifyScope false/);
    assert.ok(!problems[0].message.includes("cs-WRONG-PLACEHOLDER"));
    assert.ok(!problems[0].message.includes("Bearer"));
  });

  it("reports a web front end at the host as a lookup failure", async () => {
    fake.serveHtmlAt("/api");

    const problems = await findScopeProblems(settings, []);

    assert.equal(problems.length, 1);
    assert.equal(problems[0].key, "verifyScope");
    assert.match(problems[0].message, /infisicalHost/);
    assert.ok(!problems[0].message.includes("<html"));
  });

  it("throws one StackConfigError from verifyInfisicalScope", async () => {
    await assert.rejects(verifyInfisicalScope({ ...settings, envSlug: "production" }), (error) => {
      assert.ok(error instanceof StackConfigError);
      assert.equal(error.problems.length, 1);
      return true;
    });
  });

  for (const suffix of ["", "/", "/api", "/api/"]) {
    it(`logs in at /api/v1/auth/universal-auth/login for host suffix "${suffix}"`, async () => {
      const apiUrl = normalisedHost(`${fake.url}${suffix}`);

      await findScopeProblems({ ...settings, infisicalApiUrl: apiUrl }, []);
      const paths = fake.requests.map((request) => request.path);

      assert.equal(apiUrl, `${fake.url}/api`);
      assert.equal(paths[0], "/api/v1/auth/universal-auth/login");
      assert.ok(
        paths.every((path) => !path.includes("/api/api") && !path.includes("//")),
        paths.join(),
      );
    });
  }
});
