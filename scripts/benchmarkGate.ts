// Measures how long the cluster sync gate delays a rotation between the Infisical write and the
// deletion of the old credential, against the fake Kubernetes API and a fake operator, and prints
// one JSON line per case. Run by scripts/benchmark.sh; nothing here is a test.
import { clusterSyncGateProvider, sha256Hex } from "../providers/ClusterSyncGate";
import { fakeOperator, startKubernetesFake } from "../test/fakes/kubernetes";
import { startSerializedProvider } from "../test/support/serializedProvider";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";

const namespace = "anything-llm";
const secretName = "anythingllm-secrets";
const newKey = "sk-or-v1-NEW-PLACEHOLDER";

async function measure(syncAfterMs: number): Promise<Record<string, number>> {
  const kube = await startKubernetesFake();
  const directory = await mkdtemp(path.join(tmpdir(), "gate-benchmark-"));
  const kubeconfigPath = kube.writeKubeconfig(directory);
  const provider = await startSerializedProvider(clusterSyncGateProvider, {
    env: { KUBECONFIG: kubeconfigPath, ANYTHINGLLM_GATE_POLL_MS: "1000" },
  });
  try {
    kube.putSecret(namespace, secretName, { OPENROUTER_API_KEY: "sk-or-v1-OLD-PLACEHOLDER" });
    const started = Date.now();
    const operator = fakeOperator(kube, {
      managedSecret: { namespace, name: secretName },
      values: { OPENROUTER_API_KEY: newKey },
      syncAfterMs,
    });
    const created = await provider.call("create", {
      trigger: "benchmark",
      timeoutSeconds: 120,
      syncedValue: {
        namespace,
        secretName,
        secretKey: "OPENROUTER_API_KEY",
        valueSha256: sha256Hex(newKey),
      },
    });
    operator.stop();
    return {
      operatorSyncMs: syncAfterMs,
      gateHeldMs: Date.now() - started,
      polls: created.outs.polls,
    };
  } finally {
    await provider.close();
    await kube.close();
    await rm(directory, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  for (const syncAfterMs of [1_000, 5_000, 30_000]) {
    process.stdout.write(`${JSON.stringify(await measure(syncAfterMs))}\n`);
  }
}

main().catch((error: Error) => {
  process.stderr.write(`gate benchmark failed: ${error.message}\n`);
  process.exit(1);
});
