import * as pulumi from "@pulumi/pulumi";
import { infisicalCredentials, storeProviderConfig } from "./credentials";
import { isApiNotFound, isApiStatus } from "./http";
import {
  diffInfisicalResource,
  infisicalRequest,
  normalizeInfisicalApiUrl,
  withNormalizedApiUrl,
} from "./infisicalAuth";
import {
  changedProperties,
  createInputChecker,
  unknownInputValue,
  withoutUndefined,
} from "./inputs";

/** Arguments of an `InfisicalSecretValue`. */
export interface InfisicalSecretValueArgs {
  /** Infisical API base, e.g. `https://app.infisical.com/api`; a bare host gets `/api` added. */
  apiUrl: pulumi.Input<string>;
  /** Slug of the Infisical project. */
  projectSlug: pulumi.Input<string>;
  /** Slug of the environment, e.g. `prod`. */
  environment: pulumi.Input<string>;
  /** Folder of the secret, starting with `/`. */
  secretPath: pulumi.Input<string>;
  /** Name of the secret, e.g. `OPENROUTER_API_KEY`. */
  secretName: pulumi.Input<string>;
  /** Value to store; secret. */
  value: pulumi.Input<string>;
}

/** Resolved inputs, which are also the outputs, of the Infisical secret provider. */
export interface InfisicalSecretValueInputs {
  apiUrl: string;
  projectSlug: string;
  environment: string;
  secretPath: string;
  secretName: string;
  value: string;
}

/** Inputs whose change moves the secret to another place, which needs a replacement. */
const secretLocationProperties = ["projectSlug", "environment", "secretPath", "secretName"];

/** Inputs that `update` writes in place. */
const secretUpdateProperties = ["value", "apiUrl"];

/** Returns the resource id of a secret: `<project>:<environment>:<path>:<name>`. */
export function infisicalSecretId(inputs: InfisicalSecretValueInputs): string {
  return `${inputs.projectSlug}:${inputs.environment}:${inputs.secretPath}:${inputs.secretName}`;
}

function secretRoute(inputs: InfisicalSecretValueInputs): string {
  return `/v3/secrets/raw/${encodeURIComponent(inputs.secretName)}`;
}

// POST, PATCH and DELETE name the project with `projectSlug` in the body; GET takes
// `workspaceSlug` in the query. Infisical silently drops the other spelling.
function writeBody(inputs: InfisicalSecretValueInputs, withValue: boolean) {
  return {
    projectSlug: inputs.projectSlug,
    environment: inputs.environment,
    secretPath: inputs.secretPath,
    type: "shared",
    ...(withValue ? { secretValue: inputs.value } : {}),
  };
}

/** Checks and normalises the inputs; the program's Infisical credentials must be set. */
async function checkInfisicalSecretValue(news: Record<string, unknown>) {
  const checker = createInputChecker(news);
  checker.requireUrl("apiUrl");
  checker.requireString("projectSlug");
  checker.requireString("environment");
  checker.requireString("secretName");
  const { secretPath, secretName, value } = news;
  if (
    secretPath !== unknownInputValue &&
    (typeof secretPath !== "string" || !secretPath.startsWith("/"))
  ) {
    checker.fail("secretPath", `must start with "/", got ${JSON.stringify(secretPath)}`);
  }
  if (typeof secretName === "string" && /[:/]/.test(secretName)) {
    checker.fail("secretName", `must not contain ":" or "/", got ${JSON.stringify(secretName)}`);
  }
  // The value is never shown, not even in a failure.
  if (value !== unknownInputValue && typeof value !== "string") {
    checker.fail("value", "must be a string");
  }
  infisicalCredentials();

  return { inputs: withNormalizedApiUrl(news), failures: checker.failures };
}

/**
 * Compares old outputs with new inputs. A new project, environment, path or name replaces the
 * secret; a new value or API URL updates it. `__provider` is not compared.
 */
export function diffInfisicalSecretValue(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): pulumi.dynamic.DiffResult {
  return diffInfisicalResource(olds, news, secretLocationProperties, secretUpdateProperties);
}

async function postSecret(inputs: InfisicalSecretValueInputs): Promise<void> {
  await infisicalRequest({
    apiUrl: inputs.apiUrl,
    method: "POST",
    path: secretRoute(inputs),
    body: writeBody(inputs, true),
    // A repeated create gets "already exists" and falls back to an update, so a retry is safe.
    idempotent: true,
    redact: [inputs.value],
  });
}

// The body never carries `newSecretName`, which Infisical reads as a rename.
async function patchSecret(inputs: InfisicalSecretValueInputs): Promise<void> {
  await infisicalRequest({
    apiUrl: inputs.apiUrl,
    method: "PATCH",
    path: secretRoute(inputs),
    body: writeBody(inputs, true),
    idempotent: true,
    redact: [inputs.value],
  });
}

