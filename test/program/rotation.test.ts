import * as assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";

import {
  fullKeys,
  mockNowRfc3339,
  mockRotatedNowRfc3339,
  MockOutputs,
  placeholderCredentials,
  projectName,
  readStackSettings,
  runMocked,
  RunResult,
} from "./harness";

type Program = () => Promise<Record<string, any>>;

const rotating = "time:index/rotating:Rotating";
const rotators = [
  "openrouter-api-key-rotator",
  "jwt-secret-rotator",
  "operator-client-secret-rotator",
];
const stamp = "2026-03-01T12:00:00Z";

let program: Program;

function run(
  overrides: Record<string, string> = {},
  outputs: MockOutputs = {},
  preview = false,
): Promise<RunResult> {
  return runMocked(() => program(), {
    config: {
      ...readStackSettings(),
      ...fullKeys(placeholderCredentials),
      ...fullKeys({ verifyScope: "false", ...overrides }),
    },
    secretKeys: [`${projectName}:infisicalClientSecret`, `${projectName}:openrouterManagementKey`],
    outputs,
    preview,
  });
}

function triggersOf(result: RunResult, name: string): unknown {
  return result.recorder.get(rotating, name).inputs.triggers;
}

describe("rotation", () => {
  let baseline: RunResult;

  before(async () => {
    await pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) });
    program = require("../../index") as Program;
    baseline = await run();
  });

  describe("rotate-now stamps", () => {
    const cases: Array<[string, string]> = [
      ["openrouterRotateNow", "openrouter-api-key-rotator"],
      ["jwtRotateNow", "jwt-secret-rotator"],
      ["clientSecretRotateNow", "operator-client-secret-rotator"],
    ];

    for (const [setting, rotator] of cases) {
      it(`${setting} changes only ${rotator}'s triggers`, async () => {
        const result = await run({ [setting]: stamp });

        assert.equal(result.error, undefined, result.error?.message);
        for (const name of rotators) {
          const expected = name === rotator ? { rotateNow: stamp } : undefined;
          assert.deepEqual(triggersOf(result, name), expected, name);
          assert.deepEqual(
            result.recorder.get(rotating, name).inputs.rotationDays,
            baseline.recorder.get(rotating, name).inputs.rotationDays,
            name,
          );
        }
      });
    }

    it("openrouterRotateNow gives the key a new trigger and leaves JWT_SECRET alone", async () => {
      const result = await run({ openrouterRotateNow: stamp });
      const key = result.recorder.get(
        "pulumi-nodejs:dynamic/anythingllm:OpenRouterKey",
        "openrouter-api-key-key",
      );
      const bytes = result.recorder.get("random:index/randomBytes:RandomBytes", "jwt-secret-bytes");
      const clientSecret = result.recorder.get(
        "pulumi-nodejs:dynamic/anythingllm:InfisicalClientSecret",
        "operator-client-secret-secret",
      );

      assert.equal(key.inputs.rotationTrigger, mockRotatedNowRfc3339);
      assert.deepEqual(bytes.inputs.keepers, { rotation: mockNowRfc3339 });
      assert.equal(clientSecret.inputs.rotationTrigger, mockNowRfc3339);
    });
  });

  describe("JWT_SECRET bytes", () => {
    const bytesOf = (result: RunResult) =>
      result.recorder.get("random:index/randomBytes:RandomBytes", "jwt-secret-bytes").inputs;

    it("keep their keepers while the rotator stays", async () => {
      const again = await run();

      assert.deepEqual(bytesOf(again).keepers, bytesOf(baseline).keepers);
      assert.equal(bytesOf(again).length, 32);
    });

    it("get new keepers when the rotator is replaced", async () => {
      const rotated = await run({ jwtRotateNow: stamp });

      assert.deepEqual(bytesOf(rotated).keepers, { rotation: mockRotatedNowRfc3339 });
      assert.notDeepEqual(bytesOf(rotated).keepers, bytesOf(baseline).keepers);
    });

    it("change with nothing but the rotator", async () => {
      const other = await run({
        openrouterRotateNow: stamp,
        clientSecretRotateNow: stamp,
        gracePeriodSeconds: "30",
        openrouterKeyLimit: "5",
      });

      assert.deepEqual(bytesOf(other), bytesOf(baseline));
    });
  });

  describe("client secret rotation", () => {
    let oldRun: RunResult;
    let newRun: RunResult;

    const authSecretOf = (result: RunResult) =>
      result.recorder.get("kubernetes:core/v1:Secret", "anythingllm-auth");
    const crOf = (result: RunResult) =>
      result.recorder.get(
        "kubernetes:secrets.infisical.com/v1alpha1:InfisicalSecret",
        "anythingllm-infisical-secret",
      );

    // The mocks stand in for the provider: the old and the new client secret.
    before(async () => {
      oldRun = await run({}, { clientSecret: "cs-OLD-PLACEHOLDER", clientSecretId: "csid-old" });
      newRun = await run(
        { clientSecretRotateNow: stamp },
        { clientSecret: "cs-NEW-PLACEHOLDER", clientSecretId: "csid-new" },
      );
    });

    it("keeps exactly the keys clientId and clientSecret", () => {
      const keysBefore = Object.keys(authSecretOf(oldRun).inputs.stringData).sort();
      const keysAfter = Object.keys(authSecretOf(newRun).inputs.stringData).sort();

      assert.deepEqual(keysBefore, ["clientId", "clientSecret"]);
      assert.deepEqual(keysAfter, keysBefore);
    });

    it("changes only the clientSecret value", () => {
      const dataBefore = authSecretOf(oldRun).inputs.stringData;
      const dataAfter = authSecretOf(newRun).inputs.stringData;

      assert.equal(dataBefore.clientSecret, "cs-OLD-PLACEHOLDER");
      assert.equal(dataAfter.clientSecret, "cs-NEW-PLACEHOLDER");
      assert.equal(dataAfter.clientId, dataBefore.clientId);
      assert.deepEqual(authSecretOf(newRun).inputs.metadata, authSecretOf(oldRun).inputs.metadata);
    });

    it("sends the data as a secret", () => {
      assert.deepEqual(authSecretOf(newRun).secretInputs, ["stringData"]);
    });

    it("keeps credentialsRef on the Secret", () => {
      for (const result of [oldRun, newRun]) {
        const ref = crOf(result).inputs.spec.authentication.universalAuth.credentialsRef;
        const metadata = authSecretOf(result).inputs.metadata;
        assert.deepEqual(ref, { secretName: metadata.name, secretNamespace: metadata.namespace });
      }
    });

    it("leaves the InfisicalSecret unchanged", () => {
      assert.deepEqual(crOf(newRun).inputs, crOf(oldRun).inputs);
    });

    it("replaces the sync gate with the new secret id", () => {
      const gateOf = (result: RunResult) =>
        result.recorder.get(
          "pulumi-nodejs:dynamic/anythingllm:ClusterSyncGate",
          "operator-client-secret-sync",
        ).inputs;

      assert.equal(gateOf(oldRun).trigger, "csid-old");
      assert.equal(gateOf(newRun).trigger, "csid-new");
    });
  });

  describe("an overdue rotator", () => {
    const longAgo = "2025-01-01T00:00:00Z";

    it("warns on update, naming the credential and the fix", async () => {
      const result = await run({}, { rotatorCreated: longAgo });
      const warnings = result.logs.filter((line) => line.startsWith("warn: "));

      assert.equal(result.error, undefined, result.error?.message);
      assert.equal(warnings.length, 3, warnings.join("\n"));
      for (const credential of [
        "OpenRouter API key",
        "JWT_SECRET",
        "Infisical client secret of the operator",
      ]) {
        const warning = warnings.find((line) => line.includes(`The ${credential} was due`));
        assert.ok(warning, credential);
        assert.match(warning, /pulumi up --refresh/);
      }
    });

    it("does not warn in preview", async () => {
      const result = await run({}, { rotatorCreated: longAgo }, true);

      assert.deepEqual(
        result.logs.filter((line) => line.startsWith("warn: ")),
        [],
      );
    });
  });
});
