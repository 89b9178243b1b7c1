import * as pulumi from "@pulumi/pulumi";
import { createHash, randomUUID } from "node:crypto";

import { storeProviderConfig } from "./credentials";
import { isApiError, readEnvMs, sleep } from "./http";
import { unknownInputValue } from "./inputs";
import {
  Observation,
  observeOperatorLogin,
  observeSyncedValue,
  OperatorLoginCheck,
  SyncedValueCheck,
  waiting,
} from "./clusterObservations";
import { connectKubernetes, isKubernetesApiError, storeKubernetesSettings } from "./kubernetesApi";

export { OperatorLoginCheck, SyncedValueCheck } from "./clusterObservations";

/** Returns the SHA-256 digest of `value` as 64 lowercase hex characters. */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

/** Default of `timeoutSeconds`. */
export const defaultGateTimeoutSeconds = 600;

/** Resolved inputs of a gate, as the provider receives them. */
export interface ClusterSyncGateInputs {
  /** Id or hash of the new credential; a change replaces the gate, so it waits again. */
  trigger: string;
  /** Maximum wait; default 600. */
  timeoutSeconds: number;
  /** Kubernetes context name; default `kubernetes:context`, else the kubeconfig's current one. */
  kubeContext?: string;
  syncedValue?: SyncedValueCheck;
  operatorLogin?: OperatorLoginCheck;
}

/** Outputs of a gate: its inputs and what the wait took. */
export interface ClusterSyncGateOutputs extends ClusterSyncGateInputs {
  /** ISO time when the cluster was seen using the new credential. */
  confirmedAt: string;
  waitedSeconds: number;
  /** Number of observations made, the successful one included. */
  polls: number;
}

/** Each field of `T` as a `pulumi.Input`. */
type InputFields<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** Arguments of `ClusterSyncGate`; exactly one of `syncedValue` and `operatorLogin` is set. */
export interface ClusterSyncGateArgs {
  /** Id or hash of the new credential, such as the OpenRouter key hash or the client secret id. */
  trigger: pulumi.Input<string>;
  /** Maximum wait in seconds. Default 600. A change is applied without waiting again. */
  timeoutSeconds?: pulumi.Input<number>;
  /** Kubernetes context name; default `kubernetes:context`, else the kubeconfig's current one. */
  kubeContext?: pulumi.Input<string>;
  /** The Secret (and Deployment) to observe; `valueSha256` may come from `apply(sha256Hex)`. */
  syncedValue?: pulumi.Input<InputFields<SyncedValueCheck>>;
  /** The client secret and InfisicalSecret to observe. */
  operatorLogin?: pulumi.Input<InputFields<OperatorLoginCheck>>;
}

interface WaitResult {
  waitedSeconds: number;
  polls: number;
}

const maxPollIntervalMs = 10_000;

const reachabilityRemedy = "Check that the API server can be reached from here.";

/**
 * Observes with `observe` until it reports done, waiting 1 s (ANYTHINGLLM_GATE_POLL_MS) and then
 * 1.5 times longer each time, up to 10 s. After `timeoutSeconds` it throws with the last pending
 * description. Transient API errors count as pending; other errors are thrown at once.
 */
async function pollUntilDone(
  observe: () => Promise<Observation>,
  timeoutSeconds: number,
  describeTimeout: (waitingFor: string, polls: number) => string,
): Promise<WaitResult> {
  const startMs = Date.now();
  const deadlineMs = startMs + timeoutSeconds * 1000;
  let intervalMs = readEnvMs("ANYTHINGLLM_GATE_POLL_MS", 1_000);
  let polls = 0;

  for (;;) {
    polls += 1;
    const observation = await observeBefore(observe, deadlineMs);
    if (observation.done) {
      return { waitedSeconds: (Date.now() - startMs) / 1000, polls };
    }
    const remainingMs = deadlineMs - Date.now();
    if (remainingMs <= 0) {
      const waitingFor = `${observation.pending}. ${observation.remedy}`;
      throw new Error(describeTimeout(waitingFor, polls));
    }
    await sleep(Math.min(intervalMs, remainingMs));
    intervalMs = Math.min(intervalMs * 1.5, maxPollIntervalMs);
  }
}

