import * as pulumi from "@pulumi/pulumi";
import { managementKeyHint, openRouterManagementKey, storeProviderConfig } from "./credentials";
import {
  ApiResponse,
  backoffMs,
  HttpMethod,
  isApiStatus,
  sendApiRequest,
  sleep,
  withHint,
  isApiNotFound,
} from "./http";
import {
  changedProperties,
  createInputChecker,
  trimTrailingSlashes,
  unknownInputValue,
  withoutUndefined,
} from "./inputs";

/** Reset periods of a key's spending limit. */
export type LimitReset = "daily" | "weekly" | "monthly";

/** Arguments of an `OpenRouterKey`. */
export interface OpenRouterKeyArgs {
  /** OpenRouter API base, e.g. `https://openrouter.ai/api/v1`. */
  apiUrl: pulumi.Input<string>;
  /** Prefix of the key name, `anythingllm-<stack>-<resource>`; the name adds the rotation trigger. */
  namePrefix: pulumi.Input<string>;
  /** Rotation trigger, such as a `time.Rotating` id; a change replaces the key. */
  rotationTrigger: pulumi.Input<string>;
  /** Spending cap of the key in USD; no cap when unset. */
  limit?: pulumi.Input<number>;
  /** Period after which the spending cap resets; never when unset. */
  limitReset?: pulumi.Input<LimitReset>;
}

/** Resolved inputs of the OpenRouter key provider. */
export interface OpenRouterKeyInputs {
  apiUrl: string;
  namePrefix: string;
  rotationTrigger: string;
  limit?: number;
  limitReset?: LimitReset;
}

/** Outputs of the OpenRouter key provider: the inputs plus the created key. */
export interface OpenRouterKeyOutputs extends OpenRouterKeyInputs {
  hash: string;
  keyName: string;
  key: string;
  createdAt: string;
}

/** Stack setting of the OpenRouter API base, named in error hints. */
const openRouterUrlSetting = "openrouterApiUrl";

/** Input properties that `diff` compares. */
const openRouterKeyProperties = ["apiUrl", "namePrefix", "rotationTrigger", "limit", "limitReset"];

/** OpenRouter returns at most this many keys per list page. */
const keysPageSize = 100;

/** Upper bound of list pages read when looking for keys of an earlier create. */
const maxKeyListPages = 50;

// NOTE: a fresh key was reported to return 401 for a while after its creation. With the default
// retry base of 1000 ms these attempts wait about 15 s in total; a longer delay fails the create.
const newKeyVerifyAttempts = 5;

/** Key object of the OpenRouter key-management API, as far as the provider reads it. */
interface KeyObject {
  hash?: unknown;
  name?: unknown;
  limit?: unknown;
  limit_reset?: unknown;
  created_at?: unknown;
}

/** Returns the full key name, `${namePrefix}-${rotationTrigger}`. */
export function openRouterKeyName(
  inputs: Pick<OpenRouterKeyInputs, "namePrefix" | "rotationTrigger">,
) {
  return `${inputs.namePrefix}-${inputs.rotationTrigger}`;
}

/** Returns true for a key hash: 64 lowercase hex characters, the SHA-256 of the key. */
export function isKeyHash(value: unknown): value is string {
  return typeof value === "string" && /^[0-9a-f]{64}$/.test(value);
}

/**
 * Returns `value` when it is a key hash and throws otherwise. A DELETE must name the hash; the
 * value is not shown, because a mistaken value could be a key itself.
 */
function requireKeyHash(value: unknown, action: string): string {
  if (isKeyHash(value)) {
    return value;
  }
  throw new Error(
    `Cannot ${action} the OpenRouter key: the stored hash is not 64 hex characters, ` +
      "so no request was sent. Run `pulumi refresh` and check the key in the OpenRouter settings.",
  );
}

/**
 * Checks and normalises the inputs. The management key must be set, because every other method
 * needs it.
 */
