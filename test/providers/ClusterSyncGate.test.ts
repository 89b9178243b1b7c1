import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";

import type * as gateModule from "../../providers/ClusterSyncGate";
import {
  clusterSyncGateProvider,
  ClusterSyncGateInputs,
  ClusterSyncGateOutputs,
  diffGate,
  sha256Hex,
} from "../../providers/ClusterSyncGate";
import { rolloutObservation } from "../../providers/clusterObservations";
import { clearProviderConfig } from "../../providers/credentials";
import { clearKubernetesSettings } from "../../providers/kubernetesApi";
import { InfisicalFake, startInfisicalFake } from "../fakes/infisical";
import {
  fakeOperator,
  FakeOperator,
  KubernetesFake,
  setCondition,
  startKubernetesFake,
} from "../fakes/kubernetes";
import {
  assertNoSecrets,
  fastHttpEnv,
  oldOperatorClientSecret,
  programClientId,
  programClientSecret,
  providerConfig,
  rejectionOf,
} from "../support/placeholders";
import { SerializedProvider, startSerializedProvider } from "../support/serializedProvider";

const namespace = "anything-llm";
const secretName = "anythingllm-secrets";
const deploymentName = "anythingllm";
const oldKey = "sk-or-v1-OLD-PLACEHOLDER";
const newKey = "sk-or-v1-NEW-PLACEHOLDER";
const kubeToken = "kube-PLACEHOLDER-token";
const newOperatorClientSecret = "cs-NEW-PLACEHOLDER";
const programIdentityId = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
const operatorIdentityId = "0b8e2c1a-8d6f-4a57-9c3e-1f2a3b4c5d6e";
const operatorClientId = "3f9e8d7c-6b5a-4f3e-9d2c-1b0a9f8e7d6c";
const authSecretName = "infisical-universal-auth";
const infisicalSecretName = "anythingllm";
const readyCondition = "secrets.infisical.com/ReadyToSyncSecrets";
const pollEnv = { ...fastHttpEnv, ANYTHINGLLM_GATE_POLL_MS: "50" };

function syncedValueInputs(
  overrides: Partial<ClusterSyncGateInputs> = {},
): Record<string, unknown> {
  return {
    trigger: "hash-new",
    timeoutSeconds: 20,
    syncedValue: {
      namespace,
      secretName,
      secretKey: "OPENROUTER_API_KEY",
      valueSha256: sha256Hex(newKey),
    },
    ...overrides,
  };
}

function withDeployment(inputs: Record<string, unknown>): Record<string, unknown> {
  const syncedValue = inputs.syncedValue as Record<string, unknown>;
  return { ...inputs, syncedValue: { ...syncedValue, deploymentName } };
}

function operatorLoginInputs(): Record<string, unknown> {
  return {
    trigger: "csid-new",
    operatorLogin: {
      apiUrl: "http://127.0.0.1:9/api",
      identityId: operatorIdentityId,
      clientSecretId: "csid-new",
      infisicalSecretNamespace: namespace,
      infisicalSecretName,
    },
  };
}

