import * as assert from "node:assert/strict";

import {
  checkStackConfig,
  configSetCommand,
  loadStackConfig,
  LoadStackConfigOptions,
  projectName,
  shellQuote,
  StackConfigError,
} from "../../config/stackConfig";

const validSettings: Record<string, string> = {
  projectSlug: "anything-llm",
  operatorIdentityId: "3f6c2a9e-5b1d-4e8a-9c7f-1a2b3c4d5e6f",
  operatorClientId: "8d4e1f2a-7c3b-4a5d-b6e9-0f1e2d3c4b5a",
  infisicalClientId: "0b7c2d4e-1111-4aaa-8bbb-123456789abc",
  infisicalClientSecret: "cs-PROGRAM-PLACEHOLDER",
  openrouterManagementKey: "mgmt-PLACEHOLDER-123",
};

function getter(settings: Record<string, string | undefined>) {
  return (key: string) => settings[key];
}

function problemsOf(
  overrides: Record<string, string | undefined>,
  options: LoadStackConfigOptions = { env: {} },
) {
  return checkStackConfig(getter({ ...validSettings, ...overrides }), options).problems;
}

function loadWith(overrides: Record<string, string | undefined>) {
  return loadStackConfig(getter({ ...validSettings, ...overrides }), { env: {} });
}