async function checkOpenRouterKey(news: Record<string, unknown>) {
  const checker = createInputChecker(news);
  checker.requireUrl("apiUrl");
  checker.requireString("namePrefix");
  checker.requireString("rotationTrigger");
  checker.optionalNumber("limit", 0, Number.MAX_SAFE_INTEGER);
  checker.optionalOneOf("limitReset", ["daily", "weekly", "monthly"]);
  openRouterManagementKey();

  const inputs = { ...news };
  if (typeof inputs.apiUrl === "string" && inputs.apiUrl !== unknownInputValue) {
    inputs.apiUrl = trimTrailingSlashes(inputs.apiUrl);
  }
  return { inputs, failures: checker.failures };
}

/**
 * Compares old outputs with new inputs. A new rotation trigger replaces the key; other changes
 * are updated in place. `__provider` is not compared, so a change of provider code alone is no
 * change.
 */
export function diffOpenRouterKey(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): pulumi.dynamic.DiffResult {
  const normalized = (value: unknown) =>
    typeof value === "string" && value !== unknownInputValue ? trimTrailingSlashes(value) : value;
  const changed = changedProperties(
    { ...olds, apiUrl: normalized(olds.apiUrl) },
    { ...news, apiUrl: normalized(news.apiUrl) },
    openRouterKeyProperties,
  );
  return {
    changes: changed.length > 0,
    replaces: changed.filter((property) => property === "rotationTrigger"),
    deleteBeforeReplace: false,
  };
}

interface OpenRouterCall {
  method: HttpMethod;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  idempotent: boolean;
}

/** Sends a key-management request with the management key. */
async function managementRequest<T>(apiUrl: string, call: OpenRouterCall): Promise<ApiResponse<T>> {
  const managementKey = openRouterManagementKey();
  try {
    return await sendApiRequest<T>({
      service: "OpenRouter",
      urlSetting: openRouterUrlSetting,
      method: call.method,
      url: `${trimTrailingSlashes(apiUrl)}${call.path}`,
      query: call.query,
      body: call.body,
      bearerToken: managementKey,
      idempotent: call.idempotent,
    });
  } catch (error) {
    if (isApiStatus(error, 401, 403)) {
      throw withHint(error, managementKeyHint());
    }
    throw error;
  }
}

/** Lists all keys, disabled ones included, page by page. */
async function listKeys(apiUrl: string): Promise<KeyObject[]> {
  const keys: KeyObject[] = [];
  for (let page = 0; page < maxKeyListPages; page++) {
    const response = await managementRequest<{ data?: unknown }>(apiUrl, {
      method: "GET",
      path: "/keys",
      query: { include_disabled: "true", offset: String(page * keysPageSize) },
      idempotent: true,
    });
    const data = Array.isArray(response.data?.data) ? (response.data.data as KeyObject[]) : [];
    keys.push(...data);
    if (data.length < keysPageSize) {
      break;
    }
  }
  return keys;
}

/** Deletes a key by hash. A 404 means it is already deleted. */
async function deleteKey(apiUrl: string, hash: string): Promise<void> {
  try {
    await managementRequest(apiUrl, {
      method: "DELETE",
      path: `/keys/${encodeURIComponent(hash)}`,
      idempotent: true,
    });
  } catch (error) {
    if (!isApiNotFound(error)) {
      throw error;
    }
  }
}

/**
 * Deletes the keys named `name`. They come from an earlier create whose response was lost, and
 * deleting them first keeps at most one key per rotation.
 */
async function deleteKeysNamed(apiUrl: string, name: string): Promise<void> {
  const keys = await listKeys(apiUrl);
  for (const key of keys) {
    if (key.name === name && isKeyHash(key.hash)) {
      await deleteKey(apiUrl, key.hash);
    }
  }
}

/** Checks that a new key is accepted by `GET /key`, retrying the 401 a fresh key can return. */
async function verifyNewKey(apiUrl: string, key: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await sendApiRequest({
        service: "OpenRouter",
        urlSetting: openRouterUrlSetting,
        method: "GET",
        url: `${trimTrailingSlashes(apiUrl)}/key`,
        bearerToken: key,
        idempotent: true,
      });
      return;
    } catch (error) {
      if (!isApiStatus(error, 401) || attempt >= newKeyVerifyAttempts) {
        throw error;
      }
      await sleep(backoffMs(attempt - 1));
    }
  }
}

