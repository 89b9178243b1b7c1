// The program's own credentials, read at call time. They are never resource inputs and never sit
// on a provider object or at module level, because both are serialized into the stack state.
import type * as pulumi from "@pulumi/pulumi";

/** Pulumi project name, the namespace of every stack setting. */
export const projectName = "anythingllm-secrets";

/** Credentials of the Infisical machine identity that runs the program. */
export interface InfisicalCredentials {
  clientId: string;
  clientSecret: string;
}

/** The part of the dynamic provider config that the providers read. */
type ConfigReader = Pick<pulumi.dynamic.Config, "get">;

function configSlot(): { config?: ConfigReader } {
  // A registered symbol on globalThis keeps the config per process and out of every closure.
  const key = Symbol.for("anythingllm-secrets.providerConfig");
  const holder = globalThis as unknown as Record<symbol, { config?: ConfigReader }>;
  holder[key] ??= {};
  return holder[key];
}

/**
 * Stores the stack config that the provider host passes to `configure`. Every provider's
 * `configure` calls this, so the values stay in the process and are read when a method runs.
 */
export function storeProviderConfig(config: ConfigReader): void {
  configSlot().config = config;
}

/** Removes a stored config. */
export function clearProviderConfig(): void {
  configSlot().config = undefined;
}

function configValue(key: string): string | undefined {
  // The full key is used because the provider host prefixes a bare key with the project name it
  // was started for, which need not be set in every host process.
  const value = configSlot().config?.get(`${projectName}:${key}`);
  return nonEmpty(value);
}

function envValue(name: string): string | undefined {
  return nonEmpty(process.env[name]);
}

function nonEmpty(value: unknown): string | undefined {
  if (typeof value !== "string") {
    return undefined;
  }
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

function missingCredentialMessage(
  credential: string,
  key: string,
  secret: boolean,
  envName: string,
) {
  const flag = secret ? "--secret " : "";
  return (
    `The ${credential} is missing. Set it with ` +
    `\`pulumi config set ${flag}${projectName}:${key} <value>\` ` +
    `or the environment variable ${envName}.`
  );
}

/**
 * Reads the OpenRouter management key: the `openrouterManagementKey` setting, else the
 * environment variable OPENROUTER_MANAGEMENT_KEY, else its older name OPENROUTER_PROVISIONING_KEY.
 * Throws when none is set.
 */
export function openRouterManagementKey(): string {
  const key =
    configValue("openrouterManagementKey") ??
    envValue("OPENROUTER_MANAGEMENT_KEY") ??
    envValue("OPENROUTER_PROVISIONING_KEY");
  if (key === undefined) {
    throw new Error(
      missingCredentialMessage(
        "OpenRouter management key",
        "openrouterManagementKey",
        true,
        "OPENROUTER_MANAGEMENT_KEY",
      ),
    );
  }
  return key;
}

/** Returns the remedy for a rejected management key: which key type and how to set it. */
export function managementKeyHint(): string {
  return (
    "OpenRouter key rotation requires a management (provisioning) key; set one with " +
    `\`pulumi config set --secret ${projectName}:openrouterManagementKey <key>\` ` +
    "or the environment variable OPENROUTER_MANAGEMENT_KEY"
  );
}

/**
 * Reads the credentials of the Infisical identity that runs the program: the settings
 * `infisicalClientId` and `infisicalClientSecret`, else the environment variables
 * INFISICAL_UNIVERSAL_AUTH_CLIENT_ID and INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET. Throws when
 * either is missing.
 */
export function infisicalCredentials(): InfisicalCredentials {
  const clientId =
    configValue("infisicalClientId") ?? envValue("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID");
  if (clientId === undefined) {
    throw new Error(
      missingCredentialMessage(
        "Infisical client ID",
        "infisicalClientId",
        false,
        "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
      ),
    );
  }

  const clientSecret =
    configValue("infisicalClientSecret") ?? envValue("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET");
  if (clientSecret === undefined) {
    throw new Error(
      missingCredentialMessage(
        "Infisical client secret",
        "infisicalClientSecret",
        true,
        "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
      ),
    );
  }

  return { clientId, clientSecret };
}
