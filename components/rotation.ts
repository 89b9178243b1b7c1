import * as pulumi from "@pulumi/pulumi";
import * as time from "@pulumiverse/time";

import { ClusterSyncGate, sha256Hex } from "../providers/ClusterSyncGate";
import { InfisicalSecretValue } from "../providers/InfisicalSecretValue";

/** Arguments shared by the rotation components' schedules. */
export interface RotationScheduleArgs {
  /** Days between rotations, 1 to 365. */
  rotationDays: number;
  /**
   * Stamp that rotates the credential now when it changes, e.g. an ISO timestamp. Removing it is a
   * change too. It goes into this credential's rotator triggers only, so no other credential
   * rotates with it.
   */
  rotateNow?: string;
}

/** Infisical location a rotated credential is written to. */
export interface InfisicalTargetArgs {
  /** Infisical API base ending in `/api`. */
  apiUrl: pulumi.Input<string>;
  projectSlug: pulumi.Input<string>;
  envSlug: pulumi.Input<string>;
  /** Infisical folder path, starting with "/". */
  secretsPath: pulumi.Input<string>;
}

/** Creates the Infisical secret `secretName` at `target`, holding `value`, as a child of `parent`. */
export function writeToInfisical(
  name: string,
  target: InfisicalTargetArgs,
  secretName: string,
  value: pulumi.Input<string>,
  parent: pulumi.Resource,
): InfisicalSecretValue {
  return new InfisicalSecretValue(
    name,
    {
      apiUrl: target.apiUrl,
      projectSlug: target.projectSlug,
      environment: target.envSlug,
      secretPath: target.secretsPath,
      secretName,
      value,
    },
    { parent },
  );
}

/** Builds the `createDuration` of a grace wait, e.g. `120s`. */
export function graceDuration(gracePeriodSeconds: number): string {
  return `${gracePeriodSeconds}s`;
}

/** Builds the triggers of a rotator: the rotate-now stamp when one is set, else none. */
export function rotatorTriggers(rotateNow: string | undefined): Record<string, string> | undefined {
  return rotateNow === undefined || rotateNow === "" ? undefined : { rotateNow };
}

/**
 * Minutes before the full period at which a rotation counts as due. A daily scheduled run starts
 * at a slightly different time each day. Without this margin, a run that starts a few minutes
 * earlier than the one that rotated last finds the rotation not yet due, and a 7-day period
 * becomes 8 days. Six hours covers the start delays of cron-based schedulers, and a manual run
 * can rotate at most that much early.
 */
export const scheduleToleranceMinutes = 360;

/** Builds the rotator's period in minutes: the rotation days less the schedule tolerance. */
export function rotationMinutes(rotationDays: number): number {
  return rotationDays * 24 * 60 - scheduleToleranceMinutes;
}

/**
 * Creates the `time.Rotating` that schedules a credential. Its id changes when it is replaced,
 * so consumers take the id as their rotation trigger.
 */
export function createRotator(
  name: string,
  args: RotationScheduleArgs,
  parent: pulumi.Resource,
): time.Rotating {
  return new time.Rotating(
    name,
    {
      rotationMinutes: rotationMinutes(args.rotationDays),
      triggers: rotatorTriggers(args.rotateNow),
    },
    { parent },
  );
}

/** Settings of the step that confirms the cluster uses a new credential before the old one goes. */
export interface HandOffArgs {
  /** Polls the cluster with a {@link ClusterSyncGate}; false waits `gracePeriodSeconds` instead. */
  syncGate: boolean;
  /** Seconds the gate polls before it fails the run and keeps the old credential, 1 to 3600. */
  syncGateTimeoutSeconds: number;
  /** Seconds of the fixed wait used when the gate is off, 0 to 3600. */
  gracePeriodSeconds: number;
}

/** The managed Secret that the operator writes and the Deployment that restarts with it. */
export interface SyncedSecretArgs {
  namespace: pulumi.Input<string>;
  managedSecretName: pulumi.Input<string>;
  /** Deployment to watch roll out; unset when the program does not enable auto-reload on it. */
  deploymentName?: pulumi.Input<string>;
}

