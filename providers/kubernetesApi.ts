// Read access to the Kubernetes API for the dynamic providers. The kubeconfig is found at call
// time from the stack config or the environment, and @kubernetes/client-node is required inside
// the functions, because a provider is serialized into the stack state with everything it captures.
import type * as k8s from "@kubernetes/client-node";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The part of the dynamic provider config that is read here. */
interface ConfigReader {
  get(key: string): string | undefined;
}

/** Kubernetes settings of the stack, the ones the Pulumi Kubernetes provider reads too. */
interface KubernetesSettings {
  /** `kubernetes:kubeconfig`: a path or the kubeconfig content itself. */
  kubeconfig?: string;
  /** `kubernetes:context`: the context to use instead of the current one. */
  context?: string;
}

/** Service-account token file of a pod, present when the program runs inside a cluster. */
const serviceAccountTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token";

function settingsSlot(): { settings?: KubernetesSettings } {
  // A registered symbol on globalThis keeps the settings per process and out of every closure.
  const key = Symbol.for("anythingllm-secrets.kubernetesSettings");
  const holder = globalThis as unknown as Record<symbol, { settings?: KubernetesSettings }>;
  holder[key] ??= {};
  return holder[key];
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

/** Stores `kubernetes:kubeconfig` and `kubernetes:context` from the config given to `configure`. */
export function storeKubernetesSettings(config: ConfigReader): void {
  settingsSlot().settings = {
    kubeconfig: nonEmpty(config.get("kubernetes:kubeconfig")),
    context: nonEmpty(config.get("kubernetes:context")),
  };
}

/** Removes stored Kubernetes settings. */
export function clearKubernetesSettings(): void {
  settingsSlot().settings = undefined;
}

/** Error of a Kubernetes API read. A `transient` one may succeed when polled again. */
export interface KubernetesApiError extends Error {
  name: "KubernetesApiError";
  transient: boolean;
  status?: number;
}

// A factory instead of a subclass of Error: the SDK serializes a subclass constructor as
// `Error.call(this, message)`, which leaves the message empty.
function createKubernetesApiError(
  message: string,
  transient: boolean,
  status?: number,
): KubernetesApiError {
  const error = new Error(message) as KubernetesApiError;
  error.name = "KubernetesApiError";
  error.transient = transient;
  error.status = status;
  return error;
}

/** Returns true when `error` is a `KubernetesApiError`. */
export function isKubernetesApiError(error: unknown): error is KubernetesApiError {
  return error instanceof Error && error.name === "KubernetesApiError";
}

/** An InfisicalSecret as far as it is read here. */
export interface InfisicalSecretObject {
  metadata?: { name?: string; namespace?: string; generation?: number };
  status?: { conditions?: Array<{ type?: string; status?: string; message?: string }> };
}

/** Reads of the objects a gate observes. Each returns undefined when the object does not exist. */
export interface KubernetesReader {
  /** Origin of the API server, for messages. */
  server: string;
  readSecret(namespace: string, name: string): Promise<k8s.V1Secret | undefined>;
  readDeployment(namespace: string, name: string): Promise<k8s.V1Deployment | undefined>;
  readInfisicalSecret(namespace: string, name: string): Promise<InfisicalSecretObject | undefined>;
}

function loadClientModule(): typeof k8s {
  try {
    return require("@kubernetes/client-node");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Could not load @kubernetes/client-node (an ES module, loaded with require(), whose ` +
        `dependency undici 8 needs Node.js 22.19 or later): ${reason}`,
    );
  }
}

/**
 * Connects to the cluster of `contextName`, else of the `kubernetes:context` setting, else of the
 * kubeconfig's current context. The kubeconfig is the `kubernetes:kubeconfig` setting (a path or
 * the content), else the files in KUBECONFIG, else ~/.kube/config, else the pod's service account.
 */
export function connectKubernetes(contextName?: string): KubernetesReader {
  const client = loadClientModule();
  const config = new client.KubeConfig();
  loadKubeconfig(config);

  const context = contextName ?? settingsSlot().settings?.context;
  if (context !== undefined) {
    if (config.getContextObject(context) === null) {
      const known = config.getContexts().map((c) => c.name);
      throw new Error(
        `Kubernetes context "${context}" is not in the kubeconfig ` +
          `(contexts: ${known.join(", ") || "none"}). Set an existing one with the gate's ` +
          "kubeContext or `pulumi config set kubernetes:context <name>`.",
      );
    }
    config.setCurrentContext(context);
  }
  const cluster = config.getCurrentCluster();
  if (cluster === null) {
    throw new Error(
      `The kubeconfig has no cluster for context "${config.getCurrentContext()}". ` +
        "Set `kubernetes:context` to a context with a cluster.",
    );
  }
  return makeReader(client, config, originOf(cluster.server));
}

