import * as pulumi from "@pulumi/pulumi";

import { redactUrl } from "./redact";
import * as rules from "./rules";
import { KeyLimitReset, Rule } from "./rules";

/** The Pulumi project name, the namespace of every setting key. */
export const projectName = "anythingllm-secrets";

/** Reads one setting by its key without the project prefix; undefined when it is not set. */
export type ConfigGetter = (key: string) => string | undefined;

/** The validated settings of a stack. Credentials are checked for presence but not kept here. */
export interface StackConfig {
  /** Infisical API base, `<origin>/api`, from `infisicalHost`. */
  infisicalApiUrl: string;
  projectSlug: string;
  envSlug: string;
  secretsPath: string;
  appNamespace: string;
  managedSecretName: string;
  deploymentName: string;
  patchDeployment: boolean;
  installOperator: boolean;
  operatorNamespace: string;
  operatorChartVersion: string;
  resyncInterval: string;
  authSecretName: string;
  operatorIdentityId: string;
  operatorClientId: string;
  /** OpenRouter API base without a trailing "/". */
  openrouterApiUrl: string;
  /** USD cap of each new OpenRouter key; undefined for no cap. */
  openrouterKeyLimit?: number;
  openrouterKeyLimitReset?: KeyLimitReset;
  openrouterRotationDays: number;
  jwtRotationDays: number;
  clientSecretRotationDays: number;
  gracePeriodSeconds: number;
  /** Whether rotations poll the cluster for the switch instead of waiting `gracePeriodSeconds`. */
  syncGate: boolean;
  syncGateTimeoutSeconds: number;
  healthCheckUrl?: string;
  openrouterRotateNow?: string;
  jwtRotateNow?: string;
  clientSecretRotateNow?: string;
  verifyScope: boolean;
}

/**
 * Defaults of the settings that have one, as the strings `Pulumi.yaml` declares. The CLI fills
 * them in from `Pulumi.yaml`; the program applies them too, so tests and older CLIs agree.
 */
export const settingDefaults = {
  infisicalHost: "https://app.infisical.com",
  envSlug: "prod",
  secretsPath: "/",
  appNamespace: "anything-llm",
  managedSecretName: "anythingllm-secrets",
  deploymentName: "anythingllm",
  patchDeployment: "true",
  installOperator: "true",
  operatorNamespace: "infisical-operator",
  operatorChartVersion: "v0.11.5",
  resyncInterval: "60s",
  authSecretName: "infisical-universal-auth",
  openrouterApiUrl: "https://openrouter.ai/api/v1",
  openrouterRotationDays: "7",
  jwtRotationDays: "90",
  clientSecretRotationDays: "30",
  gracePeriodSeconds: "120",
  syncGate: "true",
  syncGateTimeoutSeconds: "600",
  verifyScope: "true",
} as const;

/** Settings without a default that every stack must set, with a placeholder for the fix. */
export const requiredSettings = {
  projectSlug: "<project-slug>",
  operatorIdentityId: "<identity-uuid>",
  operatorClientId: "<client-id-uuid>",
} as const;

/** Settings that are unset by default (declared with "" in `Pulumi.yaml`). */
export const optionalSettings = [
  "openrouterKeyLimit",
  "openrouterKeyLimitReset",
  "healthCheckUrl",
  "openrouterRotateNow",
  "jwtRotateNow",
  "clientSecretRotateNow",
] as const;

/** A credential of the identity that runs the program, read by the providers at call time. */
export interface CredentialSetting {
  key: string;
  /** Whether the value must be stored encrypted in the stack config. */
  secret: boolean;
  /** Environment variables read when the stack config lacks the key, in order. */
  envVars: readonly string[];
}

export const credentialSettings: readonly CredentialSetting[] = [
  { key: "infisicalClientId", secret: false, envVars: ["INFISICAL_UNIVERSAL_AUTH_CLIENT_ID"] },
  {
    key: "infisicalClientSecret",
    secret: true,
    envVars: ["INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"],
  },
  {
    key: "openrouterManagementKey",
    secret: true,
    envVars: ["OPENROUTER_MANAGEMENT_KEY", "OPENROUTER_PROVISIONING_KEY"],
  },
];

/** One broken setting and the text that explains it. */
export interface ConfigProblem {
  key: string;
  message: string;
}

/** Every problem of a stack's settings, raised before any resource is declared. */
export class StackConfigError extends pulumi.RunError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(formatProblems(problems));
    this.name = "StackConfigError";
    this.problems = problems;
  }
}

function formatProblems(problems: readonly ConfigProblem[]): string {
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  const lines = problems.map((problem) => `  - ${problem.message}`);
  return [`The stack configuration has ${count}; no resource was declared:`, ...lines].join("\n");
}

/** Options of {@link loadStackConfig}. */
export interface LoadStackConfigOptions {
  /** Environment that credentials fall back to; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Whether a key is stored encrypted in the stack config; by default every key counts so. */
  isSecret?: (key: string) => boolean;
}

