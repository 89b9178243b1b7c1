import * as crypto from "node:crypto";

import { HarnessProvider, Props } from "./engine";

/** A clock that the simulation moves forward; milliseconds since the epoch. */
export interface SimulationClock {
  now(): number;
}

/**
 * Stand-in for `time.Rotating` of `@pulumiverse/time`: the id is the base time, and a refresh after the
 * rotation time removes the resource, as terraform-provider-time 0.12 does in its read.
 */
export function rotatingProvider(clock: SimulationClock): HarnessProvider {
  return {
    async diff(_id, olds, news) {
      const changed =
        olds.rotationMinutes !== news.rotationMinutes ||
        JSON.stringify(olds.triggers ?? {}) !== JSON.stringify(news.triggers ?? {});
      return changed ? { changes: true, replaces: ["triggers"] } : { changes: false };
    },
    async create(inputs) {
      const base = new Date(clock.now());
      const due = new Date(base.getTime() + inputs.rotationMinutes * 60_000);
      const id = base.toISOString();
      return {
        id,
        outs: { ...inputs, rfc3339: id, rotationRfc3339: due.toISOString() },
      };
    },
    async read(id, props) {
      if (clock.now() > Date.parse(props.rotationRfc3339)) {
        return { id: "" };
      }
      return { id, props };
    },
  };
}

/** Stand-in for `random.RandomBytes`: new bytes whenever the keepers change. */
export function randomBytesProvider(): HarnessProvider {
  return {
    async diff(_id, olds, news) {
      const changed = JSON.stringify(olds.keepers ?? {}) !== JSON.stringify(news.keepers ?? {});
      return changed ? { changes: true, replaces: ["keepers"] } : { changes: false };
    },
    async create(inputs) {
      const hex = crypto.randomBytes(inputs.length).toString("hex");
      return { id: crypto.randomUUID(), outs: { ...inputs, hex } };
    },
    async read(id, props) {
      return { id, props };
    },
  };
}

/** What the simulated cluster holds: the operator's auth Secret and the managed Secret it writes. */
export interface SimulatedCluster {
  authSecret?: { clientId: string; clientSecret: string };
  /** Runs one operator sync; returns false when the operator cannot log in. */
  sync(): Promise<boolean>;
}

/** Stand-in for the Kubernetes Secret `infisical-universal-auth`: updated in place, never replaced. */
export function authSecretProvider(cluster: SimulatedCluster): HarnessProvider {
  const write = (inputs: Props) => {
    cluster.authSecret = { clientId: inputs.clientId, clientSecret: inputs.clientSecret };
  };
  return {
    async diff(_id, olds, news) {
      const changed = olds.clientId !== news.clientId || olds.clientSecret !== news.clientSecret;
      return { changes: changed };
    },
    async create(inputs) {
      write(inputs);
      return { id: "infisical-universal-auth", outs: { ...inputs } };
    },
    async update(_id, _olds, news) {
      write(news);
      return { outs: { ...news } };
    },
    async read(id, props) {
      return { id, props };
    },
  };
}

/** Seconds between two syncs of the operator, its `resyncInterval` in the prod stack. */
export const operatorResyncSeconds = 60;

/**
 * Computes how long the sync gate delays a rotation when the operator syncs `syncDelaySeconds`
 * after the Infisical write: the time of the first poll at or after that sync. The gate polls at
 * once, then after 1 s, each wait 1.5 times longer, up to 10 s, as `ClusterSyncGate` does with its
 * default interval. The rollout of the pods is not modelled.
 */
export function gateHoldSeconds(syncDelaySeconds: number): number {
  let pollAtSeconds = 0;
  let intervalSeconds = 1;
  while (pollAtSeconds < syncDelaySeconds) {
    pollAtSeconds += intervalSeconds;
    intervalSeconds = Math.min(intervalSeconds * 1.5, 10);
  }
  return pollAtSeconds;
}

/** Simulated seconds each grace step held its rotation, with the fixed wait it replaces. */
export interface HoldRecord {
  gateSeconds: number;
  fixedWaitSeconds: number;
}

/**
 * Stand-in for the step between the Infisical write and the deletion of the old credential (the
 * sync gate, or `time.Sleep` when the gate is off), replaced with each new credential. Nothing
 * waits, but the operator syncs during it, and `holds` records how long the gate would have held
 * the run: until the operator's next resync. The resync is not aligned with the run, so its delay
 * is drawn from 1 to 60 s, derived from the new credential so that runs are repeatable.
 */
export function graceProvider(
  cluster: SimulatedCluster,
  holds: HoldRecord[],
  fixedWaitSeconds: number,
): HarnessProvider {
  return {
    async diff(_id, olds, news) {
      const changed = JSON.stringify(olds.triggers ?? {}) !== JSON.stringify(news.triggers ?? {});
      return changed ? { changes: true, replaces: ["triggers"] } : { changes: false };
    },
    async create(inputs) {
      const digest = crypto.createHash("sha256").update(JSON.stringify(inputs.triggers));
      const syncDelaySeconds = 1 + (digest.digest().readUInt32BE(0) % operatorResyncSeconds);
      holds.push({ gateSeconds: gateHoldSeconds(syncDelaySeconds), fixedWaitSeconds });
      await cluster.sync();
      return { id: crypto.randomUUID(), outs: { ...inputs } };
    },
    async read(id, props) {
      return { id, props };
    },
  };
}