function loadKubeconfig(config: k8s.KubeConfig): void {
  const setting = settingsSlot().settings?.kubeconfig;
  if (setting !== undefined) {
    loadSetting(config, setting);
    return;
  }
  const fromEnvironment = nonEmpty(process.env.KUBECONFIG);
  if (fromEnvironment !== undefined) {
    const missing = fromEnvironment
      .split(path.delimiter)
      .filter((file) => file !== "" && !fs.existsSync(file));
    if (missing.length > 0) {
      throw new Error(
        `The kubeconfig file ${missing.join(", ")} named in KUBECONFIG was not found. ` +
          "Set KUBECONFIG to existing files or `pulumi config set kubernetes:kubeconfig <path>`.",
      );
    }
    parseSafely("the files in KUBECONFIG", () => config.loadFromDefault());
    return;
  }
  const defaultFile = path.join(os.homedir(), ".kube", "config");
  if (fs.existsSync(defaultFile)) {
    parseSafely(defaultFile, () => config.loadFromFile(defaultFile));
    return;
  }
  if (fs.existsSync(serviceAccountTokenPath)) {
    config.loadFromCluster();
    return;
  }
  // Without this error the client would fall back to http://localhost:8080, which no setting names.
  throw new Error(
    "No kubeconfig found: `kubernetes:kubeconfig` is not set, KUBECONFIG is empty and " +
      `${defaultFile} does not exist. ` +
      "Set one with `pulumi config set kubernetes:kubeconfig <path>`.",
  );
}

// The setting is a path or the content, as the Pulumi Kubernetes provider takes it: a value that
// names an existing file is read from there, anything else is parsed as the kubeconfig itself.
function loadSetting(config: k8s.KubeConfig, setting: string): void {
  const trimmed = setting.trim();
  const isSingleLine = !trimmed.includes("\n") && !trimmed.startsWith("{");
  const file = trimmed.startsWith("~/") ? path.join(os.homedir(), trimmed.slice(2)) : trimmed;
  if (isSingleLine && fs.existsSync(file)) {
    parseSafely(file, () => config.loadFromFile(file));
    return;
  }
  if (isSingleLine) {
    throw new Error(
      `The kubernetes:kubeconfig setting names no existing file (${file}). ` +
        "Set it to a kubeconfig path or to the kubeconfig content.",
    );
  }
  parseSafely("the kubernetes:kubeconfig setting", () => config.loadFromString(trimmed));
}

// A YAML parser error quotes the lines around the fault, which can hold a token, so only the
// line number is passed on.
function parseSafely(source: string, load: () => void): void {
  try {
    load();
  } catch (error) {
    const line = (error as { mark?: { line?: unknown } }).mark?.line;
    const where = typeof line === "number" ? ` at line ${line + 1}` : "";
    const kind =
      (error as { name?: unknown }).name === "YAMLException" ? "invalid YAML" : "invalid";
    throw new Error(`The kubeconfig from ${source} is ${kind}${where}.`);
  }
}

function originOf(server: string): string {
  try {
    return new URL(server).origin;
  } catch {
    return "(invalid server URL)";
  }
}

