import * as pulumi from "@pulumi/pulumi";
import { infisicalCredentials, storeProviderConfig } from "./credentials";
import { isApiNotFound, withHint } from "./http";
import {
  diffInfisicalResource,
  infisicalRequest,
  normalizeInfisicalApiUrl,
  verifyClientSecretLogin,
  withNormalizedApiUrl,
} from "./infisicalAuth";
import { createInputChecker, withoutUndefined } from "./inputs";

/** Arguments of an `InfisicalClientSecret`. */
export interface InfisicalClientSecretArgs {
  /** Infisical API base, e.g. `https://app.infisical.com/api`; a bare host gets `/api` added. */
  apiUrl: pulumi.Input<string>;
  /** Id (a UUID) of the machine identity that gets the client secret. */
  identityId: pulumi.Input<string>;
  /** Universal-auth client id of that identity, used for the verification login. */
  clientId: pulumi.Input<string>;
  /** Rotation trigger, such as a `time.Rotating` id; a change replaces the client secret. */
  rotationTrigger: pulumi.Input<string>;
  /** Prefix of the description, `anythingllm-<stack>-<resource>`; it adds the rotation trigger. */
  descriptionPrefix: pulumi.Input<string>;
  /** Lifetime of the client secret in seconds, 0 for none; at most 315360000 (10 years). */
  ttlSeconds: pulumi.Input<number>;
}

/** Resolved inputs of the Infisical client-secret provider. */
export interface InfisicalClientSecretInputs {
  apiUrl: string;
  identityId: string;
  clientId: string;
  rotationTrigger: string;
  descriptionPrefix: string;
  ttlSeconds: number;
}

/** Outputs of the Infisical client-secret provider: the inputs plus the created client secret. */
export interface InfisicalClientSecretOutputs extends InfisicalClientSecretInputs {
  clientSecretId: string;
  clientSecret: string;
  createdAt: string;
}

/** Inputs whose change needs a new client secret. */
const clientSecretReplaceProperties = ["rotationTrigger", "identityId"];

// NOTE: the description prefix and TTL of an existing client secret cannot be changed through the
// API, so a change of them updates only the state and applies from the next rotation on.
const clientSecretUpdateProperties = ["apiUrl", "clientId", "descriptionPrefix", "ttlSeconds"];

/** Maximum client-secret TTL that Infisical accepts, in seconds. */
const maxClientSecretTtlSeconds = 315_360_000;

/** Client secret object of the universal-auth API, as far as the provider reads it. */
interface ClientSecretData {
  id?: unknown;
  description?: unknown;
  createdAt?: unknown;
  clientSecretTTL?: unknown;
  isClientSecretRevoked?: unknown;
}

/** Returns the description of a client secret, `${descriptionPrefix}-${rotationTrigger}`. */
export function clientSecretDescription(
  inputs: Pick<InfisicalClientSecretInputs, "descriptionPrefix" | "rotationTrigger">,
): string {
  return `${inputs.descriptionPrefix}-${inputs.rotationTrigger}`;
}

function clientSecretsRoute(inputs: Pick<InfisicalClientSecretInputs, "identityId">): string {
  return `/v1/auth/universal-auth/identities/${encodeURIComponent(inputs.identityId)}/client-secrets`;
}

/** Checks and normalises the inputs; the program's Infisical credentials must be set. */
async function checkInfisicalClientSecret(news: Record<string, unknown>) {
  const checker = createInputChecker(news);
  checker.requireUrl("apiUrl");
  checker.requireString("identityId");
  checker.requireString("clientId");
  checker.requireString("rotationTrigger");
  checker.requireString("descriptionPrefix");
  if (news.ttlSeconds === undefined || news.ttlSeconds === null) {
    checker.fail("ttlSeconds", "is required");
  }
  checker.optionalNumber("ttlSeconds", 0, maxClientSecretTtlSeconds, true);
  infisicalCredentials();

  return { inputs: withNormalizedApiUrl(news), failures: checker.failures };
}

/**
 * Compares old outputs with new inputs. A new rotation trigger or identity replaces the client
 * secret; other changes are updated in place. `__provider` is not compared.
 */
export function diffInfisicalClientSecret(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): pulumi.dynamic.DiffResult {
  return diffInfisicalResource(
    olds,
    news,
    clientSecretReplaceProperties,
    clientSecretUpdateProperties,
  );
}

/**
 * Adds to a 404 of the client-secret routes that the identity was not found. Where a 404 for an
 * unknown client secret id comes back too, the callers treat it as already gone.
 */
function notFoundHint(error: unknown, inputs: InfisicalClientSecretInputs) {
  if (!isApiNotFound(error)) {
    return error;
  }
  const hint = `The identity ${inputs.identityId} was not found; check the operatorIdentityId setting`;
  return withHint(error, hint);
}

