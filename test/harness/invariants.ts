// Checks that hold after every step of every simulated run: the credentials in use work, and no more
// than two managed credentials of a kind exist at any time.
import assert from "node:assert/strict";

import { StepRecord } from "./engine";
import { World, environment, projectSlug } from "./world";

/**
 * Registers the per-step checks on the world's engine; they start once a run has completed. A failed
 * check is added to `violations` instead of thrown, so it cannot pass for a failure of the run.
 */
export function checkEveryStep(world: World, active: () => boolean, violations: string[]): void {
  world.engine.afterEachStep((step) => {
    if (!active()) {
      return;
    }
    try {
      assertStepInvariants(world, step);
    } catch (error) {
      violations.push((error as Error).message);
    }
  });
}

function assertStepInvariants(world: World, step: StepRecord): void {
  assertCredentialsInUseWork(world, step);
  assert.ok(
    world.liveManagedKeys().length <= 2,
    `more than two managed OpenRouter keys after ${describe(step)}`,
  );
  assert.ok(
    world.liveManagedClientSecrets().length <= 2,
    `more than two managed client secrets after ${describe(step)}`,
  );
}

/** Asserts that the key in Infisical and in the cluster is accepted and the auth Secret logs in. */
export function assertCredentialsInUseWork(world: World, step?: StepRecord): void {
  const where = step === undefined ? "between runs" : `after ${describe(step)}`;
  const inInfisical = world.infisical.getSecretValue(
    projectSlug,
    environment,
    "/",
    "OPENROUTER_API_KEY",
  );
  assert.ok(inInfisical !== undefined, `OPENROUTER_API_KEY missing in Infisical ${where}`);
  assert.ok(
    world.openrouter.isKeyAccepted(inInfisical),
    `OPENROUTER_API_KEY in Infisical is not accepted by OpenRouter ${where}`,
  );

  const inCluster = world.cluster.managedSecret.OPENROUTER_API_KEY;
  assert.ok(inCluster !== undefined, `OPENROUTER_API_KEY missing in the cluster ${where}`);
  assert.ok(
    world.openrouter.isKeyAccepted(inCluster),
    `OPENROUTER_API_KEY in the cluster is not accepted by OpenRouter ${where}`,
  );

  const auth = world.cluster.authSecret;
  assert.ok(auth !== undefined, `auth Secret missing ${where}`);
  assert.ok(
    world.infisical.canLogin(auth.clientId, auth.clientSecret),
    `the auth Secret's client secret cannot log in ${where}`,
  );
}

/** After a completed run: one live credential of each kind, the one in the state, nothing pending. */
export function assertConverged(world: World): void {
  const keys = world.liveManagedKeys();
  assert.strictEqual(keys.length, 1, "live managed OpenRouter keys after a completed run");
  assert.strictEqual(
    keys[0].hash,
    world.engine.live("openrouter-key")?.outputs.hash,
    "the live OpenRouter key is not the one in the state",
  );

  const clientSecrets = world.liveManagedClientSecrets();
  assert.strictEqual(clientSecrets.length, 1, "live managed client secrets after a completed run");
  assert.strictEqual(
    clientSecrets[0].id,
    world.engine.live("client-secret")?.outputs.clientSecretId,
    "the live client secret is not the one in the state",
  );

  assert.deepStrictEqual(
    world.engine.pendingDeletes().map((entry) => entry.urn),
    [],
    "resources still pending deletion after a completed run",
  );
  assert.strictEqual(
    world.cluster.authSecret?.clientSecret,
    world.engine.live("client-secret")?.outputs.clientSecret,
    "the auth Secret does not hold the client secret in the state",
  );
}

/** Asserts that every key and client secret ever created is the live one or deleted. */
export function assertNoOrphans(world: World): void {
  const liveKeyHash = world.engine.live("openrouter-key")?.outputs.hash;
  for (const key of world.openrouter.allKeys()) {
    if (!key.name.startsWith("anythingllm-")) {
      continue;
    }
    assert.ok(key.deleted || key.hash === liveKeyHash, `orphaned OpenRouter key ${key.hash}`);
  }
  const liveClientSecretId = world.engine.live("client-secret")?.outputs.clientSecretId;
  for (const secret of world.liveManagedClientSecrets()) {
    assert.strictEqual(secret.id, liveClientSecretId, `orphaned client secret ${secret.id}`);
  }
}

function describe(step: StepRecord): string {
  return `${step.kind} of ${step.urn}${step.error === undefined ? "" : " (failed)"}`;
}
