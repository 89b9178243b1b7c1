import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { parse } from "yaml";

import {
  checkStackConfig,
  credentialSettings,
  optionalSettings,
  projectName,
  requiredSettings,
  settingDefaults,
} from "../../config/stackConfig";

const repoRoot = path.resolve(__dirname, "..", "..");

interface ConfigDeclaration {
  type?: string;
  description?: string;
  default?: unknown;
  secret?: boolean;
  [field: string]: unknown;
}

const project = parse(fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8")) as {
  name: string;
  runtime: { name: string; options?: Record<string, unknown> };
  description?: string;
  options?: Record<string, unknown>;
  config: Record<string, ConfigDeclaration>;
};
const prodStack = parse(fs.readFileSync(path.join(repoRoot, "Pulumi.prod.yaml"), "utf8")) as {
  config: Record<string, unknown>;
};

// Field names and types a project-level config declaration may use (Pulumi 3.44+ project schema).
const declarationFields = new Set(["type", "description", "default", "secret", "items", "value"]);
const declarationTypes = new Set(["string", "integer", "boolean", "array"]);

const integerSettings = [
  "openrouterRotationDays",
  "jwtRotationDays",
  "clientSecretRotationDays",
  "gracePeriodSeconds",
];
const booleanSettings = ["patchDeployment", "installOperator", "verifyScope"];

describe("Pulumi.yaml", () => {
  it("names the project and its runtime", () => {
    assert.equal(project.name, projectName);
    assert.equal(project.runtime.name, "nodejs");
    assert.equal(project.runtime.options?.typescript, true);
    assert.equal(typeof project.description, "string");
    assert.ok(project.description!.length > 0);
  });

  it("refreshes on every run", () => {
    assert.deepEqual(project.options, { refresh: "always" });
  });

  for (const [key, declaration] of Object.entries(project.config)) {
    it(`declares ${key} in the project schema's form`, () => {
      for (const field of Object.keys(declaration)) {
        assert.ok(declarationFields.has(field), `${key}.${field}`);
      }
      assert.ok(declarationTypes.has(declaration.type ?? ""), `${key}.type`);
      assert.ok((declaration.description ?? "").length > 0, `${key}.description`);
      if (declaration.secret) {
        // The CLI fills in a default as plain text and then rejects it for a secret key.
        assert.equal(declaration.default, undefined, `${key} secret with default`);
      }
    });
  }

  it("declares each default the program applies", () => {
    for (const [key, value] of Object.entries(settingDefaults)) {
      assert.equal(String(project.config[key]?.default), value, key);
    }
  });

  it("declares the required settings without a default", () => {
    for (const key of Object.keys(requiredSettings)) {
      assert.ok(key in project.config, key);
      assert.equal(project.config[key].default, undefined, key);
    }
  });

  it("declares the optional settings with an empty default", () => {
    for (const key of optionalSettings) {
      assert.equal(project.config[key]?.default, "", key);
      assert.equal(project.config[key]?.type, "string", key);
    }
  });

  it("types integers and booleans", () => {
    for (const key of integerSettings) {
      assert.equal(project.config[key].type, "integer", key);
      assert.equal(typeof project.config[key].default, "number", key);
    }
    for (const key of booleanSettings) {
      assert.equal(project.config[key].type, "boolean", key);
      assert.equal(typeof project.config[key].default, "boolean", key);
    }
  });

  it("leaves secret credentials undeclared so environment variables still work", () => {
    for (const credential of credentialSettings) {
      if (credential.secret) {
        assert.equal(credential.key in project.config, false, credential.key);
      } else {
        assert.equal(project.config[credential.key]?.default, "", credential.key);
      }
    }
  });

  it("names the settings verifyScope checks", () => {
    const description = project.config.verifyScope.description ?? "";

    assert.match(description, /Infisical project/);
    assert.match(description, /\benvSlug\b/);
    assert.match(description, /\bsecretsPath\b/);
  });

  it("states the /api/v1 path of openrouterApiUrl", () => {
    assert.match(project.config.openrouterApiUrl.description ?? "", /ends in \/api\/v1/);
  });

  it("declares no setting the program does not read", () => {
    const known = new Set([
      ...Object.keys(settingDefaults),
      ...Object.keys(requiredSettings),
      ...optionalSettings,
      ...credentialSettings.map((credential) => credential.key),
    ]);
    for (const key of Object.keys(project.config)) {
      assert.ok(known.has(key), key);
    }
  });
});

describe("Pulumi.prod.yaml", () => {
  const settings: Record<string, string> = {};
  for (const [key, value] of Object.entries(prodStack.config)) {
    settings[key] = String(value);
  }

  it("uses only declared, namespaced keys", () => {
    for (const key of Object.keys(settings)) {
      const [namespace, name] = key.split(":");
      assert.equal(namespace, projectName, key);
      assert.ok(name in project.config, key);
    }
  });

  it("holds no credential", () => {
    for (const credential of credentialSettings) {
      assert.equal(`${projectName}:${credential.key}` in settings, false, credential.key);
    }
  });

  it("sets every required setting", () => {
    for (const key of Object.keys(requiredSettings)) {
      assert.ok(`${projectName}:${key}` in settings, key);
    }
  });

  it("passes validation with credentials from the environment", () => {
    const env = {
      INFISICAL_UNIVERSAL_AUTH_CLIENT_ID: "0b7c2d4e-1111-4aaa-8bbb-123456789abc",
      INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET: "cs-ENV-PLACEHOLDER",
      OPENROUTER_MANAGEMENT_KEY: "mgmt-PLACEHOLDER-123",
    };

    const { problems } = checkStackConfig((key) => settings[`${projectName}:${key}`], { env });

    assert.deepEqual(problems, []);
  });
});
