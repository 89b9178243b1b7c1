// Child process that runs a dynamic provider from its serialized text, as the Pulumi provider host
// does. It loads the text with require-from-string, calls `handler()` and calls `configure` once
// with the stack config. Then it runs the methods the parent sends over IPC.
//
// Plain JavaScript on purpose: the child must not load ts-node, so the provider runs only from
// its serialized text and cannot reach the TypeScript modules it came from.
"use strict";

const fs = require("node:fs");
const requireFromString = require("require-from-string");
const { Config } = require("@pulumi/pulumi/cmd/dynamic-provider/config");

const projectName = "anythingllm-secrets";
const providers = new Map();

function errorReply(id, error) {
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.name : "Error";
  return { type: "result", id, ok: false, name, message };
}

async function initialize(message) {
  for (const { name, file } of message.providers) {
    const text = fs.readFileSync(file, "utf8");
    // The SDK's host passes no file name either, so `require` inside the provider resolves
    // packages from the working directory.
    const provider = requireFromString(text).handler();
    if (typeof provider.configure === "function") {
      await provider.configure({ config: new Config(message.config, projectName) });
    }
    providers.set(name, provider);
  }
}

async function call(message) {
  const provider = providers.get(message.provider);
  if (provider === undefined) {
    throw new Error(`no provider named ${message.provider}`);
  }
  const method = provider[message.method];
  if (typeof method !== "function") {
    throw new Error(`the provider has no method ${message.method}`);
  }
  return method.apply(provider, message.args);
}

process.on("message", (message) => {
  if (message.type === "init") {
    initialize(message).then(
      () => process.send({ type: "ready" }),
      (error) => process.send(errorReply(undefined, error)),
    );
    return;
  }
  if (message.type === "call") {
    call(message).then(
      (value) => process.send({ type: "result", id: message.id, ok: true, value }),
      (error) => process.send(errorReply(message.id, error)),
    );
  }
});

process.on("disconnect", () => process.exit(0));
