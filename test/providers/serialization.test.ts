import assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";

import { clearProviderConfig, storeProviderConfig } from "../../providers/credentials";
import { infisicalClientSecretProvider } from "../../providers/InfisicalClientSecret";
import { infisicalSecretValueProvider } from "../../providers/InfisicalSecretValue";
import { openRouterKeyProvider } from "../../providers/OpenRouterKey";
import {
  managementKey,
  programClientId,
  programClientSecret,
  providerConfig,
} from "../support/placeholders";
import { startSerializedProvider } from "../support/serializedProvider";

const providers: Array<[string, pulumi.dynamic.ResourceProvider]> = [
  ["OpenRouterKey", openRouterKeyProvider],
  ["InfisicalSecretValue", infisicalSecretValueProvider],
  ["InfisicalClientSecret", infisicalClientSecretProvider],
];

const credentialEnv: Record<string, string> = {
  OPENROUTER_MANAGEMENT_KEY: managementKey,
  INFISICAL_UNIVERSAL_AUTH_CLIENT_ID: programClientId,
  INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET: programClientSecret,
};

describe("serialized providers", function () {
  this.timeout(30_000);

  const savedEnv: Record<string, string | undefined> = {};

  // The credentials sit in this process's environment and stored config while the providers
  // are serialized, as they do when `pulumi up` runs the program.
  before(() => {
    for (const [name, value] of Object.entries(credentialEnv)) {
      savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
    storeProviderConfig({ get: (key: string) => providerConfig[key] });
  });

  after(() => {
    clearProviderConfig();
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
  });

  for (const [name, provider] of providers) {
    describe(name, () => {
      it("contains no credential", async () => {
        const serialized = await pulumi.runtime.serializeFunction(() => provider, {
          allowSecrets: true,
        });

        // The code itself builds the Bearer header, so only the values are checked here.
        for (const credential of [managementKey, programClientId, programClientSecret]) {
          assert.ok(!serialized.text.includes(credential), `the text contains ${credential}`);
        }
        assert.equal(serialized.containsSecrets, false);
      });

      it("captures no HTTP client", async () => {
        const serialized = await pulumi.runtime.serializeFunction(() => provider, {
          allowSecrets: true,
        });

        // A captured module would be emitted as a top-level `require`; the only ones allowed are
        // the call-time requires inside the functions.
        const allRequires = serialized.text.match(/require\("axios"\)/g) ?? [];
        const callTimeRequires = serialized.text.match(/const axios = require\("axios"\);/g) ?? [];
        assert.equal(allRequires.length, callTimeRequires.length);
        assert.ok(!serialized.text.includes("AxiosHeaders"), "the text contains axios internals");
      });

      it("loads and configures in a fresh process", async () => {
        const child = await startSerializedProvider(provider, { config: providerConfig });
        try {
          const result = await child.call("diff", "id", { __provider: "a" }, { __provider: "b" });

          assert.equal(result.changes, false);
          assert.equal(child.output(), "");
        } finally {
          await child.close();
        }
      });
    });
  }
});
