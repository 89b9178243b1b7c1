import * as pulumi from "@pulumi/pulumi";
import * as time from "@pulumiverse/time";

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

/** Where in Infisical a rotated credential is written. */
export interface InfisicalTargetArgs {
  /** Infisical API base ending in `/api`. */
  apiUrl: pulumi.Input<string>;
  projectSlug: pulumi.Input<string>;
  envSlug: pulumi.Input<string>;
  /** Infisical folder path, starting with "/". */
  secretsPath: pulumi.Input<string>;
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
    { rotationDays: args.rotationDays, triggers: rotatorTriggers(args.rotateNow) },
    { parent },
  );
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