/**
 * Creates the step between writing a new value to Infisical and deleting the old credential:
 * a gate that waits until the managed Secret contains the value and the Deployment rolled out with
 * it, or a fixed wait when the gate is off. Either one is replaced with each new `trigger`, so it
 * runs in every rotation, after `dependsOn` and before the run's deletions.
 */
export function waitForSyncedValue(
  name: string,
  handOff: HandOffArgs,
  value: { secretKey: string; value: pulumi.Output<string>; trigger: pulumi.Input<string> },
  synced: SyncedSecretArgs,
  opts: { parent: pulumi.Resource; dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]> },
): pulumi.CustomResource {
  if (!handOff.syncGate) {
    return fixedWait(name, handOff, value.trigger, opts);
  }
  return new ClusterSyncGate(
    name,
    {
      trigger: value.trigger,
      timeoutSeconds: handOff.syncGateTimeoutSeconds,
      syncedValue: {
        namespace: synced.namespace,
        secretName: synced.managedSecretName,
        secretKey: value.secretKey,
        valueSha256: value.value.apply(sha256Hex),
        deploymentName: synced.deploymentName,
      },
    },
    opts,
  );
}

/** Creates the fixed wait used in place of the sync gate, replaced with each new `trigger`. */
export function fixedWait(
  name: string,
  handOff: HandOffArgs,
  trigger: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): time.Sleep {
  return new time.Sleep(
    name,
    { createDuration: graceDuration(handOff.gracePeriodSeconds), triggers: { trigger } },
    opts,
  );
}

/**
 * Writes a rotated value to the Infisical secret `secretKey` and creates the step that confirms
 * the cluster uses it, named `<name>-secret` and `<name>-sync`. The step waits for the write and
 * for `syncDependsOn`.
 */
export function writeAndConfirm(
  name: string,
  args: {
    infisical: InfisicalTargetArgs;
    handOff: HandOffArgs;
    synced: SyncedSecretArgs;
    syncDependsOn?: pulumi.Input<pulumi.Resource>[];
  },
  value: { secretKey: string; value: pulumi.Output<string>; trigger: pulumi.Input<string> },
  parent: pulumi.Resource,
): { secretValue: InfisicalSecretValue; confirmation: pulumi.CustomResource } {
  const secretValue = writeToInfisical(
    `${name}-secret`,
    args.infisical,
    value.secretKey,
    value.value,
    parent,
  );
  const confirmation = waitForSyncedValue(`${name}-sync`, args.handOff, value, args.synced, {
    parent,
    dependsOn: [secretValue, ...(args.syncDependsOn ?? [])],
  });
  return { secretValue, confirmation };
}

/** Returns whether a rotation that was due at `dueRfc3339` is overdue at `nowMs`. */
export function isRotationOverdue(dueRfc3339: string | undefined, nowMs: number): boolean {
  if (dueRfc3339 === undefined || dueRfc3339 === "") {
    return false;
  }
  const dueMs = Date.parse(dueRfc3339);
  return !Number.isNaN(dueMs) && dueMs < nowMs;
}

/**
 * Warns during an update when a rotator's due time has passed. The time provider replaces an
 * expired rotator only while refreshing, so this happens when a run skips the refresh.
 */
export function warnWhenOverdue(
  rotator: time.Rotating,
  credential: string,
  resource: pulumi.Resource,
): void {
  if (pulumi.runtime.isDryRun()) {
    return;
  }
  rotator.rotationRfc3339.apply((due) => {
    if (isRotationOverdue(due, Date.now())) {
      pulumi.log.warn(
        `The ${credential} was due for rotation at ${due} but was not rotated, because this run ` +
          "did not refresh the state and the rotation schedule is only read on refresh. " +
          "Fix: run `pulumi up --refresh`.",
        resource,
      );
    }
  });
}

/** Returns the name prefix of a rotated credential, `anythingllm-<stack>-<resource>`. */
export function credentialNamePrefix(resourceName: string): string {
  return `anythingllm-${pulumi.getStack()}-${resourceName}`;
}
