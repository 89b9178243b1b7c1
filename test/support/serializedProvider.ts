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
  const serialized = await pulumi.runtime.serializeFunction(() => provider, {
    allowSecrets: true,
  });
  const directory = await mkdtemp(path.join(tmpdir(), "serialized-provider-"));
  const providerFile = path.join(directory, "provider.js");
  await writeFile(providerFile, serialized.text);

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
    await connection.initialize(providerFile, opts.config ?? {});
  } catch (error) {
    child.kill();
    await rm(directory, { recursive: true, force: true });
    throw error;
  }

  return {
    text: serialized.text,
    call: <T>(method: ProviderMethod, ...args: unknown[]) =>
      connection.call(method, args) as Promise<T>,
    output: () => chunks.join(""),
    close: async () => {
      await stopChild(child);
      await rm(directory, { recursive: true, force: true });
    },
  };
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
    initialize(providerFile: string, config: Record<string, string>): Promise<void> {
      return new Promise((resolve, reject) => {
        ready = { resolve: () => resolve(), reject };
        child.send({ type: "init", providerFile, config });
      });
    },
    call(method: ProviderMethod, args: unknown[]): Promise<unknown> {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ type: "call", id, method, args });
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
