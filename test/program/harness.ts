// Runs the Pulumi program, or a component, under pulumi.runtime.setMocks and records every
// resource: its type, name, parent and options (from a stack transformation, which receives the
// options the SDK acts on) and its resolved inputs (from the mocks' newResource).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";

export const projectName = "anythingllm-secrets";
export const stackName = "prod";
export const repoRoot = path.resolve(__dirname, "..", "..");

/** Creation time of mocked rotators: the start of this test run, so none is overdue. */
export const mockNowRfc3339 = toRfc3339(Date.now());

/** Creation time of a mocked rotator whose triggers carry a rotate-now stamp: an hour later. */
export const mockRotatedNowRfc3339 = toRfc3339(Date.parse(mockNowRfc3339) + 3600_000);

/** Formats a time as RFC 3339 in whole seconds, as the time provider does. */
export function toRfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** Adds whole days to an RFC 3339 time. */
export function addDays(rfc3339: string, days: number): string {
  return toRfc3339(Date.parse(rfc3339) + days * 86400_000);
}

/** Placeholder credentials; none of them may appear in any output or error. */
export const placeholderCredentials = {
  infisicalClientId: "0b7c2d4e-1111-4aaa-8bbb-123456789abc",
  infisicalClientSecret: "cs-PROGRAM-PLACEHOLDER",
  openrouterManagementKey: "mgmt-PLACEHOLDER-123",
};
export const placeholderKey = "sk-or-v1-NEW-PLACEHOLDER";

/** One resource as the program declared it. */
export interface RecordedResource {
  type: string;
  name: string;
  /** Type and name of the parent; undefined for the stack itself. */
  parent?: { type: string; name: string };
  /** Inputs after resolution, as the mock monitor received them, with secrets unwrapped. */
  inputs: Record<string, any>;
  /** Dotted paths of the inputs that arrived as secrets, e.g. `stringData`. */
  secretInputs: string[];
  /** The options the resource was constructed with. */
  opts: pulumi.ResourceOptions & pulumi.CustomResourceOptions;
  /** The raw props, with Outputs left as they are (for secretness checks). */
  props: Record<string, any>;
  resource: pulumi.Resource;
}

/** Reads the stack settings of `Pulumi.prod.yaml`, keys with the project prefix. */
export function readStackSettings(): Record<string, string> {
  const text = fs.readFileSync(path.join(repoRoot, `Pulumi.${stackName}.yaml`), "utf8");
  const doc = parse(text) as { config: Record<string, unknown> };
  const settings: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc.config)) {
    settings[key] = String(value);
  }
  return settings;
}

/** Prefixes bare keys with the project name. */
export function fullKeys(settings: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings)) {
    result[key.includes(":") ? key : `${projectName}:${key}`] = value;
  }
  return result;
}

// The mock monitor passes secret inputs in their wire form, an object tagged with this signature.
const signatureKey = "4dabf18193072939515e22adb298388d";
const secretSignature = "1b47061264138c4ac30d75fd1eb44270";

/** Replaces wire-form secrets by their values and collects the paths where they were found. */
function unwrapSecrets(value: any, path: string, secretPaths: string[]): any {
  if (Array.isArray(value)) {
    return value.map((item, index) => unwrapSecrets(item, `${path}[${index}]`, secretPaths));
  }
  if (value === null || typeof value !== "object") {
    return value;
  }
  if (value[signatureKey] === secretSignature) {
    secretPaths.push(path);
    return unwrapSecrets(value.value, path, []);
  }
  const result: Record<string, any> = {};
  for (const [key, item] of Object.entries(value)) {
    result[key] = unwrapSecrets(item, path === "" ? key : `${path}.${key}`, secretPaths);
  }
  return result;
}

function sha256(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex");
}

/** Options of the mocks that shape plausible outputs. */
export interface MockOutputs {
  /** Client secret returned by the mocked InfisicalClientSecret. */
  clientSecret?: string;
  clientSecretId?: string;
  /** Creation time of mocked rotators; default `mockNowRfc3339`. */
  rotatorCreated?: string;
}

/** Returns plausible outputs for each resource type; the mocks never call a provider. */
function mockState(args: pulumi.runtime.MockResourceArgs, outputs: MockOutputs) {
  const inputs = args.inputs;
  switch (args.type) {
    case "time:index/rotating:Rotating": {
      // A replaced rotator gets a new creation time, its id; a rotate-now stamp replaces it.
      const rotated = inputs.triggers?.rotateNow !== undefined;
      const created = outputs.rotatorCreated ?? (rotated ? mockRotatedNowRfc3339 : mockNowRfc3339);
      const due = toRfc3339(Date.parse(created) + inputs.rotationMinutes * 60_000);
      return { id: created, state: { ...inputs, rfc3339: created, rotationRfc3339: due } };
    }
    case "random:index/randomBytes:RandomBytes": {
      const hex = sha256(JSON.stringify(inputs.keepers ?? {})).slice(0, inputs.length * 2);
      const base64 = Buffer.from(hex, "hex").toString("base64");
      return { id: `bytes-${hex.slice(0, 8)}`, state: { ...inputs, hex, base64 } };
    }
    case "pulumi-nodejs:dynamic/anythingllm:OpenRouterKey": {
      const keyName = `${inputs.namePrefix}-${inputs.rotationTrigger}`;
      const hash = sha256(keyName);
      const state = { ...inputs, hash, keyName, key: placeholderKey, createdAt: mockNowRfc3339 };
      return { id: hash, state };
    }
    case "pulumi-nodejs:dynamic/anythingllm:InfisicalClientSecret": {
      const clientSecretId = outputs.clientSecretId ?? "csid-new";
      const clientSecret = outputs.clientSecret ?? "cs-NEW-PLACEHOLDER";
      const state = { ...inputs, clientSecretId, clientSecret, createdAt: mockNowRfc3339 };
      return { id: clientSecretId, state };
    }
    default:
      return { id: `${args.name}-id`, state: inputs };
  }
}