function pickInputs(inputs: InfisicalSecretValueInputs): InfisicalSecretValueInputs {
  return {
    apiUrl: normalizeInfisicalApiUrl(inputs.apiUrl),
    projectSlug: inputs.projectSlug,
    environment: inputs.environment,
    secretPath: inputs.secretPath,
    secretName: inputs.secretName,
    value: inputs.value,
  };
}

/** Creates the secret; when it exists already, updates its value instead. */
async function createInfisicalSecretValue(news: InfisicalSecretValueInputs) {
  const inputs = pickInputs(news);
  try {
    await postSecret(inputs);
  } catch (error) {
    const exists = isApiStatus(error, 400) && /already exist/i.test(error.apiMessage ?? "");
    if (!exists) {
      throw error;
    }
    await patchSecret(inputs);
  }
  return { id: infisicalSecretId(inputs), outs: inputs };
}

/** Reads the current value, so a change made elsewhere shows as drift; a 404 means it is gone. */
async function readInfisicalSecretValue(id: string, props?: Partial<InfisicalSecretValueInputs>) {
  if (
    props?.apiUrl === undefined ||
    props.projectSlug === undefined ||
    props.environment === undefined ||
    props.secretPath === undefined ||
    props.secretName === undefined
  ) {
    throw new Error(`Cannot read Infisical secret ${id}: its state lacks the secret's location.`);
  }
  const inputs = { ...props, value: props.value ?? "" } as InfisicalSecretValueInputs;

  let secret: { secretValue?: unknown; secretValueHidden?: unknown } | undefined;
  try {
    const response = await infisicalRequest<{ secret?: typeof secret }>({
      apiUrl: inputs.apiUrl,
      method: "GET",
      path: secretRoute(inputs),
      query: {
        workspaceSlug: inputs.projectSlug,
        environment: inputs.environment,
        secretPath: inputs.secretPath,
        viewSecretValue: "true",
      },
      idempotent: true,
    });
    secret = response.data?.secret;
  } catch (error) {
    if (isApiNotFound(error)) {
      return { id: "" };
    }
    throw error;
  }

  const visible = secret?.secretValueHidden !== true && typeof secret?.secretValue === "string";
  const value = visible ? (secret?.secretValue as string) : props.value;
  return { id: infisicalSecretId(inputs), props: withoutUndefined({ ...props, value }) };
}

/**
 * Writes a new value. A 404 means the secret was deleted elsewhere, so it is created once; any
 * other failure is thrown. Without a change of value or API URL nothing is sent.
 */
async function updateInfisicalSecretValue(
  olds: InfisicalSecretValueInputs,
  news: InfisicalSecretValueInputs,
) {
  const inputs = pickInputs(news);
  const changed = changedProperties(
    { ...olds, apiUrl: normalizeInfisicalApiUrl(olds.apiUrl ?? "") },
    { ...inputs },
    secretUpdateProperties,
  );
  if (changed.length === 0) {
    return { outs: inputs };
  }

  try {
    await patchSecret(inputs);
  } catch (error) {
    if (!isApiNotFound(error)) {
      throw error;
    }
    await postSecret(inputs);
  }
  return { outs: inputs };
}

/** Deletes the secret. A 404 means it is already deleted. */
async function deleteInfisicalSecretValue(props: InfisicalSecretValueInputs) {
  try {
    await infisicalRequest({
      apiUrl: props.apiUrl,
      method: "DELETE",
      path: secretRoute(props),
      body: writeBody(props, false),
      idempotent: true,
    });
  } catch (error) {
    if (!isApiNotFound(error)) {
      throw error;
    }
  }
}

/** Dynamic provider of one Infisical secret, written with the program's own identity. */
export const infisicalSecretValueProvider: pulumi.dynamic.ResourceProvider = {
  async configure(req) {
    storeProviderConfig(req.config);
  },
  async check(_olds, news) {
    return checkInfisicalSecretValue(news);
  },
  async diff(_id, olds, news) {
    return diffInfisicalSecretValue(olds, news);
  },
  async create(inputs) {
    return createInfisicalSecretValue(inputs);
  },
  async read(id, props) {
    return readInfisicalSecretValue(id, props);
  },
  async update(_id, olds, news) {
    return updateInfisicalSecretValue(olds, news);
  },
  async delete(_id, props) {
    return deleteInfisicalSecretValue(props);
  },
};

/**
 * One secret in an Infisical project environment, written through `/api/v3/secrets/raw/{name}`.
 * A refresh reads the stored value back, so a change made elsewhere shows as drift.
 */
export class InfisicalSecretValue extends pulumi.dynamic.Resource {
  // `declare` emits no class field. With target ES2022 a field would be set to undefined after
  // `super()` and hide the output the Resource constructor assigned.
  /** The stored value; secret. */
  declare readonly value: pulumi.Output<string>;
  /** Name of the secret. */
  declare readonly secretName: pulumi.Output<string>;

  constructor(name: string, args: InfisicalSecretValueArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      infisicalSecretValueProvider,
      name,
      { ...args },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["value"] }),
      "anythingllm",
      "InfisicalSecretValue",
    );
  }
}
