// What a ClusterSyncGate observes in the cluster and at Infisical: each function reads the
// current state once and returns whether the new credential is in use, or what is still missing.
import { createHash } from "node:crypto";

import { infisicalRequest } from "./infisicalAuth";
import { KubernetesReader } from "./kubernetesApi";

/** Pod-template annotation prefix the Infisical operator writes when it restarts a workload. */
const managedSecretAnnotationPrefix = "secrets.infisical.com/managed-secret.";
/** Annotation of a managed Secret with the version (an ETag) of its data. */
const secretVersionAnnotation = "secrets.infisical.com/version";
/** Condition an InfisicalSecret reports after each reconcile. */
const readyToSyncCondition = "secrets.infisical.com/ReadyToSyncSecrets";

/** Check of a new value in a managed Secret and, optionally, of a Deployment rolled out with it. */
export interface SyncedValueCheck {
  namespace: string;
  /** Secret the operator writes (the `managedKubeSecretReferences` target). */
  secretName: string;
  /** Key in the Secret's data whose value changes. */
  secretKey: string;
  /** SHA-256 (hex) of the new plain value; see `sha256Hex`. The value itself is never an input. */
  valueSha256: string;
  /** Deployment in `namespace` that must have restarted with the new Secret version. */
  deploymentName?: string;
}

/**
 * Check that a new client secret was used for a login besides the verification login, and that
 * the InfisicalSecret then reports the ReadyToSyncSecrets condition as True.
 */
export interface OperatorLoginCheck {
  /** Infisical API base, ending in `/api`. */
  apiUrl: string;
  /** The operator's machine identity (uuid). */
  identityId: string;
  /** Id of the new client secret (not the secret). */
  clientSecretId: string;
  infisicalSecretNamespace: string;
  infisicalSecretName: string;
}

/** One observation: done, or a description of what has not been seen yet. */
export type Observation = { done: true } | { done: false; pending: string; remedy: string };

/** Returns an observation that is not done yet. */
export function waiting(pending: string, remedy: string): Observation {
  return { done: false, pending, remedy };
}

const operatorSyncRemedy =
  "Check that the Infisical operator is running and syncs the InfisicalSecret into this Secret.";

/** Observes whether the managed Secret contains the new value and the Deployment rolled out. */
export async function observeSyncedValue(
  kube: KubernetesReader,
  check: SyncedValueCheck,
): Promise<Observation> {
  const secretRef = `${check.namespace}/${check.secretName}`;
  const secret = await kube.readSecret(check.namespace, check.secretName);
  if (secret === undefined) {
    return waiting(`the Secret ${secretRef} was not found`, operatorSyncRemedy);
  }
  const encoded = secret.data?.[check.secretKey];
  if (encoded === undefined) {
    return waiting(`the Secret ${secretRef} has no key ${check.secretKey}`, operatorSyncRemedy);
  }
  const digest = createHash("sha256").update(Buffer.from(encoded, "base64")).digest("hex");
  if (digest !== check.valueSha256) {
    const pending =
      `the Secret ${secretRef} was not updated: its key ${check.secretKey} does not contain ` +
      "the new value yet (SHA-256 digests differ)";
    return waiting(pending, operatorSyncRemedy);
  }
  if (check.deploymentName === undefined) {
    return { done: true };
  }
  const version = secret.metadata?.annotations?.[secretVersionAnnotation];
  if (version === undefined) {
    const pending = `the Secret ${secretRef} has no ${secretVersionAnnotation} annotation`;
    return waiting(pending, "Check that the Secret is managed by the Infisical operator.");
  }
  return observeRollout(kube, check, version);
}

async function observeRollout(
  kube: KubernetesReader,
  check: SyncedValueCheck,
  version: string,
): Promise<Observation> {
  const ref = `${check.namespace}/${check.deploymentName}`;
  const deployment = await kube.readDeployment(check.namespace, check.deploymentName!);
  if (deployment === undefined) {
    return waiting(
      `the Deployment ${ref} was not found`,
      "Check the deploymentName of the gate and the namespace.",
    );
  }
  const annotationKey = `${managedSecretAnnotationPrefix}${check.secretName}`;
  const templateVersion = deployment.spec?.template?.metadata?.annotations?.[annotationKey];
  if (templateVersion !== version) {
    const pending =
      `the Deployment ${ref} was not restarted with the new Secret: its pod template ` +
      `annotation ${annotationKey} is ${templateVersion ?? "missing"}, not ${version}`;
    const remedy =
      'Check that the Deployment has the annotation secrets.infisical.com/auto-reload: "true" ' +
      "and that its containers use the Secret.";
    return waiting(pending, remedy);
  }
  return rolloutObservation(check.namespace, check.deploymentName!, deployment);
}

/**
 * Decides whether a Deployment finished rolling out, as `kubectl rollout status` does. Throws when
 * the rollout cannot finish by itself: the Deployment is paused or exceeded its progress deadline.
 */
