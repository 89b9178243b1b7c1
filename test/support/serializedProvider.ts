// Runs a dynamic provider from its serialized text in a fresh Node.js process, as `pulumi up`
// does. Captured clients, captured credentials and module state that does not survive
// serialization show up here, and not when the provider module is called directly.
import { ChildProcess, fork } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";

/** Methods of a dynamic provider that a test can call. */
export type ProviderMethod = "check" | "diff" | "create" | "read" | "update" | "delete";

/** Settings of `startSerializedProvider`. */
export interface SerializedProviderOptions {
  /** Stack config passed to `configure`, with full keys such as `anythingllm-secrets:name`. */
  config?: Record<string, string>;
  /** Environment of the child besides PATH; nothing else of the test's environment is passed. */
  env?: Record<string, string>;
}

/** A provider running from its serialized text in a child process. */
export interface SerializedProvider {
  /** The serialized provider code, as it would be stored in the stack state. */
  text: string;
  /** Calls a provider method. A thrown error comes back as an Error with the same message. */
  call<T = any>(method: ProviderMethod, ...args: unknown[]): Promise<T>;
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string;
  /** Stops the child and removes its files. */
  close(): Promise<void>;
}

const repositoryRoot = path.resolve(__dirname, "..", "..");
const childScript = path.join(__dirname, "providerChild.js");

interface ChildReply {
  type: "ready" | "result";
  id?: number;
  ok?: boolean;
  value?: unknown;
  name?: string;
  message?: string;
}

type PendingCall = { resolve(value: unknown): void; reject(error: Error): void };

/**
 * Serializes `provider` as `pulumi.dynamic.Resource` does, loads the text in a fresh Node.js
 * process, calls `configure` with `opts.config`, and returns a handle for method calls.
 */
export async function startSerializedProvider(
  provider: pulumi.dynamic.ResourceProvider,
  opts: SerializedProviderOptions = {},
): Promise<SerializedProvider> {
  const host = await startSerializedProviderHost({ provider }, opts);
  return {
    text: host.texts.provider,
    call: <T>(method: ProviderMethod, ...args: unknown[]) =>
      host.call<T>("provider", method, ...args),
    output: host.output,
    close: host.close,
  };
}

/** Several providers running from their serialized text in one child process. */
export interface SerializedProviderHost<Name extends string> {
  /** The serialized code of each provider. */
  texts: Record<Name, string>;
  /** Calls a method of the named provider. */
  call<T = any>(provider: Name, method: ProviderMethod, ...args: unknown[]): Promise<T>;
  output(): string;
  close(): Promise<void>;
}

/**
 * Serializes each provider and loads them all in one fresh Node.js process, as the provider host
 * of one `pulumi up` serves every dynamic resource of the run. Process-wide state, such as the
 * Infisical token cache, is then shared between the providers the way it is in a real run.
 */
export async function startSerializedProviderHost<Name extends string>(
  providers: Record<Name, pulumi.dynamic.ResourceProvider>,
  opts: SerializedProviderOptions = {},
): Promise<SerializedProviderHost<Name>> {
  const directory = await mkdtemp(path.join(tmpdir(), "serialized-provider-"));
  const texts = {} as Record<Name, string>;
  const files: Array<{ name: Name; file: string }> = [];
  for (const name of Object.keys(providers) as Name[]) {
    const text = await serializedText(providers[name]);
    const file = path.join(directory, `${name}.js`);
    await writeFile(file, text);
    texts[name] = text;
    files.push({ name, file });
  }

  const child = fork(childScript, [], {
    cwd: repositoryRoot,
    execPath: process.execPath,
    execArgv: [],
    env: { PATH: process.env.PATH ?? "", ...opts.env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    serialization: "advanced",
  });
  const chunks: string[] = [];
  child.stdout?.on("data", (chunk: Buffer) => chunks.push(chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => chunks.push(chunk.toString("utf8")));

  const connection = connect(child, () => chunks.join(""));
  try {
    await connection.initialize(files, opts.config ?? {});
  } catch (error) {
    child.kill();
    await rm(directory, { recursive: true, force: true });
    throw error;
  }

  return {
    texts,
    call: <T>(provider: Name, method: ProviderMethod, ...args: unknown[]) =>
      connection.call(provider, method, args) as Promise<T>,
    output: () => chunks.join(""),
    close: async () => {
      await stopChild(child);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

const serializedTexts = new WeakMap<pulumi.dynamic.ResourceProvider, Promise<string>>();

/**
 * Serializes a provider once per test process: the text depends only on the provider's code, and
 * serializing takes far longer than starting the child that loads it.
 */
function serializedText(provider: pulumi.dynamic.ResourceProvider): Promise<string> {
  let text = serializedTexts.get(provider);
  if (text === undefined) {
    text = pulumi.runtime
      .serializeFunction(() => provider, { allowSecrets: true })
      .then((serialized) => serialized.text);
    serializedTexts.set(provider, text);
  }
  return text;
}

function connect(child: ChildProcess, output: () => string) {
  const pending = new Map<number, PendingCall>();
  let nextId = 1;
  let ready: PendingCall | undefined;

  child.on("message", (reply: ChildReply) => {
    const target = reply.id === undefined ? ready : pending.get(reply.id);
    if (target === undefined) {
      return;
    }
    if (reply.id !== undefined) {
      pending.delete(reply.id);
    }
    if (reply.type === "ready" || reply.ok) {
      target.resolve(reply.value);
    } else {
      const error = new Error(reply.message ?? "");
      error.name = reply.name ?? "Error";
      target.reject(error);
    }
  });

  child.on("exit", (code, signal) => {
    const error = new Error(
      `provider process exited (code ${code}, signal ${signal}); output:\n${output()}`,
    );
    ready?.reject(error);
    for (const call of pending.values()) {
      call.reject(error);
    }
    pending.clear();
  });

  return {
    initialize(
      providers: Array<{ name: string; file: string }>,
      config: Record<string, string>,
    ): Promise<void> {
      return new Promise((resolve, reject) => {
        ready = { resolve: () => resolve(), reject };
        child.send({ type: "init", providers, config });
      });
    },
    call(provider: string, method: ProviderMethod, args: unknown[]): Promise<unknown> {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ type: "call", id, provider, method, args });
      });
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill();
  await exited;
}
