import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { FakeRequest, FakeResponse, FakeServer, startFakeServer } from "./fakeServer";
import { FakeClock, RecordedRequest, isJsonObject, parseJson } from "./faults";

/** Resource kinds the fake serves, named by their plural as in the API path. */
export type KubeResource = "secrets" | "deployments" | "infisicalsecrets";

/** A stored Kubernetes object; the fake only reads `metadata` and keeps the rest as given. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    generation?: number;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: any;
}

/** Options of `startKubernetesFake`. */
export interface KubernetesFakeOptions {
  /** Bearer token the server accepts; any other gets 401. Default `kube-PLACEHOLDER-token`. */
  token?: string;
}

/**
 * A fake Kubernetes API server on 127.0.0.1 with objects held in memory. It serves GET, PUT and
 * PATCH (JSON merge patch) of Secrets, Deployments and InfisicalSecrets, and returns errors as
 * `Status` objects as the real API server does. `url` is the server URL without a path.
 */
export interface KubernetesFake extends FakeServer {
  /** The bearer token the server accepts. */
  token: string;
  /** Store an object (create or replace), bumping its resourceVersion. Returns the stored copy. */
  put(resource: KubeResource, object: KubeObject): KubeObject;
  /** A copy of a stored object, or undefined. */
  get(resource: KubeResource, namespace: string, name: string): KubeObject | undefined;
  remove(resource: KubeResource, namespace: string, name: string): void;
  /** Store an Opaque Secret whose data are the base64 encodings of `values`. */
  putSecret(
    namespace: string,
    name: string,
    values: Record<string, string>,
    annotations?: Record<string, string>,
  ): KubeObject;
  /** The base64-decoded data of a stored Secret, or undefined. */
  secretValues(namespace: string, name: string): Record<string, string> | undefined;
  /** Store a rolled-out Deployment of `replicas` pods that use Secret `secretName` by envFrom. */
  putDeployment(namespace: string, name: string, replicas: number, secretName: string): KubeObject;
  /** Store an InfisicalSecret with the given status conditions. */
  putInfisicalSecret(namespace: string, name: string, conditions?: KubeCondition[]): KubeObject;
  /** Register a listener called with each request and its response status. */
  onRequest(listener: (request: RecordedRequest) => void): void;
  /** Write a kubeconfig for this server into `dir` and return its path. */
  writeKubeconfig(dir: string, opts?: KubeconfigOptions): string;
  /** The kubeconfig text for this server (YAML-compatible JSON). */
  kubeconfig(opts?: KubeconfigOptions): string;
}

/** Names and token in a generated kubeconfig. */
export interface KubeconfigOptions {
  /** Context name, also used for the cluster and the user. Default `fake`. */
  contextName?: string;
  /** Token put in the user entry. Default: the token the server accepts. */
  token?: string;
}

/** A standard `metav1.Condition`. */
export interface KubeCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

const resourceKinds: Record<KubeResource, { kind: string; apiVersion: string; group: string }> = {
  secrets: { kind: "Secret", apiVersion: "v1", group: "" },
  deployments: { kind: "Deployment", apiVersion: "apps/v1", group: "apps" },
  infisicalsecrets: {
    kind: "InfisicalSecret",
    apiVersion: "secrets.infisical.com/v1alpha1",
    group: "secrets.infisical.com",
  },
};

const routePattern = new RegExp(
  "^/(?:api/v1|apis/apps/v1|apis/secrets\\.infisical\\.com/v1alpha1)" +
    "/namespaces/([^/]+)/(secrets|deployments|infisicalsecrets)/([^/]+)$",
);

const routePrefixes: Record<KubeResource, string> = {
  secrets: "/api/v1",
  deployments: "/apis/apps/v1",
  infisicalsecrets: "/apis/secrets.infisical.com/v1alpha1",
};

