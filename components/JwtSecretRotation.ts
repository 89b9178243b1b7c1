import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

import { InfisicalSecretValue } from "../providers/InfisicalSecretValue";
import {
  createRotator,
  InfisicalTargetArgs,
  RotationScheduleArgs,
  warnWhenOverdue,
} from "./rotation";

/** Name of the Infisical secret that holds AnythingLLM's JWT signing secret. */
export const jwtSecretName = "JWT_SECRET";

/** Length of a JWT_SECRET in bytes; written as twice as many hex characters. */
export const jwtSecretBytes = 32;

/** Builds the keepers of the random bytes: only the rotator's id, so nothing else regenerates them. */
export function jwtKeepers(rotationId: string): Record<string, string> {
  return { rotation: rotationId };
}

/** Arguments of {@link JwtSecretRotation}. */
export interface JwtSecretRotationArgs extends RotationScheduleArgs {
  /** Where the secret is written. */
  infisical: InfisicalTargetArgs;
}

/**
 * AnythingLLM's `JWT_SECRET`, rotated on a schedule: 32 random bytes, hex-encoded, written to
 * Infisical. A new secret signs users out; nothing else holds the old one, so nothing is deleted.
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

    new InfisicalSecretValue(
      `${name}-secret`,
      {
        apiUrl: args.infisical.apiUrl,
        projectSlug: args.infisical.projectSlug,
        environment: args.infisical.envSlug,
        secretPath: args.infisical.secretsPath,
        secretName: jwtSecretName,
        value: bytes.hex,
      },
      { parent: this },
    );

    this.lastRotated = rotator.rfc3339;
    this.nextRotationDue = rotator.rotationRfc3339;
    this.registerOutputs({
      lastRotated: this.lastRotated,
      nextRotationDue: this.nextRotationDue,
    });
  }
}