/** Quotes a value for a POSIX shell when it contains anything but plain characters. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9._:/@%+=,<>-]+$/.test(value)) {
    return value;
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Builds the `pulumi config set` command for a key, quoting the value for a shell. */
export function configSetCommand(key: string, value: string, secret = false): string {
  const flag = secret ? "--secret " : "";
  return `pulumi config set ${flag}${projectName}:${key} ${shellQuote(value)}`;
}

/**
 * Shows a non-secret value in a message: JSON-quoted, long ones cut, and with the user info, query
 * values and fragment of a URL masked, because those can carry a token or password.
 */
function displayValue(value: string): string {
  const masked = redactUrl(value);
  const truncated = masked.length > 120 ? `${masked.slice(0, 120)}...` : masked;
  return JSON.stringify(truncated);
}

/** Reads settings one by one and collects every problem instead of stopping at the first. */
class SettingsReader {
  readonly problems: ConfigProblem[] = [];

  constructor(private readonly get: ConfigGetter) {}

  /** Returns the raw value, treating "" (the declared default of optional settings) as unset. */
  raw(key: string): string | undefined {
    const value = this.get(key);
    return value === undefined || value === "" ? undefined : value;
  }

  withDefault<K extends keyof typeof settingDefaults, T>(key: K, rule: Rule<T>): T {
    const fallback = settingDefaults[key];
    return this.check(key, this.raw(key) ?? fallback, rule, fallback) as T;
  }

  required<K extends keyof typeof requiredSettings, T>(key: K, rule: Rule<T>): T {
    const value = this.raw(key);
    if (value === undefined) {
      const fix = configSetCommand(key, requiredSettings[key]);
      this.problems.push({ key, message: `${key} is missing and has no default. Fix: ${fix}` });
      return undefined as T;
    }
    return this.check(key, value, rule, requiredSettings[key]) as T;
  }

  optional<T>(key: (typeof optionalSettings)[number], rule: Rule<T>): T | undefined {
    const value = this.raw(key);
    return value === undefined ? undefined : this.check(key, value, rule, "<value>");
  }

  addProblem(key: string, message: string): void {
    this.problems.push({ key, message });
  }

  private check<T>(key: string, value: string, rule: Rule<T>, fallback: string): T | undefined {
    const result = rule(value);
    if (result.ok) {
      return result.value;
    }
    // A suggested URL keeps the names of its query parameters but not their values.
    const fix = configSetCommand(key, redactUrl(result.suggestion ?? fallback, "<value>"));
    this.problems.push({
      key,
      message: `${key} ${displayValue(value)} is invalid: it ${result.rule}. Fix: ${fix}`,
    });
    return undefined;
  }
}

/** Settings read so far and the problems found; a setting with a problem is left undefined. */
export interface StackConfigCheck {
  config: StackConfig;
  problems: ConfigProblem[];
}

/**
 * Reads and validates every setting of the stack and returns all problems found, so callers can
 * add the problems of later checks and report everything at once.
 */
export function checkStackConfig(
  get: ConfigGetter,
  options: LoadStackConfigOptions = {},
): StackConfigCheck {
  const reader = new SettingsReader(get);
  const config = readSettings(reader);

  checkCrossSettingRules(reader, config);
  checkCredentials(reader, options);

  return { config, problems: reader.problems };
}

/**
 * Reads and validates every setting of the stack. Throws one {@link StackConfigError} listing
 * every problem found, so a user fixes them all in one round.
 */
export function loadStackConfig(
  get: ConfigGetter,
  options: LoadStackConfigOptions = {},
): StackConfig {
  const { config, problems } = checkStackConfig(get, options);
  if (problems.length > 0) {
    throw new StackConfigError(problems);
  }
  return config;
}

function readSettings(reader: SettingsReader): StackConfig {
  const days = rules.integerBetween(1, 365, "days");
  return {
    infisicalApiUrl: reader.withDefault("infisicalHost", rules.infisicalHost),
    projectSlug: reader.required("projectSlug", rules.infisicalSlug),
    envSlug: reader.withDefault("envSlug", rules.infisicalSlug),
    secretsPath: reader.withDefault("secretsPath", rules.secretsPath),
    appNamespace: reader.withDefault("appNamespace", rules.rfc1123Label),
    managedSecretName: reader.withDefault("managedSecretName", rules.rfc1123Subdomain),
    deploymentName: reader.withDefault("deploymentName", rules.rfc1123Subdomain),
    patchDeployment: reader.withDefault("patchDeployment", rules.boolean),
    installOperator: reader.withDefault("installOperator", rules.boolean),
    operatorNamespace: reader.withDefault("operatorNamespace", rules.rfc1123Label),
    operatorChartVersion: reader.withDefault("operatorChartVersion", rules.chartVersion),
    resyncInterval: reader.withDefault("resyncInterval", rules.resyncInterval),
    authSecretName: reader.withDefault("authSecretName", rules.rfc1123Subdomain),
    operatorIdentityId: reader.required("operatorIdentityId", rules.uuid),
    operatorClientId: reader.required("operatorClientId", rules.uuid),
    openrouterApiUrl: reader.withDefault("openrouterApiUrl", rules.openrouterApiUrl),
    openrouterKeyLimit: reader.optional("openrouterKeyLimit", rules.positiveDecimal),
    openrouterKeyLimitReset: reader.optional("openrouterKeyLimitReset", rules.keyLimitReset),
    openrouterRotationDays: reader.withDefault("openrouterRotationDays", days),
    jwtRotationDays: reader.withDefault("jwtRotationDays", days),
    clientSecretRotationDays: reader.withDefault("clientSecretRotationDays", days),
    gracePeriodSeconds: reader.withDefault(
      "gracePeriodSeconds",
      rules.integerBetween(0, 3600, "seconds"),
    ),
    syncGate: reader.withDefault("syncGate", rules.boolean),
    syncGateTimeoutSeconds: reader.withDefault(
      "syncGateTimeoutSeconds",
      rules.integerBetween(1, 3600, "seconds"),
    ),
    healthCheckUrl: reader.optional("healthCheckUrl", rules.healthCheckUrl),
    openrouterRotateNow: reader.optional("openrouterRotateNow", rules.rotateNowStamp),
    jwtRotateNow: reader.optional("jwtRotateNow", rules.rotateNowStamp),
    clientSecretRotateNow: reader.optional("clientSecretRotateNow", rules.rotateNowStamp),
    verifyScope: reader.withDefault("verifyScope", rules.boolean),
  };
}

