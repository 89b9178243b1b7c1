import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";

import * as pulumi from "@pulumi/pulumi";

import {
  fullKeys,
  mockNowRfc3339,
  placeholderCredentials,
  placeholderKey,
  projectName,
  readStackSettings,
  resolveDependsOn,
  RunOptions,
  runMocked,
  RunResult,
  toRfc3339,
} from "./harness";

type Program = () => Promise<Record<string, any>>;

const T = {
  stack: "pulumi:pulumi:Stack",
  operator: "anythingllm:operator:InfisicalOperator",
  sync: "anythingllm:sync:SecretSync",
  openrouterRotation: "anythingllm:rotation:OpenRouterKeyRotation",
  jwtRotation: "anythingllm:rotation:JwtSecretRotation",
  clientSecretRotation: "anythingllm:rotation:ClientSecretRotation",
  namespace: "kubernetes:core/v1:Namespace",
  release: "kubernetes:helm.sh/v3:Release",
  secret: "kubernetes:core/v1:Secret",
  infisicalSecret: "kubernetes:secrets.infisical.com/v1alpha1:InfisicalSecret",
  deploymentPatch: "kubernetes:apps/v1:DeploymentPatch",
  rotating: "time:index/rotating:Rotating",
  sleep: "time:index/sleep:Sleep",
  randomBytes: "random:index/randomBytes:RandomBytes",
  openRouterKey: "pulumi-nodejs:dynamic/anythingllm:OpenRouterKey",
  secretValue: "pulumi-nodejs:dynamic/anythingllm:InfisicalSecretValue",
  clientSecret: "pulumi-nodejs:dynamic/anythingllm:InfisicalClientSecret",
  gate: "pulumi-nodejs:dynamic/anythingllm:ClusterSyncGate",
  healthCheck: "pulumi-nodejs:dynamic/anythingllm:HealthCheck",
};

/** Returns a rotator's period in minutes: the rotation days less the 6-hour schedule tolerance. */
function periodMinutes(days: number): number {
  return days * 1440 - 360;
}

/** Returns the due time of a rotator created at `rfc3339` with a period of `days`. */
function dueAfter(rfc3339: string, days: number): string {
  return toRfc3339(Date.parse(rfc3339) + periodMinutes(days) * 60_000);
}

function sha256(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex");
}

const prodSettings = readStackSettings();
const operatorIdentityId = prodSettings[`${projectName}:operatorIdentityId`];
const operatorClientId = prodSettings[`${projectName}:operatorClientId`];
const apiUrl = "https://app.infisical.com/api";

/** Prod settings plus placeholder credentials, with the scope check off (no Infisical here). */
function prodConfig(overrides: Record<string, string> = {}): RunOptions {
  return {
    config: {
      ...prodSettings,
      ...fullKeys(placeholderCredentials),
      ...fullKeys({ verifyScope: "false" }),
      ...fullKeys(overrides),
    },
    secretKeys: [`${projectName}:infisicalClientSecret`, `${projectName}:openrouterManagementKey`],
  };
}

let program: Program;

async function run(options: RunOptions): Promise<RunResult> {
  return runMocked(() => program(), options);
}

function resolveOutputs(outputs: Record<string, any>): Promise<Record<string, any>> {
  return new Promise((resolve) => pulumi.output(outputs).apply((value) => resolve(value)));
}

