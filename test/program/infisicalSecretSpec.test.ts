import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import Ajv, { ValidateFunction } from "ajv";
import { parse } from "yaml";

import {
  infisicalSecretApiVersion,
  infisicalSecretKind,
  infisicalSecretSpec,
  InfisicalSecretSpecParams,
} from "../../components/SecretSync";

const fixtures = path.resolve(__dirname, "..", "fixtures");

const params: InfisicalSecretSpecParams = {
  hostApi: "https://infisical.example.test/api",
  resyncInterval: "60s",
  projectSlug: "anything-llm",
  envSlug: "prod",
  secretsPath: "/",
  credentialsSecretName: "infisical-universal-auth",
  credentialsSecretNamespace: "anything-llm",
  managedSecretName: "anythingllm-secrets",
  managedSecretNamespace: "anything-llm",
};

function loadCrdValidator(): ValidateFunction {
  const crd = parse(fs.readFileSync(path.join(fixtures, "infisicalsecret-crd.yaml"), "utf8"));
  const version = crd.spec.versions.find((v: { name: string }) => v.name === "v1alpha1");
  // OpenAPI formats such as int64 are not JSON Schema formats; the API server checks them.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  return ajv.compile(version.schema.openAPIV3Schema);
}

function resource(spec: unknown) {
  return {
    apiVersion: infisicalSecretApiVersion,
    kind: infisicalSecretKind,
    metadata: { name: "anythingllm", namespace: "anything-llm" },
    spec,
  };
}

/** Deep copy of the product's spec, for editing into invalid variants. */
function specCopy(): any {
  return JSON.parse(JSON.stringify(infisicalSecretSpec(params)));
}

describe("InfisicalSecret spec", () => {
  const validate = loadCrdValidator();

  it("is valid against the CRD schema of chart v0.11.5", () => {
    const valid = validate(resource(infisicalSecretSpec(params)));

    assert.equal(valid, true, JSON.stringify(validate.errors));
  });

  const schemaRejects: Array<[string, (spec: any) => void]> = [
    [
      "universalAuth without credentialsRef",
      (s) => delete s.authentication.universalAuth.credentialsRef,
    ],
    [
      "universalAuth without secretsScope",
      (s) => delete s.authentication.universalAuth.secretsScope,
    ],
    ["a scope without envSlug", (s) => delete s.authentication.universalAuth.secretsScope.envSlug],
    [
      "a scope without secretsPath",
      (s) => delete s.authentication.universalAuth.secretsScope.secretsPath,
    ],
    [
      "credentialsRef without secretNamespace",
      (s) => delete s.authentication.universalAuth.credentialsRef.secretNamespace,
    ],
    [
      "credentialsRef without secretName",
      (s) => delete s.authentication.universalAuth.credentialsRef.secretName,
    ],
    [
      "a managed Secret without secretName",
      (s) => delete s.managedKubeSecretReferences[0].secretName,
    ],
    [
      "a managed Secret without secretNamespace",
      (s) => delete s.managedKubeSecretReferences[0].secretNamespace,
    ],
    ["a numeric syncConfig.resyncInterval", (s) => (s.syncConfig.resyncInterval = 60)],
    ["the deprecated resyncInterval as a string", (s) => (s.resyncInterval = "60s")],
    ["a numeric hostAPI", (s) => (s.hostAPI = 443)],
    [
      "managedKubeSecretReferences as an object",
      (s) => (s.managedKubeSecretReferences = s.managedKubeSecretReferences[0]),
    ],
    [
      "a boolean secretsPath",
      (s) => (s.authentication.universalAuth.secretsScope.secretsPath = true),
    ],
  ];
  for (const [name, edit] of schemaRejects) {
    it(`schema rejects ${name}`, () => {
      const spec = specCopy();
      edit(spec);

      assert.equal(validate(resource(spec)), false);
    });
  }

  // The CRD leaves these rules to the controller; the product checks them itself.
  describe("beyond the CRD schema", () => {
    const spec = infisicalSecretSpec(params);
    const scope = spec.authentication.universalAuth.secretsScope as Record<string, unknown>;

    it("names the project by exactly one of projectSlug and projectId", () => {
      assert.equal(scope.projectSlug, "anything-llm");
      assert.equal("projectId" in scope, false);
    });

    it("uses syncConfig, not the deprecated integer resyncInterval", () => {
      assert.deepEqual(spec.syncConfig, { resyncInterval: "60s" });
      assert.equal("resyncInterval" in spec, false);
      assert.equal("instantUpdates" in spec, false);
    });

    it("uses managedKubeSecretReferences, not managedSecretReference", () => {
      assert.equal("managedSecretReference" in spec, false);
      assert.equal(spec.managedKubeSecretReferences.length, 1);
    });

    it("keeps the managed Secret when the CR is deleted", () => {
      assert.equal(spec.managedKubeSecretReferences[0].creationPolicy, "Orphan");
    });

    it("uses only universal auth", () => {
      assert.deepEqual(Object.keys(spec.authentication), ["universalAuth"]);
    });

    it("sets the API base with /api", () => {
      assert.equal(spec.hostAPI, "https://infisical.example.test/api");
    });

    it("does not sync recursively or a single secret", () => {
      assert.equal("recursive" in scope, false);
      assert.equal("secretName" in scope, false);
    });

    it("takes every value from its parameters", () => {
      const other = infisicalSecretSpec({
        ...params,
        envSlug: "staging",
        secretsPath: "/apps/anythingllm",
        managedSecretName: "other-secrets",
      });

      assert.equal(other.authentication.universalAuth.secretsScope.envSlug, "staging");
      assert.equal(
        other.authentication.universalAuth.secretsScope.secretsPath,
        "/apps/anythingllm",
      );
      assert.equal(other.managedKubeSecretReferences[0].secretName, "other-secrets");
    });
  });
});
