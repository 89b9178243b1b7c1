import * as pulumi from "@pulumi/pulumi";

import {
  ClientSecretRotation,
  InfisicalOperator,
  JwtSecretRotation,
  OpenRouterKeyRotation,
  SecretSync,
} from "./components";
import { findScopeProblems } from "./config/infisicalScope";
import { checkStackConfig, projectName, StackConfig, StackConfigError } from "./config/stackConfig";
import { storeProviderConfig } from "./providers/credentials";

// NOTE: isConfigSecret is internal to @pulumi/pulumi (present in 3.276); without it the check
// that a credential in the stack config is encrypted is skipped.
const runtimeInternals = pulumi.runtime as { isConfigSecret?: (key: string) => boolean };

/**
 * Reads and validates the stack settings and, unless `verifyScope` is off, checks the Infisical
 * project, environment and folder they name. Throws one error listing every problem.
 */
async function loadSettings(): Promise<StackConfig> {
  const config = new pulumi.Config(projectName);
  const isConfigSecret = runtimeInternals.isConfigSecret;
  const { config: settings, problems } = checkStackConfig((key) => config.get(key), {
    isSecret: isConfigSecret ? (key) => isConfigSecret(`${projectName}:${key}`) : undefined,
  });

  if (settings.verifyScope) {
    // The shared Infisical client reads the program's credentials from the stored stack config,
    // as it does inside the dynamic providers.
    storeProviderConfig({ get: (key) => pulumi.runtime.getConfig(key) });
    problems.push(...(await findScopeProblems(settings, problems)));
  }

  if (problems.length > 0) {
    throw new StackConfigError(problems);
  }
  return settings;
}

/** Builds the rotation status stack output; no value in it is secret. */
function rotationStatus(
  openrouter: OpenRouterKeyRotation,
  jwt: JwtSecretRotation,
  clientSecret: ClientSecretRotation,
) {
  return {
    openrouterApiKey: {
      lastRotated: openrouter.lastRotated,
      nextDue: openrouter.nextRotationDue,
      keyHash: openrouter.keyHash,
    },
    jwtSecret: { lastRotated: jwt.lastRotated, nextDue: jwt.nextRotationDue },
    operatorClientSecret: {
      lastRotated: clientSecret.lastRotated,
      nextDue: clientSecret.nextRotationDue,
      clientSecretId: clientSecret.clientSecretId,
    },
  };
}

export = async () => {
  const settings = await loadSettings();

  const infisical = {
    apiUrl: settings.infisicalApiUrl,
    projectSlug: settings.projectSlug,
    envSlug: settings.envSlug,
    secretsPath: settings.secretsPath,
  };

  const operator = settings.installOperator
    ? new InfisicalOperator("infisical-operator", {
        namespace: settings.operatorNamespace,
        chartVersion: settings.operatorChartVersion,
        hostApi: settings.infisicalApiUrl,
      })
    : undefined;

  const handOff = {
    syncGate: settings.syncGate,
    syncGateTimeoutSeconds: settings.syncGateTimeoutSeconds,
    gracePeriodSeconds: settings.gracePeriodSeconds,
  };
  const synced = {
    namespace: settings.appNamespace,
    managedSecretName: settings.managedSecretName,
    // The operator annotates the pod template only when auto-reload is on, so the gate watches
    // the rollout only then.
    deploymentName: settings.patchDeployment ? settings.deploymentName : undefined,
  };
  const infisicalSecretName = "anythingllm";

  // The client secret's sync gate must start after the credentials Secret contains the new secret,
  // but that Secret is built by SecretSync from this rotation's output. The consumers are
  // therefore passed as a promise and resolved once SecretSync exists.
  let resolveConsumers: (consumers: pulumi.Resource[]) => void = () => undefined;
  const consumers = new Promise<pulumi.Resource[]>((resolve) => (resolveConsumers = resolve));
  const clientSecret = new ClientSecretRotation("operator-client-secret", {
    apiUrl: settings.infisicalApiUrl,
    identityId: settings.operatorIdentityId,
    clientId: settings.operatorClientId,
    rotationDays: settings.clientSecretRotationDays,
    rotateNow: settings.clientSecretRotateNow,
    handOff,
    infisicalSecret: { namespace: settings.appNamespace, name: infisicalSecretName },
    consumers,
  });

  const sync = new SecretSync("anythingllm", {
    namespace: settings.appNamespace,
    authSecretName: settings.authSecretName,
    managedSecretName: settings.managedSecretName,
    infisicalSecretName,
    clientId: settings.operatorClientId,
    clientSecret: clientSecret.clientSecret,
    hostApi: settings.infisicalApiUrl,
    projectSlug: settings.projectSlug,
    envSlug: settings.envSlug,
    secretsPath: settings.secretsPath,
    resyncInterval: settings.resyncInterval,
    deploymentName: settings.deploymentName,
    patchDeployment: settings.patchDeployment,
    operatorRelease: operator?.release,
  });
  resolveConsumers([sync.authSecret, ...sync.syncResources]);

  const openrouter = new OpenRouterKeyRotation("openrouter-api-key", {
    apiUrl: settings.openrouterApiUrl,
    limit: settings.openrouterKeyLimit,
    limitReset: settings.openrouterKeyLimitReset,
    infisical,
    rotationDays: settings.openrouterRotationDays,
    rotateNow: settings.openrouterRotateNow,
    handOff,
    synced,
    syncDependsOn: sync.syncResources,
  });

  const jwt = new JwtSecretRotation("jwt-secret", {
    infisical,
    rotationDays: settings.jwtRotationDays,
    rotateNow: settings.jwtRotateNow,
    handOff,
    synced,
    syncDependsOn: sync.syncResources,
    healthCheckUrl: settings.healthCheckUrl,
  });

  return {
    appNamespace: sync.namespace,
    authSecretName: sync.authSecretName,
    managedSecretName: sync.managedSecretName,
    infisicalSecretName: sync.infisicalSecretName,
    ...(operator && {
      operatorNamespace: operator.namespace,
      operatorReleaseName: operator.releaseName,
      operatorChartVersion: operator.chartVersion,
    }),
    rotation: rotationStatus(openrouter, jwt, clientSecret),
  };
};