/** Start the fake Kubernetes API server on 127.0.0.1 at a free port. */
export async function startKubernetesFake(
  opts: KubernetesFakeOptions = {},
): Promise<KubernetesFake> {
  const token = opts.token ?? "kube-PLACEHOLDER-token";
  const objects = new Map<string, KubeObject>();
  const listeners: Array<(request: RecordedRequest) => void> = [];
  let resourceVersion = 1000;

  const keyOf = (resource: KubeResource, namespace: string, name: string) =>
    `${resource}/${namespace}/${name}`;

  const put = (resource: KubeResource, object: KubeObject): KubeObject => {
    const { kind, apiVersion } = resourceKinds[resource];
    const key = keyOf(resource, object.metadata.namespace, object.metadata.name);
    const stored = clone({ apiVersion, kind, ...object });
    stored.metadata.resourceVersion = String(++resourceVersion);
    if (resource !== "secrets") {
      stored.metadata.generation = nextGeneration(objects.get(key), stored);
    }
    objects.set(key, stored);
    return clone(stored);
  };

  const get = (resource: KubeResource, namespace: string, name: string) => {
    const stored = objects.get(keyOf(resource, namespace, name));
    return stored === undefined ? undefined : clone(stored);
  };

  const server = await startFakeServer({
    clock: new FakeClock(),
    faultBody: (code) => statusObject(code, reasonOf(code), `the fake answered ${code}`),
    handle: (request) => {
      const response = handle(request, token, { put, get });
      // The listeners run after the response is computed, so a scripted change is seen by the
      // next request, not by the one that triggered it.
      const recorded = { ...recordOf(request), status: response.status };
      for (const listener of listeners) {
        listener(recorded);
      }
      return response;
    },
  });

  const kubeconfig = (kopts: KubeconfigOptions = {}) =>
    kubeconfigText(server.url, kopts.contextName ?? "fake", kopts.token ?? token);

  return {
    ...server,
    token,
    put,
    get,
    remove: (resource, namespace, name) => void objects.delete(keyOf(resource, namespace, name)),
    putSecret: (namespace, name, values, annotations) =>
      put("secrets", {
        metadata: { name, namespace, annotations: { ...annotations } },
        type: "Opaque",
        data: encodeValues(values),
      }),
    secretValues: (namespace, name) => {
      const secret = get("secrets", namespace, name);
      return secret === undefined ? undefined : decodeValues(secret.data ?? {});
    },
    putDeployment: (namespace, name, replicas, secretName) =>
      put("deployments", deploymentObject(namespace, name, replicas, secretName)),
    putInfisicalSecret: (namespace, name, conditions = []) =>
      put("infisicalsecrets", { metadata: { name, namespace }, spec: {}, status: { conditions } }),
    onRequest: (listener) => void listeners.push(listener),
    kubeconfig,
    writeKubeconfig: (dir, kopts) => {
      const file = path.join(dir, "kubeconfig");
      fs.writeFileSync(file, kubeconfig(kopts), { mode: 0o600 });
      return file;
    },
  };
}

interface Store {
  put(resource: KubeResource, object: KubeObject): KubeObject;
  get(resource: KubeResource, namespace: string, name: string): KubeObject | undefined;
}

function handle(request: FakeRequest, token: string, store: Store): FakeResponse {
  if (request.headers.authorization !== `Bearer ${token}`) {
    return statusResponse(401, "Unauthorized", "Unauthorized");
  }
  const match = routePattern.exec(request.path);
  if (match === null || !request.path.startsWith(routePrefixes[match[2] as KubeResource])) {
    return statusResponse(404, "NotFound", "the server could not find the requested resource");
  }
  const [, namespace, plural, name] = match;
  const resource = plural as KubeResource;
  const existing = store.get(resource, namespace, name);

  if (existing === undefined) {
    return notFound(resource, name);
  }
  switch (request.method) {
    case "GET":
      return { status: 200, body: existing };
    case "PUT":
      return replaceObject(store, resource, existing, request);
    case "PATCH":
      return patchObject(store, resource, existing, request);
    default:
      return statusResponse(405, "MethodNotAllowed", "the server does not allow this method");
  }
}

function notFound(resource: KubeResource, name: string): FakeResponse {
  const { group } = resourceKinds[resource];
  const qualified = group === "" ? resource : `${resource}.${group}`;
  const body = {
    ...statusObject(404, "NotFound", `${qualified} "${name}" not found`),
    details: group === "" ? { name, kind: resource } : { name, group, kind: resource },
  };
  return { status: 404, body };
}