function checkCrossSettingRules(reader: SettingsReader, config: StackConfig): void {
  if (
    config.openrouterKeyLimitReset !== undefined &&
    reader.raw("openrouterKeyLimit") === undefined
  ) {
    reader.addProblem(
      "openrouterKeyLimitReset",
      `openrouterKeyLimitReset ${displayValue(config.openrouterKeyLimitReset)} is set but openrouterKeyLimit is not, and a reset period needs a limit. Fix: ${configSetCommand("openrouterKeyLimit", "<usd>")}, or pulumi config rm ${projectName}:openrouterKeyLimitReset`,
    );
  }
  const identityId = config.operatorIdentityId;
  if (identityId !== undefined && identityId === config.operatorClientId) {
    reader.addProblem(
      "operatorClientId",
      `operatorClientId ${displayValue(identityId)} equals operatorIdentityId, but the universal-auth client id is a different UUID, shown in the identity's Universal Auth settings. Fix: ${configSetCommand("operatorClientId", requiredSettings.operatorClientId)}`,
    );
  }
}

function describeCredentialSources(credential: CredentialSetting): string {
  const command = configSetCommand(credential.key, "<value>", credential.secret);
  const variables = credential.envVars.join(" or ");
  const noun = credential.envVars.length === 1 ? "variable" : "variables";
  return `${command}, or set the environment ${noun} ${variables}`;
}

/** Returns a value without surrounding whitespace, or undefined when nothing else is left. */
function nonBlank(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}

/**
 * Describes the sources of a credential that are set but blank, which the providers skip.
 * Returns "" when there are none.
 */
function describeBlankSources(
  credential: CredentialSetting,
  configValue: string | undefined,
  env: Record<string, string | undefined>,
): string {
  const sources = credential.envVars
    .filter((name) => env[name] !== undefined && nonBlank(env[name]) === undefined)
    .map((name) => `the environment variable ${name}`);
  if (configValue !== undefined && nonBlank(configValue) === undefined) {
    sources.unshift("the stack config value");
  }
  if (sources.length === 0) {
    return "";
  }
  const list = sources.join(" and ");
  const verb = sources.length === 1 ? "is" : "are";
  return ` ${list[0].toUpperCase()}${list.slice(1)} ${verb} blank, and a blank value counts as missing.`;
}

function checkCredentials(reader: SettingsReader, options: LoadStackConfigOptions): void {
  const env = options.env ?? process.env;
  for (const credential of credentialSettings) {
    // The providers trim credentials and skip blank ones, so a blank value counts as missing.
    const fromConfig = nonBlank(reader.raw(credential.key));
    const fromEnv = credential.envVars
      .map((name) => nonBlank(env[name]))
      .find((value) => value !== undefined);
    if (fromConfig === undefined && fromEnv === undefined) {
      const blankNote = describeBlankSources(credential, reader.raw(credential.key), env);
      reader.addProblem(
        credential.key,
        `${credential.key} is missing from the stack config and the environment.${blankNote} Fix: ${describeCredentialSources(credential)}`,
      );
      continue;
    }
    if (
      fromConfig !== undefined &&
      credential.secret &&
      options.isSecret?.(credential.key) === false
    ) {
      reader.addProblem(
        credential.key,
        `${credential.key} is stored in plain text in the stack config. Fix: ${configSetCommand(credential.key, "<value>", true)}`,
      );
    }
    if (credential.key === "infisicalClientId") {
      const clientId = fromConfig ?? fromEnv;
      if (clientId !== undefined && !rules.uuid(clientId).ok) {
        // The value is not shown: a client secret pasted here by mistake must not be printed.
        reader.addProblem(
          credential.key,
          `infisicalClientId is invalid: it must be a universal-auth client id, a UUID (value not shown). Fix: ${describeCredentialSources(credential)}`,
        );
      }
    }
  }
}
