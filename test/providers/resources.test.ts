import assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";

import type * as clientSecretModule from "../../providers/InfisicalClientSecret";
import type * as secretValueModule from "../../providers/InfisicalSecretValue";
import type * as openRouterModule from "../../providers/OpenRouterKey";

/** Resolves an output; mocks run outside preview, so every output here is known. */
function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

interface Registration {
  type: string;
  opts: pulumi.CustomResourceOptions;
}

describe("dynamic resource classes", () => {
  let OpenRouterKey: typeof openRouterModule.OpenRouterKey;
  let InfisicalSecretValue: typeof secretValueModule.InfisicalSecretValue;
  let InfisicalClientSecret: typeof clientSecretModule.InfisicalClientSecret;

  const registrations: Registration[] = [];
  const capture: pulumi.ResourceTransformation = (args) => {
    registrations.push({ type: args.type, opts: args.opts });
    return undefined;
  };

  before(async () => {
    pulumi.runtime.setMocks({
      newResource: (args) => {
        const outputs: Record<string, Record<string, unknown>> = {
          "pulumi-nodejs:dynamic/anythingllm:OpenRouterKey": {
            hash: "ab".repeat(32),
            keyName: "anythingllm-prod-openrouter-t1",
            key: "sk-or-v1-NEW-PLACEHOLDER",
            createdAt: "2026-01-01T00:00:00Z",
          },
          "pulumi-nodejs:dynamic/anythingllm:InfisicalClientSecret": {
            clientSecretId: "csid-new",
            clientSecret: "cs-NEW-PLACEHOLDER",
            createdAt: "2026-01-01T00:00:00Z",
          },
        };
        return { id: `${args.name}-id`, state: { ...args.inputs, ...outputs[args.type] } };
      },
      call: () => ({}),
    });
    ({ OpenRouterKey } = await import("../../providers/OpenRouterKey"));
    ({ InfisicalSecretValue } = await import("../../providers/InfisicalSecretValue"));
    ({ InfisicalClientSecret } = await import("../../providers/InfisicalClientSecret"));
  });

  beforeEach(() => {
    registrations.length = 0;
  });

  describe("OpenRouterKey", () => {
    function create() {
      return new OpenRouterKey(
        "key",
        { apiUrl: "https://openrouter.ai/api/v1", namePrefix: "p", rotationTrigger: "t1" },
        { transformations: [capture], additionalSecretOutputs: ["keyName"] },
      );
    }

    it("registers the anythingllm type", () => {
      create();

      assert.equal(registrations[0].type, "pulumi-nodejs:dynamic/anythingllm:OpenRouterKey");
    });

    it("marks the key secret and keeps caller options", () => {
      create();

      const secretOutputs = registrations[0].opts.additionalSecretOutputs ?? [];
      assert.ok(secretOutputs.includes("key"), "key is not a secret output");
      assert.ok(secretOutputs.includes("keyName"), "the caller's secret output was dropped");
    });

    it("exposes its outputs", async () => {
      const key = create();

      assert.equal(await valueOf(key.hash), "ab".repeat(32));
      assert.equal(await valueOf(key.keyName), "anythingllm-prod-openrouter-t1");
      assert.equal(await valueOf(key.key), "sk-or-v1-NEW-PLACEHOLDER");
      assert.equal(await valueOf(key.createdAt), "2026-01-01T00:00:00Z");
    });
  });

  describe("InfisicalSecretValue", () => {
    function create() {
      return new InfisicalSecretValue(
        "secret",
        {
          apiUrl: "https://app.infisical.com/api",
          projectSlug: "anythingllm-prod",
          environment: "prod",
          secretPath: "/",
          secretName: "JWT_SECRET",
          value: "jwt-PLACEHOLDER",
        },
        { transformations: [capture] },
      );
    }

    it("registers the anythingllm type", () => {
      create();

      const type = "pulumi-nodejs:dynamic/anythingllm:InfisicalSecretValue";
      assert.equal(registrations[0].type, type);
    });

    it("marks the value secret", () => {
      create();

      assert.deepEqual(registrations[0].opts.additionalSecretOutputs, ["value"]);
    });

    it("exposes its outputs", async () => {
      const secret = create();

      assert.equal(await valueOf(secret.value), "jwt-PLACEHOLDER");
      assert.equal(await valueOf(secret.secretName), "JWT_SECRET");
    });
  });

  describe("InfisicalClientSecret", () => {
    function create() {
      return new InfisicalClientSecret(
        "client-secret",
        {
          apiUrl: "https://app.infisical.com/api",
          identityId: "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
          clientId: "7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b",
          rotationTrigger: "t1",
          descriptionPrefix: "anythingllm-prod-operator",
          ttlSeconds: 37 * 86_400,
        },
        { transformations: [capture] },
      );
    }

    it("registers the anythingllm type", () => {
      create();

      const type = "pulumi-nodejs:dynamic/anythingllm:InfisicalClientSecret";
      assert.equal(registrations[0].type, type);
    });

    it("marks the client secret secret", () => {
      create();

      assert.deepEqual(registrations[0].opts.additionalSecretOutputs, ["clientSecret"]);
    });

    it("exposes its outputs", async () => {
      const clientSecret = create();

      assert.equal(await valueOf(clientSecret.clientSecretId), "csid-new");
      assert.equal(await valueOf(clientSecret.clientSecret), "cs-NEW-PLACEHOLDER");
      assert.equal(await valueOf(clientSecret.createdAt), "2026-01-01T00:00:00Z");
    });
  });
});
