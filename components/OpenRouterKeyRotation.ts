import * as pulumi from "@pulumi/pulumi";

import { LimitReset, OpenRouterKey } from "../providers/OpenRouterKey";
import {
  createRotator,
  credentialNamePrefix,
  HandOffArgs,
  InfisicalTargetArgs,
  RotationScheduleArgs,
  SyncedSecretArgs,
  warnWhenOverdue,
  writeAndConfirm,
} from "./rotation";

/** Name of the Infisical secret that contains AnythingLLM's OpenRouter API key. */
export const openRouterSecretName = "OPENROUTER_API_KEY";

/** Arguments of {@link OpenRouterKeyRotation}. */
export interface OpenRouterKeyRotationArgs extends RotationScheduleArgs {
  /** OpenRouter API base, e.g. `https://openrouter.ai/api/v1`. */
  apiUrl: pulumi.Input<string>;
  /** Spending cap of each new key in USD; no cap when unset. */
  limit?: pulumi.Input<number>;
  /** Period after which the cap resets; never when unset. */
  limitReset?: pulumi.Input<LimitReset>;
  /** Infisical location the key is written to. */
  infisical: InfisicalTargetArgs;
  /** Check that the cluster uses the new key before the old key is deleted. */
  handOff: HandOffArgs;
  /** The managed Secret and Deployment that receive the key. */
  synced: SyncedSecretArgs;
  /** Resources the confirmation waits for besides the Infisical write, e.g. the InfisicalSecret. */
  syncDependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * The OpenRouter API key of AnythingLLM, rotated on a schedule. A new key is created and written
 * to Infisical. The sync gate waits until the managed Secret contains it and the pods restarted
 * with it, or a fixed wait passes when the gate is off. The old key is deleted at the end of the
 * run, after all creates and updates. A gate that times out fails the run and keeps the old key.
 */
export class OpenRouterKeyRotation extends pulumi.ComponentResource {
  /** Hash of the current key, its id in OpenRouter's management API. */
  readonly keyHash: pulumi.Output<string>;
  /** Name of the current key. */
  readonly keyName: pulumi.Output<string>;
  /** Creation time of the current key, as OpenRouter reports it. */
  readonly createdAt: pulumi.Output<string>;
  /** When the current rotation period began (RFC 3339). */
  readonly lastRotated: pulumi.Output<string>;
  /** When the next rotation is due (RFC 3339). */
  readonly nextRotationDue: pulumi.Output<string>;

  constructor(
    name: string,
    args: OpenRouterKeyRotationArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("anythingllm:rotation:OpenRouterKeyRotation", name, {}, opts);

    const rotator = createRotator(`${name}-rotator`, args, this);
    warnWhenOverdue(rotator, "OpenRouter API key", this);

    const key = new OpenRouterKey(
      `${name}-key`,
      {
        apiUrl: args.apiUrl,
        namePrefix: credentialNamePrefix(name),
        rotationTrigger: rotator.id,
        limit: args.limit,
        limitReset: args.limitReset,
      },
      { parent: this },
    );

    // The confirmation is replaced with every new key, so it runs after the Infisical write and
    // before the end of the run, when the replaced key is deleted.
    writeAndConfirm(
      name,
      args,
      { secretKey: openRouterSecretName, value: key.key, trigger: key.hash },
      this,
    );

    this.keyHash = key.hash;
    this.keyName = key.keyName;
    this.createdAt = key.createdAt;
    this.lastRotated = rotator.rfc3339;
    this.nextRotationDue = rotator.rotationRfc3339;
    this.registerOutputs({
      keyHash: this.keyHash,
      keyName: this.keyName,
      createdAt: this.createdAt,
      lastRotated: this.lastRotated,
      nextRotationDue: this.nextRotationDue,
    });
  }
}