describe("ClusterSyncGate", () => {
  describe("sha256Hex", () => {
    it("returns the hex SHA-256 digest", () => {
      const digest = sha256Hex("abc");

      assert.equal(digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    });
  });

  describe("rolloutObservation", () => {
    const done = {
      observedGeneration: 2,
      replicas: 2,
      updatedReplicas: 2,
      availableReplicas: 2,
    };
    const cases: Array<[string, Record<string, number>, RegExp | undefined]> = [
      ["a finished rollout", done, undefined],
      ["an unobserved generation", { ...done, observedGeneration: 1 }, /did not start/],
      ["a pending update", { ...done, updatedReplicas: 1 }, /\(1 of 2 replicas updated/],
      ["an unavailable replica", { ...done, unavailableReplicas: 1 }, /1 unavailable/],
      ["too few available", { ...done, availableReplicas: 1 }, /1 available/],
      ["an old replica left", { ...done, replicas: 3 }, /3 in total/],
    ];
    for (const [title, status, pending] of cases) {
      it(`judges ${title}`, () => {
        const deployment = { metadata: { generation: 2 }, spec: { replicas: 2 }, status };

        const observation = rolloutObservation(namespace, deploymentName, deployment);

        assert.equal(observation.done, pending === undefined);
        if (!observation.done) {
          assert.match(observation.pending, pending!);
        }
      });
    }
  });

  describe("check", () => {
    let gate: SerializedProvider;

    before(async () => {
      gate = await startSerializedProvider(clusterSyncGateProvider, { config: providerConfig });
    });

    after(async () => {
      await gate.close();
    });

    it("accepts a syncedValue check", async () => {
      const result = await gate.call("check", {}, syncedValueInputs());

      assert.deepEqual(result.failures, []);
    });

    it("accepts an operatorLogin check", async () => {
      const result = await gate.call("check", {}, operatorLoginInputs());

      assert.deepEqual(result.failures, []);
    });

    it("defaults the timeout to 600 seconds", async () => {
      const inputs = syncedValueInputs();
      delete inputs.timeoutSeconds;

      const result = await gate.call("check", {}, inputs);

      assert.equal(result.inputs.timeoutSeconds, 600);
    });

    it("accepts unknown preview values", async () => {
      const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
      const inputs = { ...syncedValueInputs(), trigger: unknown, syncedValue: unknown };

      const result = await gate.call("check", {}, inputs);

      assert.deepEqual(result.failures, []);
    });

    const syncedValue = syncedValueInputs().syncedValue as Record<string, unknown>;
    const invalidCases: Array<[string, Record<string, unknown>, string]> = [
      ["no check", { trigger: "t" }, "syncedValue"],
      ["both checks", { ...syncedValueInputs(), ...operatorLoginInputs() }, "operatorLogin"],
      ["empty trigger", syncedValueInputs({ trigger: "" }), "trigger"],
      ["zero timeout", syncedValueInputs({ timeoutSeconds: 0 }), "timeoutSeconds"],
      ["negative timeout", syncedValueInputs({ timeoutSeconds: -5 }), "timeoutSeconds"],
      [
        "short digest",
        { ...syncedValueInputs(), syncedValue: { ...syncedValue, valueSha256: "abc123" } },
        "syncedValue.valueSha256",
      ],
      [
        "plain value as digest",
        { ...syncedValueInputs(), syncedValue: { ...syncedValue, valueSha256: newKey } },
        "syncedValue.valueSha256",
      ],
      [
        "missing secret key",
        { ...syncedValueInputs(), syncedValue: { ...syncedValue, secretKey: undefined } },
        "syncedValue.secretKey",
      ],
      [
        "extra value field",
        { ...syncedValueInputs(), syncedValue: { ...syncedValue, value: newKey } },
        "syncedValue.value",
      ],
      ["extra top-level input", { ...syncedValueInputs(), kubeconfig: "x" }, "kubeconfig"],
      [
        "invalid api URL",
        {
          ...operatorLoginInputs(),
          operatorLogin: {
            ...(operatorLoginInputs().operatorLogin as object),
            apiUrl: "app.infisical.com",
          },
        },
        "operatorLogin.apiUrl",
      ],
    ];
    for (const [title, inputs, property] of invalidCases) {
      it(`rejects ${title}`, async () => {
        const result = await gate.call("check", {}, inputs);

        const properties = result.failures.map((f: { property: string }) => f.property);
        assert.ok(properties.includes(property), `failures: ${JSON.stringify(result.failures)}`);
      });
    }

    it("keeps a rejected value out of its reason", async () => {
      const inputs = {
        ...syncedValueInputs(),
        syncedValue: { ...syncedValue, valueSha256: newKey },
      };

      const result = await gate.call("check", {}, inputs);

      assertNoSecrets(JSON.stringify(result.failures), [newKey], "check failures");
    });
  });

  describe("diff", () => {
    const olds = { ...syncedValueInputs(), __provider: "old text", confirmedAt: "t", polls: 3 };
    const changedDigest = {
      ...syncedValueInputs(),
      syncedValue: {
        ...(syncedValueInputs().syncedValue as object),
        valueSha256: sha256Hex("other"),
      },
    };
    const cases: Array<[string, Record<string, unknown>, boolean, string[]]> = [
      ["no change", syncedValueInputs(), false, []],
      ["a new provider text only", { ...syncedValueInputs(), __provider: "new text" }, false, []],
      ["a new trigger", syncedValueInputs({ trigger: "hash-newer" }), true, ["trigger"]],
      ["a new digest", changedDigest, true, ["syncedValue"]],
      ["a new deployment", withDeployment(syncedValueInputs()), true, ["syncedValue"]],
      ["a new context", syncedValueInputs({ kubeContext: "prod" }), true, ["kubeContext"]],
      ["another check", operatorLoginInputs(), true, ["trigger", "syncedValue", "operatorLogin"]],
      ["a new timeout", syncedValueInputs({ timeoutSeconds: 900 }), true, []],
    ];
    for (const [title, news, changes, replaces] of cases) {
      it(`reports ${title}`, async () => {
        const result = diffGate(olds, news);

        assert.equal(result.changes, changes);
        assert.deepEqual(result.replaces, replaces);
      });
    }

    it("ignores key order", () => {
      const reordered = { ...syncedValueInputs() };
      const check = reordered.syncedValue as Record<string, unknown>;
      reordered.syncedValue = Object.fromEntries(Object.entries(check).reverse());

      const result = diffGate(olds, reordered);

      assert.equal(result.changes, false);
    });
  });

  describe("with a cluster", () => {
    let kube: KubernetesFake;
    let directory: string;
    let kubeconfigFile: string;
    let gate: SerializedProvider | undefined;
    let operator: FakeOperator | undefined;

    beforeEach(async () => {
      kube = await startKubernetesFake({ token: kubeToken });
      directory = fs.mkdtempSync(path.join(os.tmpdir(), "gate-test-"));
      kubeconfigFile = kube.writeKubeconfig(directory);
      kube.putSecret(
        namespace,
        secretName,
        { OPENROUTER_API_KEY: oldKey, JWT_SECRET: "jwt-old" },
        {
          "secrets.infisical.com/version": 'W/"old"',
        },
      );
    });

    afterEach(async () => {
      operator?.stop();
      operator = undefined;
      await gate?.close();
      gate = undefined;
      await kube.close();
      fs.rmSync(directory, { recursive: true, force: true });
    });

    async function startGate(
      config: Record<string, string> = { "kubernetes:kubeconfig": kubeconfigFile },
      env: Record<string, string> = pollEnv,
    ): Promise<SerializedProvider> {
      gate = await startSerializedProvider(clusterSyncGateProvider, {
        config: { ...providerConfig, ...config },
        env,
      });
      return gate;
    }

    async function create(
      provider: SerializedProvider,
      inputs: Record<string, unknown>,
    ): Promise<ClusterSyncGateOutputs> {
      const checked = await provider.call("check", {}, inputs);
      assert.deepEqual(checked.failures, []);
      const result = await provider.call("create", checked.inputs);
      return result.outs;
    }

    function secretGets(): number {
      const secretPath = `/api/v1/namespaces/${namespace}/secrets/${secretName}`;
      return kube.requests.filter((r) => r.method === "GET" && r.path === secretPath).length;
    }

    // A kubeconfig for the fake whose user is `user`, as kubectl reads it.
    function kubeconfigWithUser(user: Record<string, unknown>): string {
      const content = JSON.parse(kube.kubeconfig());
      content.users[0].user = user;
      const file = path.join(directory, "kubeconfig-user");
      fs.writeFileSync(file, JSON.stringify(content), { mode: 0o600 });
      return file;
    }

    // A Secret containing the new value and a Deployment whose template names its version, so only
    // the rollout is left to observe. `status` replaces the Deployment's status.
    function putSyncedDeployment(spec: Record<string, unknown>, status: Record<string, unknown>) {
      kube.putSecret(
        namespace,
        secretName,
        { OPENROUTER_API_KEY: newKey },
        {
          "secrets.infisical.com/version": 'W/"new"',
        },
      );
      const deployment = kube.putDeployment(namespace, deploymentName, 2, secretName);
      deployment.spec = { ...deployment.spec, ...spec };
      deployment.spec.template.metadata.annotations = {
        [`secrets.infisical.com/managed-secret.${secretName}`]: 'W/"new"',
      };
      const stored = kube.put("deployments", deployment);
      // Storing a new spec raises the generation, so the status reports the stored one.
      kube.put("deployments", {
        ...stored,
        status: { observedGeneration: stored.metadata.generation, ...status },
      });
    }

    function startOperator(opts: Parameters<typeof fakeOperator>[1]): void {
      operator = fakeOperator(kube, {
        managedSecret: { namespace, name: secretName },
        values: { OPENROUTER_API_KEY: newKey },
        ...opts,
      });
    }

    describe("syncedValue", () => {
      it("returns on the first poll that sees the new value", async () => {
        const provider = await startGate();
        startOperator({ syncAfterPolls: 3 });

        const outs = await create(provider, syncedValueInputs());

        assert.equal(outs.polls, 4);
        assert.equal(secretGets(), 4);
        assert.ok(outs.waitedSeconds < 5, `waitedSeconds ${outs.waitedSeconds}`);
      });

      it("returns soon after a sync at one second", async () => {
        const seen: boolean[] = [];
        kube.onRequest((request) => {
          if (request.path.endsWith(`/secrets/${secretName}`)) {
            seen.push(kube.secretValues(namespace, secretName)?.OPENROUTER_API_KEY === newKey);
          }
        });
        // The default first interval of one second is kept, as in a real run.
        const provider = await startGate(undefined, fastHttpEnv);
        startOperator({ syncAfterMs: 1000 });

        const outs = await create(provider, syncedValueInputs());

        assert.ok(outs.waitedSeconds < 5, `waitedSeconds ${outs.waitedSeconds}`);
        assert.equal(seen.at(-1), true);
        assert.equal(seen.filter((s) => s).length, 1);
        assert.equal(outs.polls, seen.length);
      });

      it("waits for the rollout", async () => {
        kube.putDeployment(namespace, deploymentName, 2, secretName);
        const provider = await startGate();
        startOperator({ syncAfterPolls: 1, deploymentName, rolloutAfterPolls: 2 });

        const outs = await create(provider, withDeployment(syncedValueInputs()));

        const deployment = kube.get("deployments", namespace, deploymentName)!;
        assert.equal(deployment.status.updatedReplicas, 2);
        assert.equal(deployment.status.observedGeneration, deployment.metadata.generation);
        assert.equal(outs.polls, 4);
      });

      it("keeps polling while the Secret is missing", async () => {
        kube.remove("secrets", namespace, secretName);
        const provider = await startGate();
        startOperator({ syncAfterPolls: 2 });

        const outs = await create(provider, syncedValueInputs());

        assert.equal(outs.polls, 3);
        assert.equal(kube.requests[0].status, 404);
        assert.equal(kube.requests[1].status, 404);
      });

      it("keeps polling through server errors", async () => {
        kube.fail({ method: "GET", path: /\/secrets\//, status: 503, times: 2 });
        const provider = await startGate();
        startOperator({ syncAfterMs: 0 });

        const outs = await create(provider, syncedValueInputs());

        assert.equal(outs.polls, 3);
      });

      it("fails when the Secret never changes", async () => {
        const provider = await startGate();
        startOperator({ neverSyncs: true });

        const error = await rejectionOf(create(provider, syncedValueInputs({ timeoutSeconds: 1 })));

        assert.match(error.message, /^Timed out after 1 s \(\d+ polls\)/);
        assert.match(error.message, /the Secret anything-llm\/anythingllm-secrets was not updated/);
        assert.match(error.message, /Infisical operator is running/);
      });

      it("fails when the rollout stalls", async () => {
        kube.putDeployment(namespace, deploymentName, 2, secretName);
        const provider = await startGate();
        startOperator({ syncAfterPolls: 1, deploymentName, rolloutStalls: true });

        const inputs = withDeployment(syncedValueInputs({ timeoutSeconds: 1 }));
        const error = await rejectionOf(create(provider, inputs));

        assert.match(error.message, /^Timed out after 1 s/);
        assert.match(
          error.message,
          /rollout of Deployment anything-llm\/anythingllm did not finish/,
        );
        assert.match(error.message, /\(1 of 2 replicas updated/);
        assert.match(error.message, /kubectl rollout status deployment\/anythingllm/);
      });

      it("fails when the Deployment is not restarted", async () => {
        kube.putDeployment(namespace, deploymentName, 2, secretName);
        const provider = await startGate();
        // The operator syncs the Secret but has no Deployment to restart.
        startOperator({ syncAfterPolls: 1 });

        const inputs = withDeployment(syncedValueInputs({ timeoutSeconds: 1 }));
        const error = await rejectionOf(create(provider, inputs));

        assert.match(error.message, /was not restarted with the new Secret/);
        assert.match(error.message, /secrets\.infisical\.com\/auto-reload/);
      });

      it("fails at once when the token is rejected", async () => {
        const otherConfig = kube.writeKubeconfig(fs.mkdtempSync(path.join(directory, "x")), {
          token: "kube-PLACEHOLDER-wrong",
        });
        const provider = await startGate({ "kubernetes:kubeconfig": otherConfig });

        const error = await rejectionOf(create(provider, syncedValueInputs()));

        assert.match(error.message, /failed with status 401/);
        assert.doesNotMatch(error.message, /Timed out/);
        assertNoSecrets(error.message, ["kube-PLACEHOLDER-wrong", kubeToken], "the error");
      });

      it("fails at once on invalid JSON", async () => {
        kube.fail({
          method: "GET",
          path: /\/secrets\//,
          status: 200,
          body: '{"kind":"Secret","data":{"OPENROUTER_API_KEY":SECRETVALUEABCDEF}}',
          contentType: "application/json",
          times: Infinity,
        });
        const provider = await startGate();

        const error = await rejectionOf(create(provider, syncedValueInputs()));

        assert.match(error.message, /got invalid JSON from the Kubernetes API server/);
        assert.doesNotMatch(error.message, /Timed out|can be reached/);
        assertNoSecrets(error.message, ["SECRETVALU", 'OPENROUTER_API_KEY"'], "the error");
        assert.equal(secretGets(), 1);
      });

      it("fails at once when the Deployment is paused", async () => {
        putSyncedDeployment(
          { paused: true },
          { replicas: 2, updatedReplicas: 0, availableReplicas: 2 },
        );
        const provider = await startGate();

        const error = await rejectionOf(create(provider, withDeployment(syncedValueInputs())));

        assert.match(error.message, /Deployment anything-llm\/anythingllm is paused/);
        assert.match(error.message, /kubectl rollout resume deployment\/anythingllm/);
        assert.doesNotMatch(error.message, /Timed out/);
      });

      it("fails at once past the progress deadline", async () => {
        const progressing = {
          type: "Progressing",
          status: "False",
          reason: "ProgressDeadlineExceeded",
          message: 'ReplicaSet "anythingllm-7d9f" has timed out progressing.',
        };
        putSyncedDeployment(
          {},
          {
            replicas: 3,
            updatedReplicas: 1,
            availableReplicas: 2,
            unavailableReplicas: 1,
            conditions: [progressing],
          },
        );
        const provider = await startGate();

        const error = await rejectionOf(create(provider, withDeployment(syncedValueInputs())));

        assert.match(error.message, /anything-llm\/anythingllm exceeded its progress deadline/);
        assert.match(error.message, /has timed out progressing/);
        assert.doesNotMatch(error.message, /Timed out/);
      });

      it("keeps credentials out of outputs", async () => {
        const provider = await startGate();
        startOperator({ syncAfterPolls: 1 });

        const outs = await create(provider, syncedValueInputs());

        const text = JSON.stringify(outs);
        assertNoSecrets(
          text,
          [newKey, oldKey, kubeToken, ...Object.values(providerConfig)],
          "outputs",
        );
        assert.ok(!text.includes(kubeconfigFile), "outputs contain the kubeconfig path");
        assert.equal(outs.syncedValue?.valueSha256, sha256Hex(newKey));
      });

      it("writes no credential to its output", async () => {
        const provider = await startGate();
        startOperator({ syncAfterPolls: 2 });

        await create(provider, syncedValueInputs());

        assertNoSecrets(provider.output(), [newKey, oldKey, kubeToken], "provider output");
      });
    });

    describe("kubeconfig", () => {
      beforeEach(() => {
        kube.putSecret(namespace, secretName, { OPENROUTER_API_KEY: newKey });
      });

      it("reads inline kubeconfig content", async () => {
        const provider = await startGate({ "kubernetes:kubeconfig": kube.kubeconfig() });

        const outs = await create(provider, syncedValueInputs());

        assert.equal(outs.polls, 1);
      });

      it("reads the KUBECONFIG environment variable", async () => {
        const provider = await startGate({}, { ...pollEnv, KUBECONFIG: kubeconfigFile });

        const outs = await create(provider, syncedValueInputs());

        assert.equal(outs.polls, 1);
      });

      it("prefers kubeContext over the context setting", async () => {
        const provider = await startGate({
          "kubernetes:kubeconfig": kubeconfigFile,
          "kubernetes:context": "missing",
        });

        const outs = await create(provider, syncedValueInputs({ kubeContext: "fake" }));

        assert.equal(outs.polls, 1);
      });

      it("rejects an unknown context", async () => {
        const provider = await startGate({
          "kubernetes:kubeconfig": kubeconfigFile,
          "kubernetes:context": "missing",
        });

        const error = await rejectionOf(create(provider, syncedValueInputs()));

        assert.match(error.message, /context "missing" is not in the kubeconfig/);
        assert.match(error.message, /contexts: fake/);
      });

      it("keeps invalid content out of the error", async () => {
        const broken = `apiVersion: v1\nusers:\n - name: u\n   user: {token: ${kubeToken}\nx: [`;
        const provider = await startGate({ "kubernetes:kubeconfig": broken });

        const error = await rejectionOf(create(provider, syncedValueInputs()));

        assert.match(error.message, /is invalid YAML at line \d+/);
        assertNoSecrets(error.message, [kubeToken], "the error");
      });

      it("rejects a path that does not exist", async () => {
        const missing = path.join(directory, "nothing");
        const provider = await startGate({ "kubernetes:kubeconfig": missing });

        const error = await rejectionOf(create(provider, syncedValueInputs()));

        assert.match(error.message, /names no existing file/);
      });

      it("rejects a missing KUBECONFIG file", async () => {
        const missing = path.join(directory, "nothing");
        const provider = await startGate({}, { ...pollEnv, KUBECONFIG: missing });

        const error = await rejectionOf(create(provider, syncedValueInputs()));

        assert.match(error.message, /kubeconfig file .*nothing named in KUBECONFIG was not found/);
        assert.doesNotMatch(error.message, /invalid/);
      });

      it("fails at once on a failing credential plugin", async () => {
        const runs = path.join(directory, "plugin-runs");
        const script = `echo run >> '${runs}'; echo 'refresh_token=EXEC-SECRET-abc' >&2; exit 1`;
        const file = kubeconfigWithUser({
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "/bin/sh",
            args: ["-c", script],
          },
        });
        const provider = await startGate({ "kubernetes:kubeconfig": file });

        const error = await rejectionOf(create(provider, syncedValueInputs()));

        assert.match(error.message, /the kubeconfig's credential plugin failed/);
        assert.doesNotMatch(error.message, /Timed out/);
        assertNoSecrets(error.message, ["EXEC-SECRET-abc", "refresh_token"], "the error");
        assertNoSecrets(provider.output(), ["EXEC-SECRET-abc"], "provider output");
        assert.equal(fs.readFileSync(runs, "utf8").trim().split("\n").length, 1);
        assert.equal(kube.requests.length, 0);
      });

      it("redacts a plugin token in a status", async () => {
        const pluginToken = "kube-PLACEHOLDER-exec-token";
        const credential = {
          apiVersion: "client.authentication.k8s.io/v1beta1",
          kind: "ExecCredential",
          status: { token: pluginToken },
        };
        const file = kubeconfigWithUser({
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "/bin/sh",
            args: ["-c", `echo '${JSON.stringify(credential)}'`],
          },
        });
        kube.fail({
          method: "GET",
          path: /\/secrets\//,
          status: 403,
          body: {
            kind: "Status",
            apiVersion: "v1",
            status: "Failure",
            message: `user with token ${pluginToken} cannot get secrets`,
            reason: "Forbidden",
            code: 403,
          },
        });
        const provider = await startGate({ "kubernetes:kubeconfig": file });

        const error = await rejectionOf(create(provider, syncedValueInputs()));

        assert.match(error.message, /failed with status 403: user with token \[redacted\] cannot/);
        assertNoSecrets(error.message, [pluginToken], "the error");
        assert.equal(kube.requests[0].headers.authorization, `Bearer ${pluginToken}`);
      });

      it("rejects a missing kubeconfig", async () => {
        const provider = await startGate({}, { ...pollEnv, HOME: directory });

        const error = await rejectionOf(create(provider, syncedValueInputs()));

        assert.match(error.message, /No kubeconfig found/);
        assert.doesNotMatch(error.message, /localhost:8080/);
      });
    });

    describe("operatorLogin", () => {
      let infisical: InfisicalFake;
      let newSecretId: string;

      beforeEach(async () => {
        infisical = await startInfisicalFake();
        infisical.addIdentity({ id: programIdentityId, clientId: programClientId, role: "writer" });
        infisical.addClientSecret(programIdentityId, { secret: programClientSecret });
        infisical.addIdentity({
          id: operatorIdentityId,
          clientId: operatorClientId,
          role: "reader",
        });
        infisical.addClientSecret(operatorIdentityId, { secret: oldOperatorClientSecret });
        newSecretId = infisical.addClientSecret(operatorIdentityId, {
          secret: newOperatorClientSecret,
        }).id;
        // The client-secret provider logs in once with a new secret before it hands it on.
        assert.equal(await login(newOperatorClientSecret), 200);

        putAuthSecret(oldOperatorClientSecret);
        kube.putInfisicalSecret(namespace, infisicalSecretName);
        setCondition(kube, { namespace, name: infisicalSecretName }, readyFromOldLogin);
      });

      afterEach(async () => {
        await infisical.close();
      });

      const readyFromOldLogin = {
        type: readyCondition,
        status: "True" as const,
        reason: "OK",
        message:
          "Infisical controller has started syncing your secrets. Last reconcile synced 3 secrets",
      };

      async function login(clientSecret: string): Promise<number> {
        const response = await fetch(`${infisical.apiUrl}/v1/auth/universal-auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ clientId: operatorClientId, clientSecret }),
        });
        return response.status;
      }

      async function revoke(clientSecretId: string): Promise<void> {
        const loginResponse = await fetch(`${infisical.apiUrl}/v1/auth/universal-auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ clientId: programClientId, clientSecret: programClientSecret }),
        });
        const { accessToken } = (await loginResponse.json()) as { accessToken: string };
        const route = `/v1/auth/universal-auth/identities/${operatorIdentityId}/client-secrets`;
        const response = await fetch(`${infisical.apiUrl}${route}/${clientSecretId}/revoke`, {
          method: "POST",
          headers: { authorization: `Bearer ${accessToken}` },
        });
        assert.equal(response.status, 200);
      }

      function putAuthSecret(clientSecret: string): void {
        kube.putSecret(namespace, authSecretName, { clientId: operatorClientId, clientSecret });
      }

      function loginInputs(timeoutSeconds = 20): Record<string, unknown> {
        const inputs = operatorLoginInputs();
        const check = inputs.operatorLogin as Record<string, unknown>;
        return {
          ...inputs,
          trigger: newSecretId,
          timeoutSeconds,
          operatorLogin: { ...check, apiUrl: infisical.apiUrl, clientSecretId: newSecretId },
        };
      }

      function startLoginOperator(opts: Parameters<typeof fakeOperator>[1]): void {
        operator = fakeOperator(kube, {
          login: {
            infisicalUrl: infisical.url,
            authSecret: { namespace, name: authSecretName },
            infisicalSecret: { namespace, name: infisicalSecretName },
          },
          ...opts,
        });
      }

      // Resolves once the gate has read the new client secret, so a login after it is seen by
      // a later poll however long the provider process took to start.
      async function firstClientSecretRead(): Promise<void> {
        const path = `/client-secrets/${newSecretId}`;
        while (!infisical.requests.some((r) => r.path.endsWith(path) && r.status === 200)) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }

      function usesOf(secretId: string): number | undefined {
        return infisical.clientSecrets(operatorIdentityId).find((r) => r.id === secretId)?.numUses;
      }

      it("returns after the operator logs in with the new secret", async () => {
        const provider = await startGate();
        const created = create(provider, loginInputs());
        await firstClientSecretRead();
        putAuthSecret(newOperatorClientSecret);
        startLoginOperator({ syncAfterMs: 1000 });

        const outs = await created;

        assert.equal(usesOf(newSecretId), 2);
        assert.ok(outs.waitedSeconds < 5, `waitedSeconds ${outs.waitedSeconds}`);
        assert.ok(outs.polls > 1, `polls ${outs.polls}`);
      });

      it("reads the InfisicalSecret only after the new login", async () => {
        const usesAtRead: Array<number | undefined> = [];
        kube.onRequest((request) => {
          if (request.path.endsWith(`/infisicalsecrets/${infisicalSecretName}`)) {
            usesAtRead.push(usesOf(newSecretId));
          }
        });
        const provider = await startGate();
        const created = create(provider, loginInputs());
        await firstClientSecretRead();
        putAuthSecret(newOperatorClientSecret);
        startLoginOperator({ syncAfterMs: 200 });

        const outs = await created;

        assert.ok(outs.polls > 1, `polls ${outs.polls}`);
        assert.ok(usesAtRead.length >= 1, "the InfisicalSecret was not read");
        assert.ok(
          usesAtRead.every((uses) => uses === 2),
          `uses at each read: ${usesAtRead.join(", ")}`,
        );
      });

      it("asks Infisical with the program's identity", async () => {
        const provider = await startGate();
        putAuthSecret(newOperatorClientSecret);
        startLoginOperator({ syncAfterMs: 0 });

        await create(provider, loginInputs());

        const logins = infisical.requests.filter((r) => r.path.endsWith("/universal-auth/login"));
        const programLogins = logins.filter(
          (r) => (r.body as { clientId?: string }).clientId === programClientId,
        );
        assert.ok(programLogins.length >= 1, "the program did not log in");
        const gets = infisical.requests.filter((r) =>
          r.path.endsWith(`/client-secrets/${newSecretId}`),
        );
        assert.ok(gets.length >= 1, "the client secret was not read");
        assert.ok(gets.every((r) => r.status === 200));
      });

      it("fails when the operator keeps the old secret", async () => {
        const provider = await startGate();
        // The operator read the old secret at its start and does not read the new one.
        startLoginOperator({ syncAfterMs: 0, neverLogsIn: true });
        putAuthSecret(newOperatorClientSecret);

        const error = await rejectionOf(create(provider, loginInputs(1)));

        assert.match(error.message, /^Timed out after 1 s/);
        assert.match(
          error.message,
          new RegExp(`the operator did not log in with the new client secret ${newSecretId}`),
        );
        assert.match(error.message, /used 1 time, counting the verification login/);
        assert.equal(usesOf(newSecretId), 1);
      });

      it("fails when the sync after the login fails", async () => {
        const provider = await startGate();
        putAuthSecret(newOperatorClientSecret);
        startLoginOperator({ syncAfterMs: 0, syncError: "Folder with path '/app' not found" });

        const error = await rejectionOf(create(provider, loginInputs(1)));

        assert.match(error.message, /the InfisicalSecret anything-llm\/anythingllm is not ready/);
        assert.match(error.message, /Folder with path '\/app' not found/);
      });

      it("fails at once on a non-numeric use count", async () => {
        infisical.fail({
          method: "GET",
          path: new RegExp(`/client-secrets/${newSecretId}$`),
          status: 200,
          body: { clientSecretData: { clientSecretNumUses: "5", isClientSecretRevoked: false } },
          times: Infinity,
        });
        const provider = await startGate();

        const error = await rejectionOf(create(provider, loginInputs()));

        assert.match(error.message, /without a numeric clientSecretNumUses/);
        assert.doesNotMatch(error.message, /Timed out/);
        const reads = kube.requests.filter((r) => r.path.includes("/infisicalsecrets/"));
        assert.equal(reads.length, 0);
      });

      it("fails at once when the new secret is revoked", async () => {
        await revoke(newSecretId);
        const provider = await startGate();

        const error = await rejectionOf(create(provider, loginInputs()));

        assert.match(error.message, new RegExp(`client secret ${newSecretId} .* is revoked`));
        assert.doesNotMatch(error.message, /Timed out/);
      });

      it("keeps secrets out of outputs and errors", async () => {
        const provider = await startGate();
        startLoginOperator({ syncAfterMs: 0, neverLogsIn: true });
        putAuthSecret(newOperatorClientSecret);
        const secrets = [
          newOperatorClientSecret,
          oldOperatorClientSecret,
          programClientSecret,
          kubeToken,
        ];

        const error = await rejectionOf(create(provider, loginInputs(1)));

        assertNoSecrets(error.message, secrets, "the error");
        assertNoSecrets(provider.output(), secrets, "provider output");
      });
    });

    describe("update, read and delete", () => {
      it("keeps the confirmation on a new timeout", async () => {
        const provider = await startGate();
        const olds = {
          ...syncedValueInputs(),
          confirmedAt: "2026-01-01T00:00:00.000Z",
          waitedSeconds: 2,
          polls: 3,
        };

        const result = await provider.call(
          "update",
          "id-1",
          olds,
          syncedValueInputs({ timeoutSeconds: 900 }),
        );

        assert.equal(result.outs.timeoutSeconds, 900);
        assert.equal(result.outs.confirmedAt, "2026-01-01T00:00:00.000Z");
        assert.equal(result.outs.waitedSeconds, 2);
        assert.equal(result.outs.polls, 3);
        assert.equal(kube.requests.length, 0);
      });

      it("reads the props unchanged", async () => {
        const provider = await startGate();
        const props = { ...syncedValueInputs(), confirmedAt: "t", waitedSeconds: 1, polls: 1 };

        const result = await provider.call("read", "id-1", props);

        assert.deepEqual(result, { id: "id-1", props });
        assert.equal(kube.requests.length, 0);
      });

      it("deletes without calling the cluster", async () => {
        const provider = await startGate();

        await provider.call("delete", "id-1", syncedValueInputs());

        assert.equal(kube.requests.length, 0);
      });
    });
  });

  describe("class", () => {
    let ClusterSyncGate: typeof gateModule.ClusterSyncGate;
    const registered: Array<{ type: string; inputs: Record<string, unknown> }> = [];

    before(async () => {
      pulumi.runtime.setMocks({
        newResource: (args) => {
          registered.push({ type: args.type, inputs: args.inputs });
          const outs = { confirmedAt: "2026-01-01T00:00:00.000Z", waitedSeconds: 1.5, polls: 2 };
          return { id: `${args.name}-id`, state: { ...args.inputs, ...outs } };
        },
        call: () => ({}),
      });
      ({ ClusterSyncGate } = await import("../../providers/ClusterSyncGate"));
    });

    function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
      return new Promise((resolve) => output.apply(resolve));
    }

    function createGate(): gateModule.ClusterSyncGate {
      registered.length = 0;
      const key = pulumi.secret(newKey);
      return new ClusterSyncGate("gate", {
        trigger: "hash-new",
        syncedValue: {
          namespace,
          secretName,
          secretKey: "OPENROUTER_API_KEY",
          valueSha256: key.apply(sha256Hex),
        },
      });
    }

    it("registers the anythingllm type", async () => {
      const gate = createGate();
      await valueOf(gate.polls);

      assert.equal(registered[0].type, "pulumi-nodejs:dynamic/anythingllm:ClusterSyncGate");
    });

    it("exposes the confirmation outputs", async () => {
      const gate = createGate();

      assert.equal(await valueOf(gate.polls), 2);
      assert.equal(await valueOf(gate.waitedSeconds), 1.5);
      assert.equal(await valueOf(gate.confirmedAt), "2026-01-01T00:00:00.000Z");
    });

    it("sends the digest, not the value", async () => {
      const gate = createGate();
      await valueOf(gate.polls);

      // A digest computed from a secret stays secret, so the check arrives wrapped as one.
      const wrapped = registered[0].inputs.syncedValue as Record<string, unknown>;
      assert.equal(wrapped[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig);
      const check = wrapped.value as { valueSha256: string };
      assert.equal(check.valueSha256, sha256Hex(newKey));
      const { __provider: _text, ...inputs } = registered[0].inputs;
      assert.ok(!JSON.stringify(inputs).includes(newKey), "the inputs contain the value");
    });
  });

  describe("serialized text", () => {
    afterEach(() => {
      clearProviderConfig();
      clearKubernetesSettings();
    });

    it("contains no kubeconfig token", async () => {
      const inline = `{"users":[{"name":"u","user":{"token":"${kubeToken}"}}]}`;
      // Configured in this process too, so a captured config would appear in the text.
      await clusterSyncGateProvider.configure!({
        config: {
          get: (key: string) => ({ ...providerConfig, "kubernetes:kubeconfig": inline })[key],
          require: () => "",
        },
      } as never);
      const gate = await startSerializedProvider(clusterSyncGateProvider, {
        config: providerConfig,
      });
      await gate.close();

      // The text contains the HTTP code, so the word Bearer is expected and only values are checked.
      for (const secret of [kubeToken, ...Object.values(providerConfig)]) {
        assert.ok(!gate.text.includes(secret), `the serialized text contains ${secret}`);
      }
    });
  });
});