/** Revokes a client secret. A 404 means it is already revoked or gone. */
async function revokeClientSecret(inputs: InfisicalClientSecretInputs, clientSecretId: string) {
  try {
    await infisicalRequest({
      apiUrl: inputs.apiUrl,
      method: "POST",
      path: `${clientSecretsRoute(inputs)}/${encodeURIComponent(clientSecretId)}/revoke`,
      // Revoking twice leaves the same state.
      idempotent: true,
    });
  } catch (error) {
    if (!isApiNotFound(error)) {
      throw error;
    }
  }
}

/**
 * Revokes the client secrets that carry `description`. They come from an earlier create whose
 * response was lost, and revoking them keeps one client secret per rotation.
 */
async function revokeClientSecretsDescribed(
  inputs: InfisicalClientSecretInputs,
  description: string,
) {
  let secrets: ClientSecretData[];
  try {
    const response = await infisicalRequest<{ clientSecretData?: unknown }>({
      apiUrl: inputs.apiUrl,
      method: "GET",
      path: clientSecretsRoute(inputs),
      idempotent: true,
    });
    const data = response.data?.clientSecretData;
    secrets = Array.isArray(data) ? (data as ClientSecretData[]) : [];
  } catch (error) {
    throw notFoundHint(error, inputs);
  }

  for (const secret of secrets) {
    if (secret.description === description && typeof secret.id === "string") {
      await revokeClientSecret(inputs, secret.id);
    }
  }
}

function pickInputs(inputs: InfisicalClientSecretInputs): InfisicalClientSecretInputs {
  return {
    apiUrl: normalizeInfisicalApiUrl(inputs.apiUrl),
    identityId: inputs.identityId,
    clientId: inputs.clientId,
    rotationTrigger: inputs.rotationTrigger,
    descriptionPrefix: inputs.descriptionPrefix,
    ttlSeconds: inputs.ttlSeconds,
  };
}

/**
 * Creates a client secret with no use limit and the given TTL, then logs in with it. A client
 * secret that cannot log in is revoked and the create fails, so nothing unusable is stored.
 */
async function createInfisicalClientSecret(news: InfisicalClientSecretInputs) {
  const inputs = pickInputs(news);
  const description = clientSecretDescription(inputs);
  await revokeClientSecretsDescribed(inputs, description);

  let created: { clientSecret?: unknown; clientSecretData?: ClientSecretData } | undefined;
  try {
    const response = await infisicalRequest<typeof created>({
      apiUrl: inputs.apiUrl,
      method: "POST",
      path: clientSecretsRoute(inputs),
      // No use limit, because the operator logs in again and again.
      body: { description, numUsesLimit: 0, ttl: inputs.ttlSeconds },
      // A repeated create would add a second client secret. One left by a lost response carries
      // this description and is revoked by the next create.
      idempotent: false,
    });
    created = response.data;
  } catch (error) {
    throw notFoundHint(error, inputs);
  }

  const clientSecretId = created?.clientSecretData?.id;
  if (typeof clientSecretId !== "string" || clientSecretId === "") {
    throw new Error(
      `Infisical returned no client secret id for identity ${inputs.identityId}; ` +
        `the next \`pulumi up\` revokes the client secret described ${description}.`,
    );
  }
  const clientSecret = created?.clientSecret;
  if (typeof clientSecret !== "string" || clientSecret === "") {
    const reason = `Infisical returned no client secret for id ${clientSecretId}`;
    throw new Error(await discardClientSecret(inputs, clientSecretId, reason));
  }

  try {
    await verifyClientSecretLogin(inputs.apiUrl, inputs.clientId, clientSecret);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const reason = `The new client secret could not log in with client ID ${inputs.clientId}: ${detail}`;
    throw new Error(await discardClientSecret(inputs, clientSecretId, reason));
  }

  const createdAt = created?.clientSecretData?.createdAt;
  const outs: InfisicalClientSecretOutputs = {
    ...inputs,
    clientSecretId,
    clientSecret,
    createdAt: typeof createdAt === "string" ? createdAt : new Date().toISOString(),
  };
  return { id: clientSecretId, outs };
}

/** Revokes a new client secret the create cannot use and returns the failure message to throw. */
async function discardClientSecret(
  inputs: InfisicalClientSecretInputs,
  clientSecretId: string,
  reason: string,
): Promise<string> {
  try {
    await revokeClientSecret(inputs, clientSecretId);
    return `${reason}. Client secret ${clientSecretId} was revoked and nothing was stored.`;
  } catch (error) {
    const revokeDetail = error instanceof Error ? error.message : String(error);
    return (
      `${reason}. Revoking client secret ${clientSecretId} failed too (${revokeDetail}); ` +
      "the next create with the same rotation trigger revokes it by its description."
    );
  }
}

/** Returns the server's time from a `Date` header, else the local time. */
function serverNowMs(headers: Record<string, string>): number {
  const serverMs = headers.date === undefined ? NaN : Date.parse(headers.date);
  return Number.isNaN(serverMs) ? Date.now() : serverMs;
}