describe("program", () => {
  before(async () => {
    await pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) });
    program = require("../../index") as Program;
  });

  describe("with the prod stack settings", () => {
    let result: RunResult;

    before(async () => {
      result = await run(prodConfig());
    });

    it("runs without an error", () => {
      assert.equal(result.error, undefined, result.error?.message);
    });

    it("declares the expected resources", () => {
      const declared = result.recorder.resources
        .filter((r) => r.type !== T.stack)
        .map((r) => `${r.type} ${r.name}`)
        .sort();
      assert.deepEqual(
        declared,
        [
          `${T.jwtRotation} jwt-secret`,
          `${T.operator} infisical-operator`,
          `${T.openrouterRotation} openrouter-api-key`,
          `${T.clientSecretRotation} operator-client-secret`,
          `${T.sync} anythingllm`,
          `${T.deploymentPatch} anythingllm-auto-reload`,
          `${T.secret} anythingllm-auth`,
          `${T.infisicalSecret} anythingllm-infisical-secret`,
          `${T.namespace} infisical-operator-namespace`,
          `${T.release} infisical-operator-release`,
          `${T.clientSecret} operator-client-secret-secret`,
          `${T.secretValue} jwt-secret-secret`,
          `${T.secretValue} openrouter-api-key-secret`,
          `${T.openRouterKey} openrouter-api-key-key`,
          `${T.randomBytes} jwt-secret-bytes`,
          `${T.rotating} jwt-secret-rotator`,
          `${T.rotating} openrouter-api-key-rotator`,
          `${T.rotating} operator-client-secret-rotator`,
          `${T.gate} openrouter-api-key-sync`,
          `${T.gate} jwt-secret-sync`,
          `${T.gate} operator-client-secret-sync`,
        ].sort(),
      );
    });

    it("parents each component to the stack", () => {
      const components = result.recorder.resources.filter((r) => r.type.startsWith("anythingllm:"));
      for (const component of components) {
        assert.equal(component.parent?.type, T.stack, component.name);
      }
    });

    it("parents each child to a component and derives its name", () => {
      const children = result.recorder.resources.filter(
        (r) => r.type !== T.stack && !r.type.startsWith("anythingllm:"),
      );
      for (const child of children) {
        assert.ok(child.parent?.type.startsWith("anythingllm:"), `${child.name} parent`);
        assert.ok(child.name.startsWith(`${child.parent!.name}-`), `${child.name} name`);
      }
    });

    it("installs the operator chart at the pinned version", () => {
      const release = result.recorder.get(T.release, "infisical-operator-release");

      assert.equal(release.inputs.chart, "secrets-operator");
      assert.equal(release.inputs.version, "v0.11.5");
      assert.equal(
        release.inputs.repositoryOpts.repo,
        "https://dl.cloudsmith.io/public/infisical/helm-charts/helm/charts/",
      );
      assert.equal(release.inputs.namespace, "infisical-operator");
      assert.equal(release.inputs.name, "infisical-operator");
      assert.deepEqual(release.inputs.values, { hostAPI: apiUrl, installCRDs: true });
    });

    it("creates the operator namespace", () => {
      const namespace = result.recorder.get(T.namespace, "infisical-operator-namespace");

      assert.equal(namespace.inputs.metadata.name, "infisical-operator");
      assert.equal(namespace.parent?.name, "infisical-operator");
    });

    it("writes the credentials Secret with exactly clientId and clientSecret", () => {
      const secret = result.recorder.get(T.secret, "anythingllm-auth");

      assert.deepEqual(secret.inputs.metadata, {
        name: "infisical-universal-auth",
        namespace: "anything-llm",
      });
      assert.deepEqual(Object.keys(secret.inputs.stringData).sort(), ["clientId", "clientSecret"]);
      assert.equal(secret.inputs.stringData.clientId, operatorClientId);
      assert.equal(secret.inputs.stringData.clientSecret, "cs-NEW-PLACEHOLDER");
      assert.equal(secret.inputs.data, undefined);
    });

    it("marks the credentials Secret's data as secret", async () => {
      const secret = result.recorder.get(T.secret, "anythingllm-auth");

      assert.ok(pulumi.Output.isInstance(secret.props.stringData));
      assert.equal(await pulumi.isSecret(secret.props.stringData), true);
    });

    it("declares the InfisicalSecret with the current fields", () => {
      const cr = result.recorder.get(T.infisicalSecret, "anythingllm-infisical-secret");

      assert.equal(cr.inputs.apiVersion, "secrets.infisical.com/v1alpha1");
      assert.equal(cr.inputs.kind, "InfisicalSecret");
      assert.deepEqual(cr.inputs.metadata, { name: "anythingllm", namespace: "anything-llm" });
      assert.deepEqual(cr.inputs.spec, {
        hostAPI: apiUrl,
        syncConfig: { resyncInterval: "60s" },
        authentication: {
          universalAuth: {
            secretsScope: { projectSlug: "anything-llm", envSlug: "prod", secretsPath: "/" },
            credentialsRef: {
              secretName: "infisical-universal-auth",
              secretNamespace: "anything-llm",
            },
          },
        },
        managedKubeSecretReferences: [
          {
            secretName: "anythingllm-secrets",
            secretNamespace: "anything-llm",
            creationPolicy: "Orphan",
          },
        ],
      });
    });

    it("points credentialsRef at the credentials Secret", () => {
      const cr = result.recorder.get(T.infisicalSecret, "anythingllm-infisical-secret");
      const secret = result.recorder.get(T.secret, "anythingllm-auth");
      const ref = cr.inputs.spec.authentication.universalAuth.credentialsRef;

      assert.equal(ref.secretName, secret.inputs.metadata.name);
      assert.equal(ref.secretNamespace, secret.inputs.metadata.namespace);
    });

    it("makes the InfisicalSecret wait for the operator release", async () => {
      const cr = result.recorder.get(T.infisicalSecret, "anythingllm-infisical-secret");
      const release = result.recorder.get(T.release, "infisical-operator-release");

      const dependsOn = await resolveDependsOn(cr);

      assert.ok(dependsOn.includes(release.resource));
    });

    it("annotates the Deployment for auto-reload", () => {
      const patch = result.recorder.get(T.deploymentPatch, "anythingllm-auto-reload");

      assert.deepEqual(patch.inputs.metadata, {
        name: "anythingllm",
        namespace: "anything-llm",
        annotations: { "secrets.infisical.com/auto-reload": "true" },
      });
      assert.equal(patch.inputs.spec, undefined);
    });

    it("schedules each credential with its own rotator", () => {
      const expectedDays: Record<string, number> = {
        "openrouter-api-key-rotator": 7,
        "jwt-secret-rotator": 90,
        "operator-client-secret-rotator": 30,
      };
      for (const [name, days] of Object.entries(expectedDays)) {
        const rotator = result.recorder.get(T.rotating, name);
        assert.equal(rotator.inputs.rotationMinutes, periodMinutes(days), name);
        assert.equal(rotator.inputs.triggers, undefined, name);
      }
    });

    it("creates the OpenRouter key from its rotator", () => {
      const key = result.recorder.get(T.openRouterKey, "openrouter-api-key-key");

      assert.equal(key.inputs.apiUrl, "https://openrouter.ai/api/v1");
      assert.equal(key.inputs.namePrefix, "anythingllm-prod-openrouter-api-key");
      assert.equal(key.inputs.rotationTrigger, mockNowRfc3339);
      assert.equal(key.inputs.limit, undefined);
      assert.equal(key.inputs.limitReset, undefined);
      assert.equal(key.parent?.name, "openrouter-api-key");
    });

    it("writes the new key to OPENROUTER_API_KEY", () => {
      const value = result.recorder.get(T.secretValue, "openrouter-api-key-secret");

      assert.equal(value.inputs.apiUrl, apiUrl);
      assert.equal(value.inputs.projectSlug, "anything-llm");
      assert.equal(value.inputs.environment, "prod");
      assert.equal(value.inputs.secretPath, "/");
      assert.equal(value.inputs.secretName, "OPENROUTER_API_KEY");
      assert.equal(value.inputs.value, placeholderKey);
    });

    it("confirms the new key in the cluster after it is written", async () => {
      const gate = result.recorder.get(T.gate, "openrouter-api-key-sync");
      const value = result.recorder.get(T.secretValue, "openrouter-api-key-secret");
      const cr = result.recorder.get(T.infisicalSecret, "anythingllm-infisical-secret");
      const keyHash = sha256(`anythingllm-prod-openrouter-api-key-${mockNowRfc3339}`);

      const dependsOn = await resolveDependsOn(gate);

      assert.equal(gate.inputs.trigger, keyHash);
      assert.equal(gate.inputs.timeoutSeconds, 600);
      assert.deepEqual(gate.inputs.syncedValue, {
        namespace: "anything-llm",
        secretName: "anythingllm-secrets",
        secretKey: "OPENROUTER_API_KEY",
        valueSha256: sha256(placeholderKey),
        deploymentName: "anythingllm",
      });
      assert.ok(dependsOn.includes(value.resource));
      assert.ok(dependsOn.includes(cr.resource));
    });

    it("confirms the new JWT secret before the health check", async () => {
      const gate = result.recorder.get(T.gate, "jwt-secret-sync");
      const value = result.recorder.get(T.secretValue, "jwt-secret-secret");

      const dependsOn = await resolveDependsOn(gate);

      assert.equal(gate.inputs.syncedValue.secretKey, "JWT_SECRET");
      assert.equal(gate.inputs.syncedValue.valueSha256, sha256(value.inputs.value));
      assert.equal(gate.inputs.trigger, sha256(value.inputs.value));
      assert.ok(dependsOn.includes(value.resource));
    });

    it("writes 32 random bytes to JWT_SECRET", () => {
      const bytes = result.recorder.get(T.randomBytes, "jwt-secret-bytes");
      const value = result.recorder.get(T.secretValue, "jwt-secret-secret");

      assert.equal(bytes.inputs.length, 32);
      assert.deepEqual(bytes.inputs.keepers, { rotation: mockNowRfc3339 });
      assert.equal(value.inputs.secretName, "JWT_SECRET");
      assert.match(value.inputs.value, /^[0-9a-f]{64}$/);
      assert.equal(value.inputs.projectSlug, "anything-llm");
      assert.equal(value.inputs.environment, "prod");
    });

    it("creates the operator client secret with a TTL past its period", () => {
      const secret = result.recorder.get(T.clientSecret, "operator-client-secret-secret");

      assert.equal(secret.inputs.apiUrl, apiUrl);
      assert.equal(secret.inputs.identityId, operatorIdentityId);
      assert.equal(secret.inputs.clientId, operatorClientId);
      assert.equal(secret.inputs.rotationTrigger, mockNowRfc3339);
      assert.equal(secret.inputs.descriptionPrefix, "anythingllm-prod-operator-client-secret");
      assert.equal(secret.inputs.ttlSeconds, (30 + 7) * 86400);
    });

    it("waits for the operator's login before revoking", async () => {
      const gate = result.recorder.get(T.gate, "operator-client-secret-sync");
      const authSecret = result.recorder.get(T.secret, "anythingllm-auth");

      const dependsOn = await resolveDependsOn(gate);

      assert.equal(gate.inputs.trigger, "csid-new");
      assert.deepEqual(gate.inputs.operatorLogin, {
        apiUrl,
        identityId: operatorIdentityId,
        clientSecretId: "csid-new",
        infisicalSecretNamespace: "anything-llm",
        infisicalSecretName: "anythingllm",
      });
      assert.ok(dependsOn.includes(authSecret.resource));
    });

    it("sets additionalSecretOutputs on each dynamic resource", () => {
      const expected: Record<string, string[]> = {
        [T.openRouterKey]: ["key"],
        [T.secretValue]: ["value"],
        [T.clientSecret]: ["clientSecret"],
      };
      const dynamic = result.recorder.resources.filter((r) => r.type in expected);
      assert.equal(dynamic.length, 4);
      for (const record of dynamic) {
        for (const output of expected[record.type]) {
          assert.ok(
            record.opts.additionalSecretOutputs?.includes(output),
            `${record.name} ${output}`,
          );
        }
      }
    });

    it("passes no credential as a resource input", () => {
      const inputs = JSON.stringify(result.recorder.resources.map((r) => r.inputs));
      for (const credential of Object.values(placeholderCredentials)) {
        assert.ok(!inputs.includes(credential), credential);
      }
    });

    it("returns names, namespaces and rotation status", async () => {
      const outputs = await resolveOutputs(result.outputs!);

      assert.equal(outputs.appNamespace, "anything-llm");
      assert.equal(outputs.authSecretName, "infisical-universal-auth");
      assert.equal(outputs.managedSecretName, "anythingllm-secrets");
      assert.equal(outputs.infisicalSecretName, "anythingllm");
      assert.equal(outputs.operatorNamespace, "infisical-operator");
      assert.equal(outputs.operatorReleaseName, "infisical-operator");
      assert.equal(outputs.operatorChartVersion, "v0.11.5");
      assert.deepEqual(Object.keys(outputs.rotation).sort(), [
        "jwtSecret",
        "openrouterApiKey",
        "operatorClientSecret",
      ]);
      assert.equal(outputs.rotation.openrouterApiKey.lastRotated, mockNowRfc3339);
      assert.equal(outputs.rotation.openrouterApiKey.nextDue, dueAfter(mockNowRfc3339, 7));
      assert.match(outputs.rotation.openrouterApiKey.keyHash, /^[0-9a-f]{64}$/);
      assert.equal(outputs.rotation.jwtSecret.nextDue, dueAfter(mockNowRfc3339, 90));
      assert.equal(outputs.rotation.operatorClientSecret.nextDue, dueAfter(mockNowRfc3339, 30));
      assert.equal(outputs.rotation.operatorClientSecret.clientSecretId, "csid-new");
    });

    it("returns no secret in the stack outputs", async () => {
      const outputs = await resolveOutputs(result.outputs!);
      const text = JSON.stringify(outputs);

      assert.equal(await pulumi.isSecret(pulumi.output(result.outputs!)), false);
      assert.ok(!text.includes("cs-NEW-PLACEHOLDER"));
      assert.ok(!text.includes(placeholderKey));
      assert.ok(!text.includes(placeholderCredentials.openrouterManagementKey));
    });

    it("logs no warning and no credential", () => {
      assert.deepEqual(
        result.logs.filter((line) => line.startsWith("warn")),
        [],
      );
      for (const credential of [...Object.values(placeholderCredentials), placeholderKey]) {
        assert.ok(!result.logs.join("\n").includes(credential), credential);
      }
    });
  });

  describe("in preview", () => {
    it("finishes without waiting on unknown outputs", async () => {
      const options = { ...prodConfig(), preview: true };

      const result = await Promise.race([
        run(options),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error("preview did not finish in 10 s")), 10_000),
        ),
      ]);

      assert.equal(result.error, undefined, result.error?.message);
      assert.equal(result.recorder.ofType(T.infisicalSecret).length, 1);
    });
  });

  describe("with optional parts turned off", () => {
    let result: RunResult;

    before(async () => {
      result = await run(prodConfig({ installOperator: "false", patchDeployment: "false" }));
    });

    it("skips the operator release and namespace", () => {
      assert.equal(result.error, undefined, result.error?.message);
      assert.equal(result.recorder.ofType(T.operator).length, 0);
      assert.equal(result.recorder.ofType(T.release).length, 0);
      assert.equal(result.recorder.ofType(T.namespace).length, 0);
    });

    it("skips the Deployment patch", () => {
      assert.equal(result.recorder.ofType(T.deploymentPatch).length, 0);
    });

    it("does not wait for a rollout the operator will not start", () => {
      const gate = result.recorder.get(T.gate, "openrouter-api-key-sync");

      assert.equal(gate.inputs.syncedValue.deploymentName, undefined);
    });

    it("declares the InfisicalSecret without a release dependency", async () => {
      const cr = result.recorder.get(T.infisicalSecret, "anythingllm-infisical-secret");

      assert.deepEqual(await resolveDependsOn(cr), []);
    });

    it("returns no operator outputs", async () => {
      const outputs = await resolveOutputs(result.outputs!);

      assert.equal("operatorNamespace" in outputs, false);
      assert.equal("operatorChartVersion" in outputs, false);
    });
  });

  describe("with the sync gate off", () => {
    let result: RunResult;

    before(async () => {
      result = await run(prodConfig({ syncGate: "false", gracePeriodSeconds: "90" }));
    });

    it("waits the grace period instead of each gate", () => {
      assert.equal(result.error, undefined, result.error?.message);
      assert.equal(result.recorder.ofType(T.gate).length, 0);
      for (const name of [
        "openrouter-api-key-sync",
        "jwt-secret-sync",
        "operator-client-secret-sync",
      ]) {
        assert.equal(result.recorder.get(T.sleep, name).inputs.createDuration, "90s", name);
      }
    });

    it("replaces the wait with each new credential", () => {
      const keySleep = result.recorder.get(T.sleep, "openrouter-api-key-sync");
      const clientSecretSleep = result.recorder.get(T.sleep, "operator-client-secret-sync");
      const keyHash = sha256(`anythingllm-prod-openrouter-api-key-${mockNowRfc3339}`);

      assert.deepEqual(keySleep.inputs.triggers, { trigger: keyHash });
      assert.deepEqual(clientSecretSleep.inputs.triggers, { trigger: "csid-new" });
    });
  });

  describe("with a health check URL", () => {
    it("checks AnythingLLM after the JWT secret reached the pods", async () => {
      const result = await run(prodConfig({ healthCheckUrl: "https://llm.example.test/api/ping" }));
      const health = result.recorder.get(T.healthCheck, "jwt-secret-health");
      const gate = result.recorder.get(T.gate, "jwt-secret-sync");

      const dependsOn = await resolveDependsOn(health);

      assert.equal(result.error, undefined, result.error?.message);
      assert.equal(health.inputs.url, "https://llm.example.test/api/ping");
      assert.ok(health.secretInputs.includes("url"), "the health URL is not secret");
      assert.equal(health.inputs.trigger, gate.inputs.trigger);
      assert.ok(dependsOn.includes(gate.resource));
    });
  });

  describe("with key limits and a custom scope", () => {
    it("passes them to the key and the secrets", async () => {
      const result = await run(
        prodConfig({
          openrouterKeyLimit: "12.5",
          openrouterKeyLimitReset: "monthly",
          infisicalHost: "https://infisical.example.test/",
          secretsPath: "/apps/anythingllm",
          gracePeriodSeconds: "0",
          syncGate: "false",
        }),
      );
      const key = result.recorder.get(T.openRouterKey, "openrouter-api-key-key");
      const value = result.recorder.get(T.secretValue, "openrouter-api-key-secret");
      const cr = result.recorder.get(T.infisicalSecret, "anythingllm-infisical-secret");
      const sleep = result.recorder.get(T.sleep, "openrouter-api-key-sync");

      assert.equal(result.error, undefined, result.error?.message);
      assert.equal(key.inputs.limit, 12.5);
      assert.equal(key.inputs.limitReset, "monthly");
      assert.equal(value.inputs.apiUrl, "https://infisical.example.test/api");
      assert.equal(value.inputs.secretPath, "/apps/anythingllm");
      assert.equal(cr.inputs.spec.hostAPI, "https://infisical.example.test/api");
      assert.equal(
        cr.inputs.spec.authentication.universalAuth.secretsScope.secretsPath,
        "/apps/anythingllm",
      );
      assert.equal(sleep.inputs.createDuration, "0s");
    });
  });

  describe("with each spelling of the Infisical host", () => {
    const spellings = [
      "https://infisical.example.test",
      "https://infisical.example.test/",
      "https://infisical.example.test/api",
      "https://infisical.example.test/api/",
    ];
    const expectedApiUrl = "https://infisical.example.test/api";

    for (const spelling of spellings) {
      it(`uses the /api base for ${spelling}`, async () => {
        const result = await run(prodConfig({ infisicalHost: spelling }));
        const cr = result.recorder.get(T.infisicalSecret, "anythingllm-infisical-secret");
        const release = result.recorder.get(T.release, "infisical-operator-release");
        const values = result.recorder.ofType(T.secretValue);
        const clientSecret = result.recorder.get(T.clientSecret, "operator-client-secret-secret");

        assert.equal(result.error, undefined, result.error?.message);
        assert.equal(cr.inputs.spec.hostAPI, expectedApiUrl);
        assert.equal(release.inputs.values.hostAPI, expectedApiUrl);
        assert.equal(clientSecret.inputs.apiUrl, expectedApiUrl);
        assert.equal(values.length, 2);
        for (const value of values) {
          assert.equal(value.inputs.apiUrl, expectedApiUrl, value.name);
        }
      });
    }
  });

  describe("with invalid settings", () => {
    it("fails before declaring any resource", async () => {
      const result = await run(prodConfig({ secretsPath: "app", resyncInterval: "1s" }));

      assert.ok(result.error, "expected an error");
      assert.match(result.error.message, /secretsPath "app" is invalid: it must start with "\/"/);
      assert.match(result.error.message, /resyncInterval "1s"/);
      assert.deepEqual(
        result.recorder.resources.filter((r) => r.type !== T.stack),
        [],
      );
    });
  });
});