// A request that hangs must not hold the gate past its deadline, so each observation is given
// the time left (at least 5 s, so the last one can still complete).
async function observeBefore(
  observe: () => Promise<Observation>,
  deadlineMs: number,
): Promise<Observation> {
  const limitMs = Math.max(deadlineMs - Date.now(), 5_000);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Observation>((resolve) => {
    timer = setTimeout(
      () =>
        resolve(waiting(`an API request got no answer within ${limitMs} ms`, reachabilityRemedy)),
      limitMs,
    );
  });
  try {
    return await Promise.race([observeTransient(observe), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

async function observeTransient(observe: () => Promise<Observation>): Promise<Observation> {
  try {
    return await observe();
  } catch (error) {
    if (isTransient(error)) {
      return waiting((error as Error).message, reachabilityRemedy);
    }
    throw error;
  }
}

function isTransient(error: unknown): boolean {
  if (isKubernetesApiError(error)) {
    return error.transient;
  }
  if (isApiError(error)) {
    const status = error.status ?? 0;
    return error.failure === "connection" || error.failure === "timeout" || status >= 500;
  }
  return false;
}

// --- the provider --------------------------------------------------------------------------------

function timeoutMessage(inputs: ClusterSyncGateInputs, waitingFor: string, polls: number): string {
  return (
    `Timed out after ${inputs.timeoutSeconds} s (${polls} polls) waiting for the cluster to use ` +
    `the new credential ${inputs.trigger}: ${waitingFor}`
  );
}

async function waitForCluster(inputs: ClusterSyncGateInputs): Promise<WaitResult> {
  const kube = connectKubernetes(inputs.kubeContext);
  const observe = () =>
    inputs.operatorLogin
      ? observeOperatorLogin(kube, inputs.operatorLogin)
      : observeSyncedValue(kube, inputs.syncedValue!);
  return pollUntilDone(observe, inputs.timeoutSeconds, (waitingFor, polls) =>
    timeoutMessage(inputs, waitingFor, polls),
  );
}

const syncedValueFields: Record<keyof SyncedValueCheck, "required" | "optional"> = {
  namespace: "required",
  secretName: "required",
  secretKey: "required",
  valueSha256: "required",
  deploymentName: "optional",
};

const operatorLoginFields: Record<keyof OperatorLoginCheck, "required" | "optional"> = {
  apiUrl: "required",
  identityId: "required",
  clientSecretId: "required",
  infisicalSecretNamespace: "required",
  infisicalSecretName: "required",
};

const topLevelFields = ["trigger", "timeoutSeconds", "kubeContext", "syncedValue", "operatorLogin"];

type CheckFailure = pulumi.dynamic.CheckFailure;

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function checkString(property: string, value: unknown, required: boolean): CheckFailure[] {
  if (value === unknownInputValue || (!required && !isSet(value))) {
    return [];
  }
  if (typeof value !== "string" || value.trim() === "") {
    return [{ property, reason: `\`${property}\` must be a non-empty string` }];
  }
  return [];
}

function checkObject(
  property: string,
  value: unknown,
  fields: Record<string, "required" | "optional">,
): CheckFailure[] {
  if (value === unknownInputValue) {
    return [];
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [{ property, reason: `\`${property}\` must be an object` }];
  }
  const record = value as Record<string, unknown>;
  const failures = Object.keys(record)
    .filter((key) => !(key in fields))
    .map((key) => ({
      property: `${property}.${key}`,
      reason: `\`${property}\` has no field ${key}`,
    }));
  for (const [key, presence] of Object.entries(fields)) {
    failures.push(...checkString(`${property}.${key}`, record[key], presence === "required"));
  }
  return failures;
}

function checkDigest(value: unknown): CheckFailure[] {
  if (typeof value !== "string" || value === unknownInputValue || /^[0-9a-f]{64}$/.test(value)) {
    return [];
  }
  return [
    {
      property: "syncedValue.valueSha256",
      reason: "`syncedValue.valueSha256` must be a SHA-256 digest: 64 lowercase hex characters",
    },
  ];
}

function checkApiUrl(value: unknown): CheckFailure[] {
  if (typeof value !== "string" || value === unknownInputValue || /^https?:\/\/[^/]/.test(value)) {
    return [];
  }
  return [
    {
      property: "operatorLogin.apiUrl",
      reason: "`operatorLogin.apiUrl` must be an absolute http or https URL",
    },
  ];
}

function checkTimeout(value: unknown): CheckFailure[] {
  if (!isSet(value) || value === unknownInputValue) {
    return [];
  }
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    return [
      {
        property: "timeoutSeconds",
        reason: "`timeoutSeconds` must be a positive number of seconds",
      },
    ];
  }
  return [];
}

/** Validates gate inputs and fills in the default timeout. */
export function checkGateInputs(news: Record<string, unknown>): pulumi.dynamic.CheckResult {
  const failures: CheckFailure[] = Object.keys(news)
    .filter((key) => key !== "__provider" && !topLevelFields.includes(key))
    .map((key) => ({ property: key, reason: `\`${key}\` is not an input of ClusterSyncGate` }));
  failures.push(...checkString("trigger", news.trigger, true));
  failures.push(...checkTimeout(news.timeoutSeconds));
  failures.push(...checkString("kubeContext", news.kubeContext, false));

  const hasSyncedValue = isSet(news.syncedValue);
  const hasOperatorLogin = isSet(news.operatorLogin);
  if (hasSyncedValue === hasOperatorLogin) {
    failures.push({
      property: hasSyncedValue ? "operatorLogin" : "syncedValue",
      reason: "set exactly one of `syncedValue` and `operatorLogin`",
    });
  }
  if (hasSyncedValue) {
    failures.push(...checkObject("syncedValue", news.syncedValue, syncedValueFields));
    failures.push(...checkDigest((news.syncedValue as Record<string, unknown>).valueSha256));
  }
  if (hasOperatorLogin) {
    failures.push(...checkObject("operatorLogin", news.operatorLogin, operatorLoginFields));
    failures.push(...checkApiUrl((news.operatorLogin as Record<string, unknown>).apiUrl));
  }

  const timeoutSeconds = isSet(news.timeoutSeconds)
    ? news.timeoutSeconds
    : defaultGateTimeoutSeconds;
  return { inputs: { ...news, timeoutSeconds }, failures };
}

/** Serializes a value with sorted object keys, so that key order does not count as a change. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonical).join(",")}]`;
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Inputs whose change means another credential or another target, so the gate waits again. */
const replacingInputs = ["trigger", "kubeContext", "syncedValue", "operatorLogin"];

/**
 * Compares gate inputs, ignoring `__provider`. A new trigger, context or check target replaces
 * the gate; a new timeout is an update that keeps the earlier confirmation.
 */
export function diffGate(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): pulumi.dynamic.DiffResult {
  const replaces = replacingInputs.filter((key) => canonical(olds[key]) !== canonical(news[key]));
  const timeoutChanged = canonical(olds.timeoutSeconds) !== canonical(news.timeoutSeconds);
  return {
    changes: replaces.length > 0 || timeoutChanged,
    replaces,
    deleteBeforeReplace: false,
  };
}

function gateInputsOf(props: Record<string, any>): ClusterSyncGateInputs {
  const inputs: ClusterSyncGateInputs = {
    trigger: props.trigger,
    timeoutSeconds: props.timeoutSeconds ?? defaultGateTimeoutSeconds,
  };
  if (isSet(props.kubeContext)) {
    inputs.kubeContext = props.kubeContext;
  }
  if (isSet(props.syncedValue)) {
    inputs.syncedValue = props.syncedValue;
  }
  if (isSet(props.operatorLogin)) {
    inputs.operatorLogin = props.operatorLogin;
  }
  return inputs;
}

/**
 * Provider of `ClusterSyncGate`. `create` waits until the cluster uses the new credential;
 * `update` (a new timeout) and `delete` do not touch the cluster.
 */
export const clusterSyncGateProvider: pulumi.dynamic.ResourceProvider = {
  async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    storeProviderConfig(req.config);
    storeKubernetesSettings(req.config);
  },

  async check(_olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
    return checkGateInputs(news);
  },

  async diff(_id: string, olds: any, news: any): Promise<pulumi.dynamic.DiffResult> {
    return diffGate(olds, news);
  },

  async create(props: any): Promise<pulumi.dynamic.CreateResult> {
    const inputs = gateInputsOf(props);
    const result = await waitForCluster(inputs);
    const outs: ClusterSyncGateOutputs = {
      ...inputs,
      confirmedAt: new Date().toISOString(),
      waitedSeconds: Math.round(result.waitedSeconds * 1000) / 1000,
      polls: result.polls,
    };
    return { id: randomUUID(), outs };
  },

  async update(_id: string, olds: any, news: any): Promise<pulumi.dynamic.UpdateResult> {
    const outs: ClusterSyncGateOutputs = {
      ...gateInputsOf(news),
      confirmedAt: olds.confirmedAt,
      waitedSeconds: olds.waitedSeconds,
      polls: olds.polls,
    };
    return { outs };
  },

  async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    return { id, props };
  },

  async delete(): Promise<void> {
    // The gate only observed the cluster; there is nothing to remove.
  },
};

/**
 * Waits during `pulumi up` until the cluster uses a new credential. With `syncedValue`, the
 * managed Secret contains the new value and the Deployment rolled out with it. With
 * `operatorLogin`, the new client secret was used for a login besides the verification login,
 * and then the InfisicalSecret's ReadyToSyncSecrets condition is True. Resources that delete the
 * old credential depend on it. The wait fails after `timeoutSeconds` with what was not seen.
 */
export class ClusterSyncGate extends pulumi.dynamic.Resource {
  // `declare` emits no class field. With target ES2022 a field would be set to undefined after
  // `super()` and hide the output the Resource constructor assigned.
  /** Id or hash of the credential the gate confirmed. */
  declare readonly trigger: pulumi.Output<string>;
  /** Maximum wait in seconds. */
  declare readonly timeoutSeconds: pulumi.Output<number>;
  /** ISO time when the cluster was seen using the new credential. */
  declare readonly confirmedAt: pulumi.Output<string>;
  /** Seconds from the first observation to the confirmation. */
  declare readonly waitedSeconds: pulumi.Output<number>;
  /** Number of observations made, the successful one included. */
  declare readonly polls: pulumi.Output<number>;

  constructor(name: string, args: ClusterSyncGateArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...args,
      confirmedAt: undefined,
      waitedSeconds: undefined,
      polls: undefined,
    };
    super(clusterSyncGateProvider, name, props, opts, "anythingllm", "ClusterSyncGate");
  }
}
