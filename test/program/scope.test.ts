import * as assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";

import { clearProviderConfig } from "../../providers/credentials";
import { clearInfisicalTokenCache } from "../../providers/infisicalAuth";
import { InfisicalFake, startInfisicalFake } from "../fakes/infisical";
import {
  fullKeys,
  placeholderCredentials,
  projectName,
  readStackSettings,
  RunOptions,
  runMocked,
} from "./harness";

type Program = () => Promise<Record<string, any>>;

const programIdentityId = "5e0c8a1f-2b3d-4c5e-8f90-a1b2c3d4e5f6";

describe("program scope check", () => {
  let fake: InfisicalFake;
  let program: Program;

  function config(overrides: Record<string, string>): RunOptions {
    return {
      config: {
        ...readStackSettings(),
        ...fullKeys(placeholderCredentials),
        ...fullKeys({ infisicalHost: fake.url, ...overrides }),
      },
      secretKeys: [
        `${projectName}:infisicalClientSecret`,
        `${projectName}:openrouterManagementKey`,
      ],
    };
  }

  before(async () => {
    process.env.ANYTHINGLLM_HTTP_RETRY_BASE_MS = "1";
    process.env.ANYTHINGLLM_HTTP_TIMEOUT_MS = "2000";
    fake = await startInfisicalFake();
    fake.addProject({ id: "proj-1", slug: "demo-proj", environments: ["dev", "staging", "prod"] });
    fake.addProject({ id: "proj-2", slug: "anything-llm", environments: ["dev", "prod"] });
    fake.addIdentity({
      id: programIdentityId,
      clientId: placeholderCredentials.infisicalClientId,
      role: "writer",
    });
    fake.addClientSecret(programIdentityId, {
      secret: placeholderCredentials.infisicalClientSecret,
    });

    await pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) });
    program = require("../../index") as Program;
  });

  after(async () => {
    await fake.close();
    clearProviderConfig();
    delete process.env.ANYTHINGLLM_HTTP_RETRY_BASE_MS;
    delete process.env.ANYTHINGLLM_HTTP_TIMEOUT_MS;
  });

  beforeEach(() => {
    clearInfisicalTokenCache();
    fake.requests.length = 0;
  });

  describe("with a wrong environment and a relative path", () => {
    let error: Error | undefined;
    let declared: string[];

    before(async () => {
      clearInfisicalTokenCache();
      const overrides = { projectSlug: "demo-proj", envSlug: "production", secretsPath: "app" };
      const result = await runMocked(() => program(), { ...config(overrides), preview: true });
      error = result.error;
      declared = result.recorder.resources
        .map((r) => r.type)
        .filter((t) => t !== "pulumi:pulumi:Stack");
    });

    it("fails the preview", () => {
      assert.ok(error, "expected the preview to fail");
    });

    it("names envSlug with its bad value and the valid slugs", () => {
      assert.match(
        error!.message,
        /envSlug "production" is not an environment of Infisical project "demo-proj"/,
      );
      assert.match(error!.message, /its environment slugs are dev, staging, prod/);
    });

    it("rejects the path without a leading slash", () => {
      assert.match(error!.message, /secretsPath "app" is invalid: it must start with "\/"/);
    });

    it("reports both problems in one error", () => {
      assert.match(error!.message, /has 2 problems/);
    });

    it("declares no resource at all", () => {
      assert.deepEqual(declared, []);
    });

    it("shows no credential", () => {
      for (const credential of Object.values(placeholderCredentials)) {
        assert.ok(!error!.message.includes(credential), credential);
      }
    });
  });

  describe("with a valid scope", () => {
    it("looks the project up and declares the resources", async () => {
      const result = await runMocked(() => program(), config({}));
      const lookups = fake.requests.filter((r) => r.path === "/api/v2/workspace/anything-llm");

      assert.equal(result.error, undefined, result.error?.message);
      assert.equal(lookups.length, 1);
      assert.equal(
        result.recorder.ofType("kubernetes:secrets.infisical.com/v1alpha1:InfisicalSecret").length,
        1,
      );
    });
  });

  describe("with the scope check turned off", () => {
    it("sends no request to Infisical", async () => {
      const result = await runMocked(
        () => program(),
        config({ verifyScope: "false", envSlug: "production" }),
      );

      assert.equal(result.error, undefined, result.error?.message);
      assert.equal(fake.requests.length, 0);
    });
  });
});