/** Returns true when a client secret can no longer log in: revoked or past its TTL. */
function isClientSecretDead(data: ClientSecretData, nowMs: number): boolean {
  if (data.isClientSecretRevoked === true) {
    return true;
  }
  const ttlSeconds = typeof data.clientSecretTTL === "number" ? data.clientSecretTTL : 0;
  const createdMs = typeof data.createdAt === "string" ? Date.parse(data.createdAt) : NaN;
  return ttlSeconds > 0 && !Number.isNaN(createdMs) && createdMs + ttlSeconds * 1000 <= nowMs;
}

/** Reads a client secret by id; revoked, expired or not found means it is gone. */
async function readInfisicalClientSecret(
  id: string,
  props?: Partial<InfisicalClientSecretOutputs>,
) {
  if (props?.apiUrl === undefined || props.identityId === undefined) {
    throw new Error(
      `Cannot read Infisical client secret ${id}: its state lacks apiUrl or identityId.`,
    );
  }
  const inputs = props as InfisicalClientSecretOutputs;
  const clientSecretId = props.clientSecretId ?? id;

  let data: ClientSecretData;
  let nowMs: number;
  try {
    const response = await infisicalRequest<{ clientSecretData?: ClientSecretData }>({
      apiUrl: inputs.apiUrl,
      method: "GET",
      path: `${clientSecretsRoute(inputs)}/${encodeURIComponent(clientSecretId)}`,
      idempotent: true,
    });
    data = response.data?.clientSecretData ?? {};
    nowMs = serverNowMs(response.headers);
  } catch (error) {
    // Infisical returns 404 for an unknown client secret id as well as for an unknown identity.
    if (isApiNotFound(error)) {
      return { id: "" };
    }
    throw error;
  }

  if (isClientSecretDead(data, nowMs)) {
    return { id: "" };
  }
  return { id: clientSecretId, props: withoutUndefined({ ...props, clientSecretId }) };
}

/** Keeps every stored output; nothing about an existing client secret can change in place. */
async function updateInfisicalClientSecret(
  olds: InfisicalClientSecretOutputs,
  news: InfisicalClientSecretInputs,
) {
  const outs: InfisicalClientSecretOutputs = {
    ...pickInputs(news),
    clientSecretId: olds.clientSecretId,
    clientSecret: olds.clientSecret,
    createdAt: olds.createdAt,
  };
  return { outs: withoutUndefined(outs) };
}

/**
 * Revokes the client secret. A 404 means it is already gone. On any other failure the engine keeps
 * the resource in the state, so the next `pulumi up` revokes it again.
 */
async function deleteInfisicalClientSecret(id: string, props: InfisicalClientSecretOutputs) {
  const clientSecretId = props.clientSecretId ?? id;
  try {
    await revokeClientSecret(props, clientSecretId);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Revoking Infisical client secret ${clientSecretId} of identity ${props.identityId} ` +
        `failed: ${detail}. It stays in the stack state and the next \`pulumi up\` retries.`,
    );
  }
}

/** Dynamic provider of universal-auth client secrets of a machine identity. */
export const infisicalClientSecretProvider: pulumi.dynamic.ResourceProvider = {
  async configure(req) {
    storeProviderConfig(req.config);
  },
  async check(_olds, news) {
    return checkInfisicalClientSecret(news);
  },
  async diff(_id, olds, news) {
    return diffInfisicalClientSecret(olds, news);
  },
  async create(inputs) {
    return createInfisicalClientSecret(inputs);
  },
  async read(id, props) {
    return readInfisicalClientSecret(id, props);
  },
  async update(_id, olds, news) {
    return updateInfisicalClientSecret(olds, news);
  },
  async delete(id, props) {
    return deleteInfisicalClientSecret(id, props);
  },
};

/**
 * Universal-auth client secret of a machine identity, described
 * `${descriptionPrefix}-${rotationTrigger}`. It is created with no use limit and the given TTL,
 * and stored only after it logged in successfully.
 */
export class InfisicalClientSecret extends pulumi.dynamic.Resource {
  // `declare` emits no class field. With target ES2022 a field would be set to undefined after
  // `super()` and hide the output the Resource constructor assigned.
  /** Id of the client secret in Infisical. */
  declare readonly clientSecretId: pulumi.Output<string>;
  /** The client secret itself; secret. */
  declare readonly clientSecret: pulumi.Output<string>;
  /** Creation time as returned by Infisical. */
  declare readonly createdAt: pulumi.Output<string>;

  constructor(name: string, args: InfisicalClientSecretArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      infisicalClientSecretProvider,
      name,
      { ...args, clientSecretId: undefined, clientSecret: undefined, createdAt: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["clientSecret"] }),
      "anythingllm",
      "InfisicalClientSecret",
    );
  }
}