export function rolloutObservation(
  namespace: string,
  name: string,
  deployment: {
    metadata?: { generation?: number };
    spec?: { replicas?: number; paused?: boolean };
    status?: {
      conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>;
      observedGeneration?: number;
      replicas?: number;
      updatedReplicas?: number;
      availableReplicas?: number;
      unavailableReplicas?: number;
    };
  },
): Observation {
  const ref = `${namespace}/${name}`;
  const generation = deployment.metadata?.generation ?? 0;
  const status = deployment.status ?? {};
  const command = `kubectl rollout status deployment/${name} -n ${namespace}`;
  const remedy = `Check the rollout with \`${command}\`.`;
  if (deployment.spec?.paused === true && !rolloutFinished(deployment)) {
    throw new Error(
      `The Deployment ${ref} is paused, so it does not roll out the new Secret. Resume it with ` +
        `\`kubectl rollout resume deployment/${name} -n ${namespace}\`.`,
    );
  }
  if ((status.observedGeneration ?? 0) < generation) {
    const pending =
      `the rollout of Deployment ${ref} did not start ` +
      `(generation ${generation} not observed yet)`;
    return waiting(pending, remedy);
  }
  if (rolloutFinished(deployment)) {
    return { done: true };
  }
  const progressing = status.conditions?.find((c) => c.type === "Progressing");
  if (progressing?.status === "False" && progressing.reason === "ProgressDeadlineExceeded") {
    const detail = progressing.message ? `: ${progressing.message.slice(0, 300)}` : "";
    throw new Error(
      `The rollout of Deployment ${ref} exceeded its progress deadline${detail}. ${remedy}`,
    );
  }
  const desired = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const total = status.replicas ?? 0;
  const unavailable = status.unavailableReplicas ?? 0;
  const pending =
    `the rollout of Deployment ${ref} did not finish (${updated} of ${desired} replicas ` +
    `updated, ${available} available, ${unavailable} unavailable, ${total} in total)`;
  return waiting(pending, remedy);
}

function rolloutFinished(deployment: Parameters<typeof rolloutObservation>[2]): boolean {
  const status = deployment.status ?? {};
  const desired = deployment.spec?.replicas ?? 1;
  return (
    (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
    (status.updatedReplicas ?? 0) === desired &&
    (status.availableReplicas ?? 0) === desired &&
    (status.replicas ?? 0) === desired &&
    (status.unavailableReplicas ?? 0) === 0
  );
}

interface ClientSecretData {
  clientSecretNumUses?: unknown;
  isClientSecretRevoked?: boolean;
}

/**
 * Observes whether the new client secret was used for a login besides the verification login
 * and, after that, whether the InfisicalSecret's ReadyToSyncSecrets condition is True.
 */
export async function observeOperatorLogin(
  kube: KubernetesReader,
  check: OperatorLoginCheck,
): Promise<Observation> {
  const identity = encodeURIComponent(check.identityId);
  const secretId = encodeURIComponent(check.clientSecretId);
  const response = await infisicalRequest<{ clientSecretData?: ClientSecretData }>({
    apiUrl: check.apiUrl,
    method: "GET",
    path: `/v1/auth/universal-auth/identities/${identity}/client-secrets/${secretId}`,
    idempotent: true,
  });
  const data = response.data?.clientSecretData ?? {};
  if (data.isClientSecretRevoked === true) {
    throw new Error(
      `The client secret ${check.clientSecretId} of identity ${check.identityId} is revoked, ` +
        "so the operator cannot log in with it",
    );
  }
  // One use is the verification login made when the client secret was created.
  const uses = data.clientSecretNumUses;
  if (typeof uses !== "number" || !Number.isFinite(uses)) {
    throw new Error(
      `Infisical returned the client secret ${check.clientSecretId} without a numeric ` +
        "clientSecretNumUses, so the operator's login with it cannot be observed. " +
        "Check that operatorLogin.apiUrl names the Infisical API",
    );
  }
  if (uses <= 1) {
    const pending =
      `the operator did not log in with the new client secret ${check.clientSecretId} ` +
      `(used ${uses} time${uses === 1 ? "" : "s"}, counting the verification login)`;
    const remedy =
      "Check that the Secret the InfisicalSecret authenticates with contains the new client " +
      "secret, and the operator's logs.";
    return waiting(pending, remedy);
  }
  // Read after the use count rose, so the condition comes from a reconcile with the new secret.
  // NOTE: a True condition keeps its lastTransitionTime, so a True left from the old secret can
  // still be read between the new login and the end of that reconcile.
  return observeReadyCondition(kube, check);
}

async function observeReadyCondition(
  kube: KubernetesReader,
  check: OperatorLoginCheck,
): Promise<Observation> {
  const ref = `${check.infisicalSecretNamespace}/${check.infisicalSecretName}`;
  const object = await kube.readInfisicalSecret(
    check.infisicalSecretNamespace,
    check.infisicalSecretName,
  );
  if (object === undefined) {
    return waiting(
      `the InfisicalSecret ${ref} was not found`,
      "Check infisicalSecretNamespace and infisicalSecretName of the gate.",
    );
  }
  const condition = object.status?.conditions?.find((c) => c.type === readyToSyncCondition);
  if (condition?.status === "True") {
    return { done: true };
  }
  const message = (condition?.message ?? `no ${readyToSyncCondition} condition`).slice(0, 500);
  return waiting(
    `the InfisicalSecret ${ref} is not ready: ${message}`,
    "Check the InfisicalSecret's status and the operator's logs.",
  );
}
