import * as pulumi from "@pulumi/pulumi";

import { ClusterSyncGate } from "../providers/ClusterSyncGate";
import { InfisicalClientSecret } from "../providers/InfisicalClientSecret";
import {
  createRotator,
  credentialNamePrefix,
  fixedWait,
  HandOffArgs,
  RotationScheduleArgs,
  warnWhenOverdue,
} from "./rotation";

/** Days a client secret outlives its rotation period, so a late rotation still finds it valid. */
export const clientSecretTtlMarginDays = 7;

/** Builds the TTL of a new client secret: the rotation period plus the margin, in seconds. */
export function clientSecretTtlSeconds(rotationDays: number): number {
  return (rotationDays + clientSecretTtlMarginDays) * 86400;
}

/** Arguments of {@link ClientSecretRotation}. */
export interface ClientSecretRotationArgs extends RotationScheduleArgs {
  /** Infisical API base ending in `/api`. */
  apiUrl: pulumi.Input<string>;
  /** Id (UUID) of the operator's machine identity. */
  identityId: pulumi.Input<string>;
  /** Universal-auth client id of that identity, used to check that a new secret can log in. */
  clientId: pulumi.Input<string>;
  /** Check that the operator uses the new secret before the old one is revoked. */
  handOff: HandOffArgs;
  /** The InfisicalSecret whose operator logs in with the client secret. */
  infisicalSecret: { namespace: pulumi.Input<string>; name: pulumi.Input<string> };
  /**
   * Resources that take the new client secret, such as the operator's credentials Secret. The
   * sync gate or grace wait starts after they are updated. It is an Input because the consumers
   * are built from this component's own output and exist only after it.
   */
  consumers: pulumi.Input<pulumi.Resource[]>;
}

/**
 * The universal-auth client secret of the operator's identity, rotated on a schedule. A new
 * secret is created and checked by a login, and the consumers are updated. The sync gate then
 * waits until the operator has logged in with it and synced, or a fixed wait passes when the gate
 * is off. The old secret is revoked at the end of the run.
 */
export class ClientSecretRotation extends pulumi.ComponentResource {
  /** The current client secret; secret. */
  readonly clientSecret: pulumi.Output<string>;
  /** Id of the current client secret in Infisical. */
  readonly clientSecretId: pulumi.Output<string>;
  /** When the current rotation period began (RFC 3339). */
  readonly lastRotated: pulumi.Output<string>;
  /** When the next rotation is due (RFC 3339). */
  readonly nextRotationDue: pulumi.Output<string>;

  constructor(
    name: string,
    args: ClientSecretRotationArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("anythingllm:rotation:ClientSecretRotation", name, {}, opts);

    const rotator = createRotator(`${name}-rotator`, args, this);
    warnWhenOverdue(rotator, "Infisical client secret of the operator", this);

    const secret = new InfisicalClientSecret(
      `${name}-secret`,
      {
        apiUrl: args.apiUrl,
        identityId: args.identityId,
        clientId: args.clientId,
        rotationTrigger: rotator.id,
        descriptionPrefix: credentialNamePrefix(name),
        ttlSeconds: clientSecretTtlSeconds(args.rotationDays),
      },
      { parent: this },
    );

    // Replaced with every new client secret; it runs after the consumers are updated, and the
    // replaced secret is revoked at the end of the run.
    const waitOpts = { parent: this, dependsOn: args.consumers };
    if (args.handOff.syncGate) {
      new ClusterSyncGate(
        `${name}-sync`,
        {
          trigger: secret.clientSecretId,
          timeoutSeconds: args.handOff.syncGateTimeoutSeconds,
          operatorLogin: {
            apiUrl: args.apiUrl,
            identityId: args.identityId,
            clientSecretId: secret.clientSecretId,
            infisicalSecretNamespace: args.infisicalSecret.namespace,
            infisicalSecretName: args.infisicalSecret.name,
          },
        },
        waitOpts,
      );
    } else {
      fixedWait(`${name}-sync`, args.handOff, secret.clientSecretId, waitOpts);
    }

    this.clientSecret = pulumi.secret(secret.clientSecret);
    this.clientSecretId = secret.clientSecretId;
    this.lastRotated = rotator.rfc3339;
    this.nextRotationDue = rotator.rotationRfc3339;
    this.registerOutputs({
      clientSecret: this.clientSecret,
      clientSecretId: this.clientSecretId,
      lastRotated: this.lastRotated,
      nextRotationDue: this.nextRotationDue,
    });
  }
}