/** Deletes a key the create cannot use and returns the failure message to throw. */
async function discardNewKey(apiUrl: string, hash: string, name: string, reason: string) {
  try {
    await deleteKey(apiUrl, hash);
    return `${reason}. The key was deleted and nothing was stored.`;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return (
      `${reason}. Deleting the key failed too (${detail}); ` +
      `the next \`pulumi up\` deletes the key named ${name} before it creates a new one.`
    );
  }
}

/** Creates a key, verifies it, and returns its outputs. */
async function createOpenRouterKey(inputs: OpenRouterKeyInputs) {
  const name = openRouterKeyName(inputs);
  const managementKey = openRouterManagementKey();
  await deleteKeysNamed(inputs.apiUrl, name);

  const body = withoutUndefined({ name, limit: inputs.limit, limit_reset: inputs.limitReset });
  const response = await managementRequest<{ data?: KeyObject; key?: unknown }>(inputs.apiUrl, {
    method: "POST",
    path: "/keys",
    body,
    // A repeated POST would create a second key. A key left by a lost response carries this
    // name and is deleted by the next create.
    idempotent: false,
  });

  const hash = response.data?.data?.hash;
  if (!isKeyHash(hash)) {
    throw new Error(
      `OpenRouter POST /keys returned status ${response.status} without a key hash, so the ` +
        `new key cannot be tracked; the next \`pulumi up\` deletes the key named ${name}.`,
    );
  }
  const key = response.data?.key;
  if (typeof key !== "string" || key === "") {
    throw new Error(
      await discardNewKey(
        inputs.apiUrl,
        hash,
        name,
        `OpenRouter POST /keys returned no key for ${hash}`,
      ),
    );
  }
  if (key === managementKey) {
    // Deleting by this hash would delete the management key, so nothing is deleted here.
    throw new Error(
      `OpenRouter POST /keys returned the management key itself as the new key ${hash}; ` +
        "nothing was stored. Check the openrouterApiUrl setting.",
    );
  }

  try {
    await verifyNewKey(inputs.apiUrl, key);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(
      await discardNewKey(
        inputs.apiUrl,
        hash,
        name,
        `The new OpenRouter key ${hash} failed verification: ${detail}`,
      ),
    );
  }

  const createdAt = response.data?.data?.created_at;
  const outs: OpenRouterKeyOutputs = {
    ...pickInputs(inputs),
    hash,
    keyName: name,
    key,
    createdAt: typeof createdAt === "string" ? createdAt : new Date().toISOString(),
  };
  return { id: hash, outs: withoutUndefined(outs) };
}

function pickInputs(inputs: OpenRouterKeyInputs): OpenRouterKeyInputs {
  return withoutUndefined({
    apiUrl: trimTrailingSlashes(inputs.apiUrl),
    namePrefix: inputs.namePrefix,
    rotationTrigger: inputs.rotationTrigger,
    limit: inputs.limit,
    limitReset: inputs.limitReset,
  });
}

/** Reads a key by hash; a 404 means it is gone. */
async function readOpenRouterKey(id: string, props?: Partial<OpenRouterKeyOutputs>) {
  const hash = requireKeyHash(props?.hash ?? id, "read");
  const apiUrl = props?.apiUrl;
  if (apiUrl === undefined) {
    throw new Error(`Cannot read OpenRouter key ${hash}: its state has no apiUrl.`);
  }

  let response: ApiResponse<{ data?: KeyObject }>;
  try {
    response = await managementRequest(apiUrl, {
      method: "GET",
      path: `/keys/${encodeURIComponent(hash)}`,
      idempotent: true,
    });
  } catch (error) {
    if (isApiNotFound(error)) {
      return { id: "" };
    }
    throw error;
  }

  // The name and limits as OpenRouter has them now, so a change made elsewhere shows as a diff.
  const data = response.data?.data ?? {};
  const current = {
    ...props,
    hash,
    keyName: typeof data.name === "string" ? data.name : props?.keyName,
    limit: typeof data.limit === "number" ? data.limit : undefined,
    limitReset: typeof data.limit_reset === "string" ? data.limit_reset : undefined,
  };
  return { id: hash, props: withoutUndefined(current) };
}