function replaceObject(
  store: Store,
  resource: KubeResource,
  existing: KubeObject,
  request: FakeRequest,
): FakeResponse {
  const parsed = parseJson(request.rawBody);
  const object = (parsed.ok ? parsed.value : undefined) as KubeObject | undefined;
  if (!isJsonObject(object) || !isJsonObject(object.metadata)) {
    return statusResponse(400, "BadRequest", "the request body is not an object with metadata");
  }
  const sent = object.metadata.resourceVersion;
  if (sent !== undefined && sent !== existing.metadata.resourceVersion) {
    const message = `Operation cannot be fulfilled on ${resource} "${existing.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`;
    return statusResponse(409, "Conflict", message);
  }
  const metadata = {
    ...object.metadata,
    name: existing.metadata.name,
    namespace: existing.metadata.namespace,
  };
  return { status: 200, body: store.put(resource, { ...object, metadata }) };
}

function patchObject(
  store: Store,
  resource: KubeResource,
  existing: KubeObject,
  request: FakeRequest,
): FakeResponse {
  const contentType = String(request.headers["content-type"] ?? "");
  if (contentType.startsWith("application/json-patch+json")) {
    return statusResponse(415, "UnsupportedMediaType", `the fake serves no ${contentType}`);
  }
  const parsed = parseJson(request.rawBody);
  if (!parsed.ok || !isJsonObject(parsed.value)) {
    return statusResponse(400, "BadRequest", "the patch is not a JSON object");
  }
  const patched = mergePatch(existing, parsed.value) as KubeObject;
  return { status: 200, body: store.put(resource, patched) };
}

function statusObject(code: number, reason: string, message: string) {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  };
}

function statusResponse(code: number, reason: string, message: string): FakeResponse {
  return { status: code, body: statusObject(code, reason, message) };
}

function reasonOf(code: number): string {
  const reasons: Record<number, string> = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
  };
  return reasons[code] ?? "Unknown";
}

function recordOf(request: FakeRequest): RecordedRequest {
  const parsed = parseJson(request.rawBody);
  return {
    method: request.method,
    path: request.path,
    query: Object.fromEntries(request.query),
    headers: { ...request.headers },
    body: parsed.ok ? parsed.value : undefined,
  };
}

/** Apply an RFC 7386 JSON merge patch; strategic merge patches are treated the same way. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    return patch;
  }
  const base: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete base[key];
    } else {
      base[key] = mergePatch(base[key], value);
    }
  }
  return base;
}

function nextGeneration(previous: KubeObject | undefined, next: KubeObject): number {
  if (previous === undefined) {
    return 1;
  }
  const generation = previous.metadata.generation ?? 1;
  const specChanged = JSON.stringify(previous.spec) !== JSON.stringify(next.spec);
  return specChanged ? generation + 1 : generation;
}

function deploymentObject(
  namespace: string,
  name: string,
  replicas: number,
  secretName: string,
): KubeObject {
  return {
    metadata: {
      name,
      namespace,
      annotations: { "secrets.infisical.com/auto-reload": "true" },
    },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: {} },
        spec: {
          containers: [
            { name, image: "anythingllm", envFrom: [{ secretRef: { name: secretName } }] },
          ],
        },
      },
    },
    status: {
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
    },
  };
}

function kubeconfigText(server: string, name: string, token: string): string {
  const config = {
    apiVersion: "v1",
    kind: "Config",
    // @kubernetes/client-node 2.x accepts an http:// server only with insecure-skip-tls-verify.
    clusters: [{ name, cluster: { server, "insecure-skip-tls-verify": true } }],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
  };
  return JSON.stringify(config, null, 2) + "\n";
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Base64-encode each value, as a Secret's `data` stores them. */
export function encodeValues(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, Buffer.from(value).toString("base64")]),
  );
}

/** Decode each base64 value of a Secret's `data`. */
export function decodeValues(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [
      key,
      Buffer.from(value, "base64").toString("utf8"),
    ]),
  );
}

/** The version annotation the operator writes: a digest of the rendered data. */
export function secretVersion(data: Record<string, string>): string {
  const digest = createHash("sha256").update(JSON.stringify(data)).digest("hex");
  return `W/"${digest.slice(0, 16)}"`;
}

/** A namespaced object name. */
export interface ObjectRef {
  namespace: string;
  name: string;
}