describe("loadStackConfig", () => {
  describe("with only the required settings", () => {
    const config = loadWith({});

    const expected: Record<string, unknown> = {
      infisicalApiUrl: "https://app.infisical.com/api",
      envSlug: "prod",
      secretsPath: "/",
      appNamespace: "anything-llm",
      managedSecretName: "anythingllm-secrets",
      deploymentName: "anythingllm",
      patchDeployment: true,
      installOperator: true,
      operatorNamespace: "infisical-operator",
      operatorChartVersion: "v0.11.5",
      resyncInterval: "60s",
      authSecretName: "infisical-universal-auth",
      openrouterApiUrl: "https://openrouter.ai/api/v1",
      openrouterKeyLimit: undefined,
      openrouterKeyLimitReset: undefined,
      openrouterRotationDays: 7,
      jwtRotationDays: 90,
      clientSecretRotationDays: 30,
      gracePeriodSeconds: 120,
      healthCheckUrl: undefined,
      openrouterRotateNow: undefined,
      jwtRotateNow: undefined,
      clientSecretRotateNow: undefined,
      verifyScope: true,
    };
    for (const [key, value] of Object.entries(expected)) {
      it(`defaults ${key}`, () => {
        assert.equal((config as unknown as Record<string, unknown>)[key], value);
      });
    }

    it("keeps no credential", () => {
      const text = JSON.stringify(config);
      assert.ok(!text.includes(validSettings.infisicalClientSecret));
      assert.ok(!text.includes(validSettings.openrouterManagementKey));
    });
  });

  it("treats an empty string as unset", () => {
    const config = loadWith({ healthCheckUrl: "", envSlug: "", openrouterKeyLimit: "" });

    assert.equal(config.healthCheckUrl, undefined);
    assert.equal(config.envSlug, "prod");
    assert.equal(config.openrouterKeyLimit, undefined);
  });

  it("parses typed settings", () => {
    const config = loadWith({
      openrouterKeyLimit: "12.5",
      openrouterKeyLimitReset: "weekly",
      gracePeriodSeconds: "0",
      jwtRotationDays: "365",
      installOperator: "false",
      healthCheckUrl: "http://anythingllm.anything-llm.svc:3001/api/ping",
      jwtRotateNow: "2026-03-01T00:00:00Z",
    });

    assert.equal(config.openrouterKeyLimit, 12.5);
    assert.equal(config.openrouterKeyLimitReset, "weekly");
    assert.equal(config.gracePeriodSeconds, 0);
    assert.equal(config.jwtRotationDays, 365);
    assert.equal(config.installOperator, false);
    assert.equal(config.healthCheckUrl, "http://anythingllm.anything-llm.svc:3001/api/ping");
    assert.equal(config.jwtRotateNow, "2026-03-01T00:00:00Z");
  });

  describe("normalises the Infisical host", () => {
    for (const spelling of [
      "https://infisical.example.test",
      "https://infisical.example.test/",
      "https://infisical.example.test/api",
      "https://infisical.example.test/api/",
    ]) {
      it(`maps ${spelling} to the /api base`, () => {
        const config = loadWith({ infisicalHost: spelling });
        assert.equal(config.infisicalApiUrl, "https://infisical.example.test/api");
      });
    }

    it("keeps a port", () => {
      const config = loadWith({ infisicalHost: "https://infisical.example.test:8443/" });
      assert.equal(config.infisicalApiUrl, "https://infisical.example.test:8443/api");
    });

    it("allows http on the loopback host", () => {
      const config = loadWith({ infisicalHost: "http://127.0.0.1:8080" });
      assert.equal(config.infisicalApiUrl, "http://127.0.0.1:8080/api");
    });
  });

  describe("rejects", () => {
    const cases: Array<[string, string | undefined, RegExp]> = [
      [
        "secretsPath",
        "app",
        /secretsPath "app" is invalid: it must start with "\/".*secretsPath \/app$/,
      ],
      ["secretsPath", "/a//b", /secretsPath "\/a\/\/b" is invalid: .*no empty segment/],
      ["secretsPath", "/app/", /no trailing "\/"/],
      [
        "projectSlug",
        "Demo Proj",
        /projectSlug "Demo Proj" is invalid: it must be an Infisical slug.*projectSlug demo-proj$/,
      ],
      [
        "projectSlug",
        undefined,
        /projectSlug is missing and has no default\. Fix: pulumi config set anythingllm-secrets:projectSlug <project-slug>$/,
      ],
      ["envSlug", "prod_env", /envSlug "prod_env" is invalid: it must be an Infisical slug/],
      [
        "appNamespace",
        "Anything_LLM",
        /appNamespace "Anything_LLM" is invalid: it must be an RFC 1123 label.*appNamespace anything-llm$/,
      ],
      ["appNamespace", "a".repeat(64), /must be an RFC 1123 label: at most 63/],
      [
        "operatorNamespace",
        "infisical.operator",
        /operatorNamespace "infisical.operator" is invalid: it must be an RFC 1123 label/,
      ],
      [
        "managedSecretName",
        "-secrets",
        /managedSecretName "-secrets" is invalid: it must be an RFC 1123 subdomain/,
      ],
      [
        "authSecretName",
        "auth_secret",
        /authSecretName "auth_secret" is invalid: it must be an RFC 1123 subdomain.*authSecretName auth-secret$/,
      ],
      [
        "deploymentName",
        "AnythingLLM",
        /deploymentName "AnythingLLM" is invalid: it must be an RFC 1123 subdomain/,
      ],
      ["patchDeployment", "yes", /patchDeployment "yes" is invalid: it must be "true" or "false"/],
      ["installOperator", "1", /installOperator "1" is invalid/],
      ["verifyScope", "no", /verifyScope "no" is invalid/],
      [
        "operatorChartVersion",
        "0.11.5",
        /operatorChartVersion "0.11.5" is invalid: it must be a chart version with a leading "v".*operatorChartVersion v0.11.5$/,
      ],
      [
        "resyncInterval",
        "60",
        /resyncInterval "60" is invalid: it must be a whole number followed by one unit/,
      ],
      ["resyncInterval", "4s", /resyncInterval "4s" is invalid: .*at least 5s.*resyncInterval 5s$/],
      ["resyncInterval", "1m30s", /resyncInterval "1m30s" is invalid/],
      ["resyncInterval", "0s", /resyncInterval "0s" is invalid/],
      [
        "operatorIdentityId",
        "my-identity",
        /operatorIdentityId "my-identity" is invalid: it must be a UUID/,
      ],
      ["operatorClientId", "", /operatorClientId is missing and has no default/],
      [
        "openrouterRotationDays",
        "0",
        /openrouterRotationDays "0" is invalid: it must be a whole number of days from 1 to 365/,
      ],
      [
        "jwtRotationDays",
        "366",
        /jwtRotationDays "366" is invalid: it must be a whole number of days from 1 to 365/,
      ],
      [
        "clientSecretRotationDays",
        "7.5",
        /clientSecretRotationDays "7.5" is invalid: it must be a whole number of days/,
      ],
      ["clientSecretRotationDays", "thirty", /clientSecretRotationDays "thirty" is invalid/],
      [
        "gracePeriodSeconds",
        "-1",
        /gracePeriodSeconds "-1" is invalid: it must be a whole number of seconds from 0 to 3600/,
      ],
      ["gracePeriodSeconds", "3601", /gracePeriodSeconds "3601" is invalid/],
      [
        "openrouterKeyLimit",
        "-5",
        /openrouterKeyLimit "-5" is invalid: it must be a number greater than 0 in plain decimal notation/,
      ],
      ["openrouterKeyLimit", "0", /openrouterKeyLimit "0" is invalid/],
      ["openrouterKeyLimit", "ten", /openrouterKeyLimit "ten" is invalid/],
      [
        "openrouterKeyLimitReset",
        "yearly",
        /openrouterKeyLimitReset "yearly" is invalid: it must be one of daily, weekly, monthly/,
      ],
      [
        "infisicalHost",
        "http://infisical.example.test",
        /infisicalHost "http:\/\/infisical.example.test" is invalid: it must be an https URL \(http only for 127.0.0.1 or localhost\).*infisicalHost https:\/\/infisical.example.test$/,
      ],
      [
        "infisicalHost",
        "infisical.example.test",
        /infisicalHost "infisical.example.test" is invalid: it must be an https URL.*infisicalHost https:\/\/infisical.example.test$/,
      ],
      [
        "infisicalHost",
        "https://infisical.example.test/v1",
        /it must be the Infisical site origin or its \/api URL/,
      ],
      [
        "infisicalHost",
        "https://infisical.example.test/?x=1",
        /it must be the Infisical site origin or its \/api URL/,
      ],
      [
        "infisicalHost",
        "ftp://infisical.example.test",
        /infisicalHost "ftp:\/\/infisical.example.test" is invalid: it must be an https URL/,
      ],
      [
        "openrouterApiUrl",
        "http://openrouter.ai/api/v1",
        /openrouterApiUrl "http:\/\/openrouter.ai\/api\/v1" is invalid: it must be an https URL/,
      ],
      [
        "healthCheckUrl",
        "anythingllm:3001",
        /healthCheckUrl "anythingllm:3001" is invalid: it must be an http or https URL/,
      ],
      [
        "openrouterRotateNow",
        "x".repeat(257),
        /openrouterRotateNow ".*\.\.\." is invalid: it must be at most 256 characters/,
      ],
    ];

    for (const [key, value, expected] of cases) {
      it(`${key} ${JSON.stringify(value)}`, () => {
        const problems = problemsOf({ [key]: value });

        assert.equal(problems.length, 1, problems.map((p) => p.message).join("\n"));
        assert.equal(problems[0].key, key);
        assert.match(problems[0].message, expected);
      });
    }
  });

  it("masks a password in a URL it shows", () => {
    const problems = problemsOf({ infisicalHost: "https://user:hunter2@infisical.example.test/x" });

    assert.equal(problems.length, 1);
    assert.ok(!problems[0].message.includes("hunter2"), problems[0].message);
    assert.match(problems[0].message, /"https:\/\/\*\*\*@infisical.example.test\/x"/);
  });

  describe("URL with user info", () => {
    const cases: Array<[string, string, string]> = [
      [
        "infisicalHost",
        "https://user:hunter2@infisical.example.test",
        "https://infisical.example.test",
      ],
      [
        "openrouterApiUrl",
        "https://user:hunter2@openrouter.example.test/api/v1",
        "https://openrouter.example.test/api/v1",
      ],
      [
        "healthCheckUrl",
        "http://user:hunter2@anythingllm:3001/api/ping",
        "http://anythingllm:3001/api/ping",
      ],
    ];
    for (const [key, value, suggestion] of cases) {
      it(`${key} keeps the user's host in the fix`, () => {
        const problems = problemsOf({ [key]: value });

        assert.equal(problems.length, 1);
        assert.match(problems[0].message, /must not contain a user name or password/);
        assert.ok(
          problems[0].message.endsWith(`${projectName}:${key} ${suggestion}`),
          problems[0].message,
        );
        assert.ok(!problems[0].message.includes("hunter2"), problems[0].message);
      });
    }
  });

  describe("URL with a query", () => {
    const rejected: Array<[string, string, RegExp]> = [
      [
        "infisicalHost",
        "https://infisical.example.test/api?token=tok-PLACEHOLDER",
        /"https:\/\/infisical.example.test\/api\?token=\*\*\*" is invalid: .*without any other path, query or fragment.*infisicalHost https:\/\/infisical.example.test$/,
      ],
      [
        "openrouterApiUrl",
        "https://openrouter.ai/api/v1?key=sk-or-v1-PLACEHOLDER",
        /"https:\/\/openrouter.ai\/api\/v1\?key=\*\*\*" is invalid: it must not contain a query or fragment.*openrouterApiUrl https:\/\/openrouter.ai\/api\/v1$/,
      ],
      [
        "openrouterApiUrl",
        "https://openrouter.ai/api/v1#sk-or-v1-PLACEHOLDER",
        /"https:\/\/openrouter.ai\/api\/v1#\*\*\*" is invalid: it must not contain a query or fragment/,
      ],
      [
        "healthCheckUrl",
        "ws://anythingllm:3001/api/ping?token=tok-PLACEHOLDER",
        /"ws:\/\/anythingllm:3001\/api\/ping\?token=\*\*\*" is invalid: it must be an http or https URL/,
      ],
      [
        "healthCheckUrl",
        "anythingllm:3001/api/ping?token=tok-PLACEHOLDER",
        /healthCheckUrl 'https:\/\/anythingllm:3001\/api\/ping\?token=<value>'$/,
      ],
    ];
    for (const [key, value, expected] of rejected) {
      it(`${key} ${JSON.stringify(value)} is shown masked`, () => {
        const problems = problemsOf({ [key]: value });

        assert.equal(problems.length, 1);
        assert.match(problems[0].message, expected);
        assert.ok(!problems[0].message.includes("PLACEHOLDER"), problems[0].message);
      });
    }

    it("is kept in healthCheckUrl", () => {
      const config = loadWith({ healthCheckUrl: "http://anythingllm:3001/api/ping?token=tok-1" });

      assert.equal(config.healthCheckUrl, "http://anythingllm:3001/api/ping?token=tok-1");
    });
  });

  describe("openrouterApiUrl", () => {
    it("rejects a site origin without /api/v1", () => {
      const problems = problemsOf({ openrouterApiUrl: "https://openrouter.example.test" });

      assert.equal(problems.length, 1);
      assert.equal(problems[0].key, "openrouterApiUrl");
      assert.match(
        problems[0].message,
        /is invalid: it must be the API base, whose path ends in \/api\/v1, e\.g\. https:\/\/openrouter.ai\/api\/v1\. Fix: pulumi config set anythingllm-secrets:openrouterApiUrl https:\/\/openrouter.example.test\/api\/v1$/,
      );
    });

    it("drops a trailing slash", () => {
      const config = loadWith({ openrouterApiUrl: "https://openrouter.example.test/api/v1/" });

      assert.equal(config.openrouterApiUrl, "https://openrouter.example.test/api/v1");
    });

    it("keeps a proxy's path prefix", () => {
      const config = loadWith({ openrouterApiUrl: "https://gw.example.test/or/api/v1" });

      assert.equal(config.openrouterApiUrl, "https://gw.example.test/or/api/v1");
    });
  });

  describe("openrouterKeyLimit", () => {
    for (const [value, expected] of [
      [".5", 0.5],
      ["0.5", 0.5],
      ["25", 25],
    ] as const) {
      it(`accepts ${JSON.stringify(value)}`, () => {
        assert.equal(loadWith({ openrouterKeyLimit: value }).openrouterKeyLimit, expected);
      });
    }

    for (const value of ["-0.5", "NaN", "1e3", "0"]) {
      it(`rejects ${JSON.stringify(value)}`, () => {
        const problems = problemsOf({ openrouterKeyLimit: value });

        assert.equal(problems.length, 1);
        assert.match(problems[0].message, /greater than 0 in plain decimal notation/);
      });
    }
  });

  it("rejects a limit reset without a limit", () => {
    const problems = problemsOf({ openrouterKeyLimitReset: "daily" });

    assert.equal(problems.length, 1);
    assert.equal(problems[0].key, "openrouterKeyLimitReset");
    assert.match(problems[0].message, /a reset period needs a limit/);
    assert.match(
      problems[0].message,
      /pulumi config set anythingllm-secrets:openrouterKeyLimit <usd>/,
    );
  });

  it("rejects the identity id given as client id", () => {
    const problems = problemsOf({ operatorClientId: validSettings.operatorIdentityId });

    assert.equal(problems.length, 1);
    assert.equal(problems[0].key, "operatorClientId");
    assert.match(problems[0].message, /equals operatorIdentityId/);
  });

  it("reports every problem at once", () => {
    const overrides = {
      secretsPath: "app",
      resyncInterval: "1s",
      appNamespace: "Bad_NS",
      gracePeriodSeconds: "9999",
      operatorClientId: undefined,
      openrouterManagementKey: undefined,
    };

    assert.throws(
      () => loadWith(overrides),
      (error: unknown) => {
        assert.ok(error instanceof StackConfigError);
        const keys = error.problems.map((problem) => problem.key).sort();
        assert.deepEqual(keys, [
          "appNamespace",
          "gracePeriodSeconds",
          "openrouterManagementKey",
          "operatorClientId",
          "resyncInterval",
          "secretsPath",
        ]);
        assert.match(
          error.message,
          /^The stack configuration has 6 problems; no resource was declared:/,
        );
        for (const problem of error.problems) {
          assert.ok(error.message.includes(`  - ${problem.message}`), problem.key);
        }
        return true;
      },
    );
  });

  it("raises a RunError, which Pulumi prints without a stack trace", () => {
    assert.throws(
      () => loadWith({ secretsPath: "app" }),
      (error: unknown) => (error as { __pulumiRunError?: boolean }).__pulumiRunError === true,
    );
  });

  it("gives a fix command for every problem", () => {
    const problems = problemsOf({
      secretsPath: "x",
      envSlug: "X",
      infisicalHost: "http://h",
      openrouterManagementKey: undefined,
    });

    for (const problem of problems) {
      assert.match(
        problem.message,
        /Fix: pulumi config set (--secret )?anythingllm-secrets:\S+ \S+/,
      );
    }
  });

  describe("credentials", () => {
    it("reads them from the environment", () => {
      const env = {
        INFISICAL_UNIVERSAL_AUTH_CLIENT_ID: validSettings.infisicalClientId,
        INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET: "cs-ENV-PLACEHOLDER",
        OPENROUTER_MANAGEMENT_KEY: "mgmt-ENV-PLACEHOLDER",
      };
      const settings = {
        ...validSettings,
        infisicalClientId: undefined,
        infisicalClientSecret: undefined,
        openrouterManagementKey: undefined,
      };

      assert.deepEqual(checkStackConfig(getter(settings), { env }).problems, []);
    });

    it("accepts the older management key variable", () => {
      const problems = problemsOf(
        { openrouterManagementKey: undefined },
        { env: { OPENROUTER_PROVISIONING_KEY: "mgmt-OLD-PLACEHOLDER" } },
      );

      assert.deepEqual(problems, []);
    });

    const missing: Array<[string, RegExp]> = [
      [
        "infisicalClientId",
        /^infisicalClientId is missing from the stack config and the environment\. Fix: pulumi config set anythingllm-secrets:infisicalClientId <value>, or set the environment variable INFISICAL_UNIVERSAL_AUTH_CLIENT_ID$/,
      ],
      [
        "infisicalClientSecret",
        /^infisicalClientSecret is missing .* pulumi config set --secret anythingllm-secrets:infisicalClientSecret <value>, or set the environment variable INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET$/,
      ],
      [
        "openrouterManagementKey",
        /^openrouterManagementKey is missing .* pulumi config set --secret anythingllm-secrets:openrouterManagementKey <value>, or set the environment variables OPENROUTER_MANAGEMENT_KEY or OPENROUTER_PROVISIONING_KEY$/,
      ],
    ];
    for (const [key, expected] of missing) {
      it(`reports a missing ${key} with both ways to set it`, () => {
        const problems = problemsOf({ [key]: undefined });

        assert.equal(problems.length, 1);
        assert.equal(problems[0].key, key);
        assert.match(problems[0].message, expected);
      });
    }

    const blankEnv: Array<[string, string]> = [
      ["INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", "infisicalClientId"],
      ["INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", "infisicalClientSecret"],
      ["OPENROUTER_MANAGEMENT_KEY", "openrouterManagementKey"],
      ["OPENROUTER_PROVISIONING_KEY", "openrouterManagementKey"],
    ];
    for (const [name, key] of blankEnv) {
      it(`treats a blank ${name} as missing`, () => {
        const problems = problemsOf({ [key]: undefined }, { env: { [name]: " \t" } });

        assert.equal(problems.length, 1);
        assert.equal(problems[0].key, key);
        assert.match(problems[0].message, new RegExp(`^${key} is missing from the stack config`));
        assert.match(
          problems[0].message,
          new RegExp(
            `The environment variable ${name} is blank, and a blank value counts as missing\\.`,
          ),
        );
      });
    }

    for (const [, key] of blankEnv.slice(0, 3)) {
      it(`treats a blank ${key} in the stack config as missing`, () => {
        const problems = problemsOf({ [key]: "  " });

        assert.equal(problems.length, 1);
        assert.equal(problems[0].key, key);
        assert.match(problems[0].message, /The stack config value is blank/);
      });
    }

    it("names every blank source", () => {
      const problems = problemsOf(
        { openrouterManagementKey: " " },
        { env: { OPENROUTER_MANAGEMENT_KEY: "", OPENROUTER_PROVISIONING_KEY: " " } },
      );

      assert.equal(problems.length, 1);
      assert.match(
        problems[0].message,
        /The stack config value and the environment variable OPENROUTER_MANAGEMENT_KEY and the environment variable OPENROUTER_PROVISIONING_KEY are blank/,
      );
    });

    it("falls back to the environment past a blank config value", () => {
      const problems = problemsOf(
        { openrouterManagementKey: " " },
        { env: { OPENROUTER_MANAGEMENT_KEY: "mgmt-ENV-PLACEHOLDER" } },
      );

      assert.deepEqual(problems, []);
    });

    it("accepts a client id with surrounding spaces", () => {
      const problems = problemsOf({ infisicalClientId: ` ${validSettings.infisicalClientId} ` });

      assert.deepEqual(problems, []);
    });

    it("rejects a secret credential stored in plain text", () => {
      const problems = problemsOf(
        {},
        { env: {}, isSecret: (key) => key !== "openrouterManagementKey" },
      );

      assert.equal(problems.length, 1);
      assert.equal(problems[0].key, "openrouterManagementKey");
      assert.match(problems[0].message, /stored in plain text.*pulumi config set --secret/);
      assert.ok(!problems[0].message.includes(validSettings.openrouterManagementKey));
    });

    it("accepts the client id in plain text", () => {
      const problems = problemsOf({}, { env: {}, isSecret: (key) => key !== "infisicalClientId" });

      assert.deepEqual(problems, []);
    });

    it("rejects a client id that is no UUID without showing it", () => {
      const problems = problemsOf({ infisicalClientId: "cs-PASTED-PLACEHOLDER" });

      assert.equal(problems.length, 1);
      assert.match(problems[0].message, /infisicalClientId is invalid: .*UUID \(value not shown\)/);
      assert.ok(!problems[0].message.includes("cs-PASTED-PLACEHOLDER"));
    });

    it("never shows a credential in any message", () => {
      const problems = problemsOf(
        { secretsPath: "x", infisicalClientId: "not-a-uuid" },
        { env: {}, isSecret: () => false },
      );
      const text = problems.map((problem) => problem.message).join("\n");

      assert.ok(problems.length >= 3);
      assert.ok(!text.includes(validSettings.infisicalClientSecret));
      assert.ok(!text.includes(validSettings.openrouterManagementKey));
      assert.ok(!text.includes("not-a-uuid"));
    });
  });
});

describe("configSetCommand", () => {
  it("builds a plain command", () => {
    assert.equal(
      configSetCommand("envSlug", "prod"),
      "pulumi config set anythingllm-secrets:envSlug prod",
    );
  });

  it("adds --secret for secrets", () => {
    assert.equal(
      configSetCommand("openrouterManagementKey", "<value>", true),
      "pulumi config set --secret anythingllm-secrets:openrouterManagementKey <value>",
    );
  });
});

describe("shellQuote", () => {
  it("leaves plain values alone", () => {
    assert.equal(shellQuote("https://h.example.test/api"), "https://h.example.test/api");
  });

  it("quotes spaces and quotes", () => {
    assert.equal(shellQuote("a b'c"), `'a b'\\''c'`);
  });
});