function makeReader(client: typeof k8s, config: k8s.KubeConfig, server: string): KubernetesReader {
  const core = config.makeApiClient(client.CoreV1Api);
  const apps = config.makeApiClient(client.AppsV1Api);
  const custom = config.makeApiClient(client.CustomObjectsApi);
  const read = async <T>(apiPath: string, call: () => Promise<T>) => {
    const target = { server, apiPath, secrets: await credentialsOf(config, server, apiPath) };
    return readOrUndefined(client, target, call);
  };

  return {
    server,
    readSecret: (namespace, name) =>
      read(`/api/v1/namespaces/${namespace}/secrets/${name}`, () =>
        core.readNamespacedSecret({ namespace, name }),
      ),
    readDeployment: (namespace, name) =>
      read(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`, () =>
        apps.readNamespacedDeployment({ namespace, name }),
      ),
    readInfisicalSecret: (namespace, name) =>
      read(
        `/apis/secrets.infisical.com/v1alpha1/namespaces/${namespace}/infisicalsecrets/${name}`,
        () =>
          custom.getNamespacedCustomObject({
            group: "secrets.infisical.com",
            version: "v1alpha1",
            namespace,
            plural: "infisicalsecrets",
            name,
          }) as Promise<InfisicalSecretObject>,
      ),
  };
}

/**
 * Credential values the client sends as the current user, removed from any error message: the
 * kubeconfig's own values and what its token file or exec credential plugin supplies. A failing
 * plugin is reported without its output, because that output can contain a token.
 */
async function credentialsOf(
  config: k8s.KubeConfig,
  server: string,
  apiPath: string,
): Promise<string[]> {
  const user = config.getCurrentUser();
  const options: { headers?: Record<string, unknown>; cert?: unknown; key?: unknown } = {};
  try {
    await config.applyToHTTPSOptions(options);
  } catch {
    const source =
      user?.exec || user?.authProvider
        ? "the kubeconfig's credential plugin failed"
        : "the kubeconfig's credentials could not be read";
    throw createKubernetesApiError(
      `Kubernetes GET ${apiPath} on ${server} was not sent: ${source}. ` +
        "Run the plugin or check the files named by the user of the Kubernetes context.",
      false,
    );
  }
  const authorization = options.headers?.Authorization ?? options.headers?.authorization;
  const scheme = /^\S+\s+/;
  const sent = typeof authorization === "string" ? [authorization.replace(scheme, "")] : [];
  const values = [user?.token, user?.password, user?.keyData, user?.certData, ...sent];
  for (const value of [options.cert, options.key]) {
    if (typeof value === "string" || Buffer.isBuffer(value)) {
      values.push(value.toString());
    }
  }
  return values.filter((value): value is string => typeof value === "string" && value.length >= 4);
}

interface ReadTarget {
  server: string;
  apiPath: string;
  secrets: string[];
}

async function readOrUndefined<T>(
  client: typeof k8s,
  target: ReadTarget,
  call: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof client.ApiException && error.code === 404) {
      return undefined;
    }
    throw translateError(client, target, error);
  }
}

const transientStatuses = [408, 429, 500, 502, 503, 504];

function translateError(
  client: typeof k8s,
  target: ReadTarget,
  error: unknown,
): KubernetesApiError {
  const request = `Kubernetes GET ${target.apiPath} on ${target.server}`;
  if (error instanceof client.ApiException) {
    const status = error.code;
    const statusMessage = statusMessageOf(error.body);
    const detail = statusMessage === undefined ? "" : `: ${redact(statusMessage, target.secrets)}`;
    const hint = statusHint(status);
    return createKubernetesApiError(
      `${request} failed with status ${status}${detail}${hint}`,
      transientStatuses.includes(status),
      status,
    );
  }
  // The parser's message quotes the body around the fault, which can be a Secret's data.
  if (error instanceof SyntaxError) {
    return createKubernetesApiError(
      `${request} got invalid JSON from the Kubernetes API server. ` +
        "Check that the kubeconfig's server URL names the API server and not a proxy or web page",
      false,
    );
  }
  // fetch reports a network failure as "fetch failed" with the reason in `cause`.
  const cause = (error as { cause?: { code?: unknown; name?: unknown } }).cause;
  if (typeof cause === "object" && cause !== null) {
    const reason = typeof cause.code === "string" ? cause.code : String(cause.name);
    return createKubernetesApiError(`${request} failed: ${reason}`, true);
  }
  // Other errors come from the client before or after the request, such as an authenticator
  // whose message can hold a credential, so only the error's name is shown.
  const name = error instanceof Error ? error.name : typeof error;
  return createKubernetesApiError(`${request} failed: ${name}`, false);
}

function statusHint(status: number): string {
  if (status === 401) {
    return ". The kubeconfig credentials were rejected; check the user of the Kubernetes context";
  }
  if (status === 403) {
    return ". The kubeconfig user needs permission to get this object";
  }
  return "";
}

/** Extracts the `message` of a Kubernetes `Status` body, which the client passes as JSON text. */
function statusMessageOf(body: unknown): string | undefined {
  let parsed = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return typeof message === "string" ? message.slice(0, 300) : undefined;
}

function redact(text: string, secrets: string[]): string {
  return secrets.reduce((cleaned, secret) => cleaned.split(secret).join("[redacted]"), text);
}