/** Script of `fakeOperator`: what the Infisical operator does, and when. */
export interface FakeOperatorOptions {
  /** Managed Secret the operator writes `values` into. */
  managedSecret?: ObjectRef;
  /** Plain values the sync copies into the managed Secret (merged over its data). */
  values?: Record<string, string>;
  /** Number of GETs of the managed Secret served before the sync; GET n + 1 sees the new value. */
  syncAfterPolls?: number;
  /** Milliseconds from the start to the sync and the login, if syncAfterPolls is not set. */
  syncAfterMs?: number;
  /** The managed Secret is never written. */
  neverSyncs?: boolean;
  /** Deployment in the managed Secret's namespace that the operator restarts after a sync. */
  deploymentName?: string;
  /** Number of GETs of the Deployment served after the restart before the rollout completes. */
  rolloutAfterPolls?: number;
  /** The restarted Deployment keeps one replica updated and one unavailable. */
  rolloutStalls?: boolean;
  /** Universal-auth login at the Infisical fake with the auth Secret's clientId, clientSecret. */
  login?: {
    /** Site origin of the Infisical fake; the login goes to `${infisicalUrl}/api/v1/...`. */
    infisicalUrl: string;
    authSecret: ObjectRef;
    infisicalSecret: ObjectRef;
  };
  /** The operator keeps the credentials it read at the start, so it never logs in with new ones. */
  neverLogsIn?: boolean;
  /** After a successful login the sync fails with this error text. */
  syncError?: string;
}

/** A running fake operator. */
export interface FakeOperator {
  /** Number of managed Secret writes done. */
  readonly syncs: number;
  /** HTTP status of each login made at the Infisical fake, 0 for a connection failure. */
  readonly loginStatuses: number[];
  /** Settles when the scripted sync and login have run. */
  readonly done: Promise<void>;
  stop(): void;
}

const readyCondition = "secrets.infisical.com/ReadyToSyncSecrets";

/**
 * Start a fake Infisical operator on `kube`: it syncs the managed Secret, restarts the Deployment
 * through its pod-template annotation and logs in with the auth Secret, each as scripted.
 */