/**
 * Updates the name and limits of a key in place, sending only what changed. Every stored output
 * (hash, key, creation time) is kept.
 */
async function updateOpenRouterKey(
  id: string,
  olds: OpenRouterKeyOutputs,
  news: OpenRouterKeyInputs,
) {
  const hash = requireKeyHash(olds.hash ?? id, "update");
  const name = openRouterKeyName(news);
  const body: Record<string, unknown> = {};
  if (olds.keyName !== name) {
    body.name = name;
  }
  if ((olds.limit ?? null) !== (news.limit ?? null)) {
    body.limit = news.limit ?? null;
  }
  if ((olds.limitReset ?? null) !== (news.limitReset ?? null)) {
    body.limit_reset = news.limitReset ?? null;
  }

  if (Object.keys(body).length > 0) {
    try {
      await managementRequest(news.apiUrl, {
        method: "PATCH",
        path: `/keys/${encodeURIComponent(hash)}`,
        body,
        idempotent: true,
      });
    } catch (error) {
      if (isApiNotFound(error)) {
        throw new Error(
          `OpenRouter key ${hash} was not found, so it cannot be updated. ` +
            "Run `pulumi refresh` to drop it from the state; the next `pulumi up` creates a new key.",
        );
      }
      throw error;
    }
  }

  const outs: OpenRouterKeyOutputs = {
    ...pickInputs(news),
    hash,
    keyName: name,
    key: olds.key,
    createdAt: olds.createdAt,
  };
  return { outs: withoutUndefined(outs) };
}

/**
 * Deletes a key by its hash. A 404 means it is already deleted. On any other failure the engine
 * keeps the resource in the state, so the next `pulumi up` sends the delete again.
 */
async function deleteOpenRouterKey(id: string, props: Partial<OpenRouterKeyOutputs>) {
  const hash = requireKeyHash(props.hash ?? id, "delete");
  try {
    if (props.apiUrl === undefined) {
      throw new Error("its state has no apiUrl");
    }
    await deleteKey(props.apiUrl, hash);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Deleting OpenRouter key ${hash} failed: ${detail}. ` +
        "The key stays in the stack state and the next `pulumi up` retries the delete.",
    );
  }
}

/** Dynamic provider of OpenRouter API keys, created with the management key. */
export const openRouterKeyProvider: pulumi.dynamic.ResourceProvider = {
  async configure(req) {
    storeProviderConfig(req.config);
  },
  async check(_olds, news) {
    return checkOpenRouterKey(news);
  },
  async diff(_id, olds, news) {
    return diffOpenRouterKey(olds, news);
  },
  async create(inputs) {
    return createOpenRouterKey(inputs);
  },
  async read(id, props) {
    return readOpenRouterKey(id, props);
  },
  async update(id, olds, news) {
    return updateOpenRouterKey(id, olds, news);
  },
  async delete(id, props) {
    return deleteOpenRouterKey(id, props);
  },
};

/**
 * OpenRouter API key named `${namePrefix}-${rotationTrigger}`. The key is created with the
 * management key from the stack config or environment, verified, and deleted by its hash.
 */
export class OpenRouterKey extends pulumi.dynamic.Resource {
  // `declare` emits no class field. With target ES2022 a field would be set to undefined after
  // `super()` and hide the output the Resource constructor assigned.
  /** SHA-256 of the key, 64 hex characters; the key's id in the management API. */
  declare readonly hash: pulumi.Output<string>;
  /** Full key name. */
  declare readonly keyName: pulumi.Output<string>;
  /** The key itself, `sk-or-v1-...`; secret. */
  declare readonly key: pulumi.Output<string>;
  /** Creation time as returned by OpenRouter. */
  declare readonly createdAt: pulumi.Output<string>;

  constructor(name: string, args: OpenRouterKeyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      openRouterKeyProvider,
      name,
      { ...args, hash: undefined, keyName: undefined, key: undefined, createdAt: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["key"] }),
      "anythingllm",
      "OpenRouterKey",
    );
  }
}
