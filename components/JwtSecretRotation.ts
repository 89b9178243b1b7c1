import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

import { sha256Hex } from "../providers/ClusterSyncGate";
import { HealthCheck } from "../providers/HealthCheck";
import {
  createRotator,
  HandOffArgs,
  InfisicalTargetArgs,
  RotationScheduleArgs,
  SyncedSecretArgs,
  warnWhenOverdue,
  writeAndConfirm,
} from "./rotation";

/** Name of the Infisical secret that contains AnythingLLM's JWT signing secret. */
export const jwtSecretName = "JWT_SECRET";

/** Length of a JWT_SECRET in bytes; written as twice as many hex characters. */
export const jwtSecretBytes = 32;

/** Builds the keepers of the random bytes: the rotator's id alone, so nothing else renews them. */
export function jwtKeepers(rotationId: string): Record<string, string> {
  return { rotation: rotationId };
}

/** Arguments of {@link JwtSecretRotation}. */
export interface JwtSecretRotationArgs extends RotationScheduleArgs {
  /** Infisical location the secret is written to. */
  infisical: InfisicalTargetArgs;
  /** Check that the cluster uses the new secret. */
  handOff: HandOffArgs;
  /** The managed Secret and Deployment that receive the secret. */
  synced: SyncedSecretArgs;
  /** Resources the confirmation waits for besides the Infisical write, e.g. the InfisicalSecret. */
  syncDependsOn?: pulumi.Input<pulumi.Resource>[];
  /**
   * AnythingLLM URL that must answer 2xx after the pods restarted with a new secret; no check
   * when unset. A failed check fails the run.
   */
  healthCheckUrl?: pulumi.Input<string>;
}

/**
 * AnythingLLM's `JWT_SECRET`, rotated on a schedule: 32 random bytes, hex-encoded, written to
 * Infisical, then confirmed in the cluster like the other credentials. When a URL is given, a
 * request to AnythingLLM checks it afterwards. A new secret signs users out. Nothing else uses
 * the old one, so nothing is deleted.
 */
export class JwtSecretRotation extends pulumi.ComponentResource {
  /** When the current rotation period began (RFC 3339). */
  readonly lastRotated: pulumi.Output<string>;
  /** When the next rotation is due (RFC 3339). */
  readonly nextRotationDue: pulumi.Output<string>;

  constructor(name: string, args: JwtSecretRotationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("anythingllm:rotation:JwtSecretRotation", name, {}, opts);

    const rotator = createRotator(`${name}-rotator`, args, this);
    warnWhenOverdue(rotator, "JWT_SECRET", this);

    const bytes = new random.RandomBytes(
      `${name}-bytes`,
      { length: jwtSecretBytes, keepers: rotator.id.apply(jwtKeepers) },
      { parent: this },
    );

    const digest = bytes.hex.apply(sha256Hex);
    const { confirmation } = writeAndConfirm(
      name,
      args,
      { secretKey: jwtSecretName, value: bytes.hex, trigger: digest },
      this,
    );

    if (args.healthCheckUrl !== undefined) {
      new HealthCheck(
        `${name}-health`,
        // Secret in the state, because a health URL may carry a token in its query string.
        { url: pulumi.secret(args.healthCheckUrl), trigger: digest },
        { parent: this, dependsOn: [confirmation] },
      );
    }

    this.lastRotated = rotator.rfc3339;
    this.nextRotationDue = rotator.rotationRfc3339;
    this.registerOutputs({
      lastRotated: this.lastRotated,
      nextRotationDue: this.nextRotationDue,
    });
  }
}