/** Records the resources of one run. */
export class ResourceRecorder {
  readonly resources: RecordedResource[] = [];
  private readonly inputsByKey = new Map<string, Record<string, any>>();

  /** Returns the mocks to pass to `setMocks`. */
  mocks(outputs: MockOutputs = {}): pulumi.runtime.Mocks {
    return {
      newResource: (args) => {
        this.inputsByKey.set(`${args.type}::${args.name}`, args.inputs);
        return mockState(args, outputs);
      },
      call: (args) => {
        throw new Error(`unexpected invoke of ${args.token}`);
      },
    };
  }

  /** Records one resource's options; registered as a stack transformation. */
  readonly transformation: pulumi.ResourceTransformation = (args) => {
    this.resources.push({
      type: args.type,
      name: args.name,
      inputs: {},
      secretInputs: [],
      opts: args.opts,
      props: args.props,
      resource: args.resource,
    });
    return undefined;
  };

  /**
   * Waits until every recorded resource is registered, then attaches its resolved inputs and its
   * parent, which the SDK sets after the transformation has run.
   */
  async complete(): Promise<void> {
    await Promise.all(this.resources.map((record) => urnOf(record.resource)));
    for (const record of this.resources) {
      const raw = this.inputsByKey.get(`${record.type}::${record.name}`) ?? {};
      record.inputs = unwrapSecrets(raw, "", record.secretInputs);
      const parent = (record.resource as unknown as Record<string, any>).__parentResource;
      record.parent = parent ? { type: parent.__pulumiType, name: parent.__name } : undefined;
    }
  }

  /** Returns the one resource with this type and name; fails when there is none. */
  get(type: string, name: string): RecordedResource {
    const found = this.resources.find((r) => r.type === type && r.name === name);
    if (!found) {
      const known = this.resources.map((r) => `${r.type} ${r.name}`).join("\n  ");
      throw new Error(`no resource ${type} ${name}; recorded:\n  ${known}`);
    }
    return found;
  }

  /** Returns every resource of a type. */
  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }
}

/** Result of one mocked run. */
export interface RunResult {
  recorder: ResourceRecorder;
  outputs?: Record<string, any>;
  error?: Error;
  /** Info, warning and error messages logged through pulumi.log while the run lasted. */
  logs: string[];
}

/** Options of {@link runMocked}. */
export interface RunOptions {
  /** Full config keys (`project:key`) and values. */
  config: Record<string, string>;
  /** Keys of `config` that are secret. */
  secretKeys?: string[];
  preview?: boolean;
  outputs?: MockOutputs;
}

function captureLogs(logs: string[]): () => void {
  const log = pulumi.log as unknown as Record<string, (message: string) => Promise<void>>;
  // Debug messages are left out: the SDK's own debug lines echo the mocked responses, and a user
  // sees them only with verbose logging.
  const saved = { info: log.info, warn: log.warn, error: log.error };
  for (const level of Object.keys(saved)) {
    log[level] = async (message: string) => {
      logs.push(`${level}: ${message}`);
    };
  }
  return () => Object.assign(log, saved);
}

/**
 * Runs `program` inside a mocked stack and returns what it declared. A thrown error is returned,
 * not raised, so tests can assert on it and on the resources declared before it.
 */
export async function runMocked(
  program: () => Promise<Record<string, any> | void> | Record<string, any> | void,
  options: RunOptions,
): Promise<RunResult> {
  const recorder = new ResourceRecorder();
  const logs: string[] = [];
  await pulumi.runtime.setMocks(
    recorder.mocks(options.outputs),
    projectName,
    stackName,
    options.preview ?? false,
  );
  pulumi.runtime.setAllConfig(options.config, options.secretKeys ?? []);

  const restoreLogs = captureLogs(logs);
  try {
    const outputs = await pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation(recorder.transformation);
      return (await program()) ?? undefined;
    });
    await recorder.complete();
    return { recorder, outputs: outputs as Record<string, any>, logs };
  } catch (error) {
    await recorder.complete();
    return { recorder, error: error as Error, logs };
  } finally {
    restoreLogs();
  }
}

/** Resolves the `dependsOn` option, which the SDK may hold as an Output, to its resources. */
export async function resolveDependsOn(record: RecordedResource): Promise<pulumi.Resource[]> {
  const option = record.opts.dependsOn as unknown;
  const value = pulumi.Output.isInstance(option)
    ? await new Promise((resolve) => option.apply((resolved) => resolve(resolved)))
    : await option;
  let list: unknown[] = [];
  if (Array.isArray(value)) {
    list = value;
  } else if (value !== undefined) {
    list = [value];
  }
  return Promise.all(list.map((item) => Promise.resolve(item as pulumi.Resource)));
}

function urnOf(resource: pulumi.Resource): Promise<string> {
  return new Promise((resolve) => resource.urn.apply((urn) => resolve(urn)));
}

/** Resolves an Output's value; only for outputs known under the mocks. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}