export function fakeOperator(kube: KubernetesFake, opts: FakeOperatorOptions): FakeOperator {
  const loginStatuses: number[] = [];
  const startCredentials =
    opts.login && kube.secretValues(opts.login.authSecret.namespace, opts.login.authSecret.name);
  let stopped = false;
  let syncs = 0;
  let secretGets = 0;
  let deploymentGetsAfterRestart: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));

  const sync = async () => {
    if (stopped) {
      return;
    }
    if (opts.managedSecret && !opts.neverSyncs) {
      syncManagedSecret(kube, opts.managedSecret, opts.values ?? {});
      syncs += 1;
      if (opts.deploymentName) {
        restartDeployment(kube, opts.managedSecret, opts.deploymentName);
        deploymentGetsAfterRestart = 0;
      }
    }
    if (opts.login) {
      const credentials = opts.neverLogsIn ? startCredentials : undefined;
      const status = await loginAndSetStatus(kube, opts.login, credentials, opts.syncError).catch(
        () => 0,
      );
      loginStatuses.push(status);
    }
    finish();
  };

  kube.onRequest((request) => {
    // A 404 counts as a poll too, because a gate may start before the Secret exists.
    if (stopped || request.method !== "GET" || request.status === 401) {
      return;
    }
    const secret = opts.managedSecret;
    if (
      secret &&
      request.path === `/api/v1/namespaces/${secret.namespace}/secrets/${secret.name}`
    ) {
      secretGets += 1;
      if (secretGets === opts.syncAfterPolls) {
        void sync();
      }
    }
    const deploymentPath =
      secret && `/apis/apps/v1/namespaces/${secret.namespace}/deployments/${opts.deploymentName}`;
    if (deploymentGetsAfterRestart !== undefined && request.path === deploymentPath) {
      deploymentGetsAfterRestart += 1;
      if (deploymentGetsAfterRestart === (opts.rolloutAfterPolls ?? 1)) {
        finishRollout(kube, secret!, opts.deploymentName!, opts.rolloutStalls === true);
      }
    }
  });
  if (opts.syncAfterPolls === undefined) {
    timer = setTimeout(() => void sync(), opts.syncAfterMs ?? 0);
  }

  return {
    get syncs() {
      return syncs;
    },
    loginStatuses,
    done,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function syncManagedSecret(
  kube: KubernetesFake,
  ref: ObjectRef,
  values: Record<string, string>,
): void {
  const current = kube.get("secrets", ref.namespace, ref.name);
  const data = { ...(current?.data ?? {}), ...encodeValues(values) };
  const annotations = {
    ...(current?.metadata.annotations ?? {}),
    "secrets.infisical.com/version": secretVersion(data),
  };
  kube.put("secrets", {
    ...(current ?? { type: "Opaque" }),
    metadata: {
      ...(current?.metadata ?? {}),
      name: ref.name,
      namespace: ref.namespace,
      annotations,
    },
    data,
  });
}

/** Write the Secret's version into the Deployment's and its pod template's annotations. */
function restartDeployment(
  kube: KubernetesFake,
  secretRef: ObjectRef,
  deploymentName: string,
): void {
  const secret = kube.get("secrets", secretRef.namespace, secretRef.name);
  const deployment = kube.get("deployments", secretRef.namespace, deploymentName);
  if (secret === undefined || deployment === undefined) {
    return;
  }
  const key = `secrets.infisical.com/managed-secret.${secretRef.name}`;
  const version = secret.metadata.annotations?.["secrets.infisical.com/version"] ?? "";
  deployment.metadata.annotations = { ...deployment.metadata.annotations, [key]: version };
  const template = deployment.spec.template;
  template.metadata = {
    ...template.metadata,
    annotations: { ...template.metadata?.annotations, [key]: version },
  };
  kube.put("deployments", deployment);
}

function finishRollout(
  kube: KubernetesFake,
  ref: ObjectRef,
  deploymentName: string,
  stalls: boolean,
): void {
  const deployment = kube.get("deployments", ref.namespace, deploymentName);
  if (deployment === undefined) {
    return;
  }
  const replicas: number = deployment.spec.replicas ?? 1;
  deployment.status = stalls
    ? {
        observedGeneration: deployment.metadata.generation,
        replicas: replicas + 1,
        updatedReplicas: 1,
        readyReplicas: replicas,
        availableReplicas: replicas,
        unavailableReplicas: 1,
      }
    : {
        observedGeneration: deployment.metadata.generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
      };
  kube.put("deployments", deployment);
}

async function loginAndSetStatus(
  kube: KubernetesFake,
  login: NonNullable<FakeOperatorOptions["login"]>,
  startCredentials: Record<string, string> | undefined,
  syncError: string | undefined,
): Promise<number> {
  const { authSecret, infisicalSecret } = login;
  const credentials =
    startCredentials ?? kube.secretValues(authSecret.namespace, authSecret.name) ?? {};
  const response = await fetch(`${login.infisicalUrl}/api/v1/auth/universal-auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
    }),
  });
  const body = (await response.json().catch(() => ({}))) as { message?: unknown };

  const condition: KubeCondition = !response.ok
    ? {
        type: readyCondition,
        status: "False",
        reason: "Error",
        message: `Failed to sync secrets. This can be caused by invalid access token or an invalid API host that is set. Error: ${String(body.message)}`,
      }
    : syncError !== undefined
      ? {
          type: readyCondition,
          status: "False",
          reason: "Error",
          message: `Failed to sync secrets. Error: ${syncError}`,
        }
      : {
          type: readyCondition,
          status: "True",
          reason: "OK",
          message:
            "Infisical controller has started syncing your secrets. Last reconcile synced 3 secrets",
        };
  setCondition(kube, infisicalSecret, condition);
  return response.status;
}

/** Set or replace one condition of an InfisicalSecret, keeping the others. */
export function setCondition(kube: KubernetesFake, ref: ObjectRef, condition: KubeCondition): void {
  const current = kube.get("infisicalsecrets", ref.namespace, ref.name);
  if (current === undefined) {
    kube.putInfisicalSecret(ref.namespace, ref.name, [condition]);
    return;
  }
  const conditions = ((current.status?.conditions ?? []) as KubeCondition[]).filter(
    (c) => c.type !== condition.type,
  );
  const stamped = { ...condition, lastTransitionTime: new Date().toISOString() };
  kube.put("infisicalsecrets", { ...current, status: { conditions: [...conditions, stamped] } });
}
