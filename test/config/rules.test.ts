import * as assert from "node:assert/strict";

import * as rules from "../../config/rules";

function accepts<T>(rule: rules.Rule<T>, raw: string, expected: T) {
  const result = rule(raw);
  assert.ok(result.ok, `${raw}: ${result.ok ? "" : result.rule}`);
  assert.equal(result.value, expected);
}

function rejects<T>(rule: rules.Rule<T>, raw: string) {
  assert.equal(rule(raw).ok, false, raw);
}

describe("config rules", () => {
  const valid: Array<[string, rules.Rule<unknown>, string, unknown]> = [
    ["rfc1123Label", rules.rfc1123Label, "a", "a"],
    ["rfc1123Label", rules.rfc1123Label, "a".repeat(63), "a".repeat(63)],
    ["rfc1123Label", rules.rfc1123Label, "anything-llm-2", "anything-llm-2"],
    ["rfc1123Subdomain", rules.rfc1123Subdomain, "secrets.anything-llm", "secrets.anything-llm"],
    ["infisicalSlug", rules.infisicalSlug, "demo-proj-a1b2", "demo-proj-a1b2"],
    ["secretsPath", rules.secretsPath, "/", "/"],
    ["secretsPath", rules.secretsPath, "/apps/anything_llm.v2-x", "/apps/anything_llm.v2-x"],
    ["resyncInterval", rules.resyncInterval, "5s", "5s"],
    ["resyncInterval", rules.resyncInterval, "1m", "1m"],
    ["resyncInterval", rules.resyncInterval, "2h", "2h"],
    ["resyncInterval", rules.resyncInterval, "1d", "1d"],
    ["resyncInterval", rules.resyncInterval, "1w", "1w"],
    [
      "uuid",
      rules.uuid,
      "3F6C2A9E-5B1D-4E8A-9C7F-1A2B3C4D5E6F",
      "3f6c2a9e-5b1d-4e8a-9c7f-1a2b3c4d5e6f",
    ],
    ["chartVersion", rules.chartVersion, "v0.11.5-rc.1", "v0.11.5-rc.1"],
    ["boolean", rules.boolean, "false", false],
    ["positiveDecimal", rules.positiveDecimal, "0.5", 0.5],
    ["positiveDecimal", rules.positiveDecimal, ".5", 0.5],
    ["positiveDecimal", rules.positiveDecimal, "25", 25],
    ["positiveDecimal", rules.positiveDecimal, "12.50", 12.5],
    ["keyLimitReset", rules.keyLimitReset, "daily", "daily"],
    [
      "infisicalHost",
      rules.infisicalHost,
      "http://localhost:8080/api/",
      "http://localhost:8080/api",
    ],
    ["infisicalHost", rules.infisicalHost, "http://[::1]:8080", "http://[::1]:8080/api"],
    [
      "infisicalHost",
      rules.infisicalHost,
      "HTTPS://Infisical.Example.Test",
      "https://infisical.example.test/api",
    ],
    [
      "openrouterApiUrl",
      rules.openrouterApiUrl,
      "https://openrouter.ai/api/v1/",
      "https://openrouter.ai/api/v1",
    ],
    [
      "openrouterApiUrl",
      rules.openrouterApiUrl,
      "http://127.0.0.1:9000/api/v1",
      "http://127.0.0.1:9000/api/v1",
    ],
    [
      "openrouterApiUrl",
      rules.openrouterApiUrl,
      "https://gateway.example.test/openrouter/api/v1//",
      "https://gateway.example.test/openrouter/api/v1",
    ],
    [
      "healthCheckUrl",
      rules.healthCheckUrl,
      "http://anythingllm:3001/api/ping",
      "http://anythingllm:3001/api/ping",
    ],
    [
      "healthCheckUrl",
      rules.healthCheckUrl,
      "http://anythingllm:3001/api/ping?token=tok-PLACEHOLDER",
      "http://anythingllm:3001/api/ping?token=tok-PLACEHOLDER",
    ],
    ["rotateNowStamp", rules.rotateNowStamp, "2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z"],
  ];
  for (const [name, rule, raw, expected] of valid) {
    it(`${name} accepts ${JSON.stringify(raw)}`, () => {
      accepts(rule, raw, expected);
    });
  }

  const invalid: Array<[string, rules.Rule<unknown>, string]> = [
    ["rfc1123Label", rules.rfc1123Label, ""],
    ["rfc1123Label", rules.rfc1123Label, "ends-with-"],
    ["rfc1123Subdomain", rules.rfc1123Subdomain, "a..b"],
    ["rfc1123Subdomain", rules.rfc1123Subdomain, `${"a".repeat(63)}.`.repeat(4) + "a"],
    ["infisicalSlug", rules.infisicalSlug, "double--hyphen"],
    ["infisicalSlug", rules.infisicalSlug, "-lead"],
    ["infisicalSlug", rules.infisicalSlug, "a".repeat(65)],
    ["secretsPath", rules.secretsPath, ""],
    ["secretsPath", rules.secretsPath, "/with space"],
    ["resyncInterval", rules.resyncInterval, "5S"],
    ["resyncInterval", rules.resyncInterval, "-5s"],
    ["uuid", rules.uuid, "3f6c2a9e5b1d4e8a9c7f1a2b3c4d5e6f"],
    ["chartVersion", rules.chartVersion, "latest"],
    ["boolean", rules.boolean, "True"],
    ["positiveDecimal", rules.positiveDecimal, "1e3"],
    ["positiveDecimal", rules.positiveDecimal, "-5"],
    ["positiveDecimal", rules.positiveDecimal, "-.5"],
    ["positiveDecimal", rules.positiveDecimal, "+5"],
    ["positiveDecimal", rules.positiveDecimal, "0"],
    ["positiveDecimal", rules.positiveDecimal, ".0"],
    ["positiveDecimal", rules.positiveDecimal, "5."],
    ["positiveDecimal", rules.positiveDecimal, "."],
    ["positiveDecimal", rules.positiveDecimal, "NaN"],
    ["positiveDecimal", rules.positiveDecimal, "Infinity"],
    ["positiveDecimal", rules.positiveDecimal, "1,000"],
    ["positiveDecimal", rules.positiveDecimal, "0x10"],
    ["keyLimitReset", rules.keyLimitReset, "Daily"],
    ["infisicalHost", rules.infisicalHost, "http://10.0.0.5"],
    ["infisicalHost", rules.infisicalHost, "https://h.example.test/api#x"],
    ["infisicalHost", rules.infisicalHost, "https://h.example.test/api?token=x"],
    ["openrouterApiUrl", rules.openrouterApiUrl, "https://openrouter.ai/api/v1?x=1"],
    ["openrouterApiUrl", rules.openrouterApiUrl, "https://openrouter.ai/api/v1#x"],
    ["openrouterApiUrl", rules.openrouterApiUrl, "https://openrouter.example.test"],
    ["openrouterApiUrl", rules.openrouterApiUrl, "https://openrouter.example.test/api"],
    ["openrouterApiUrl", rules.openrouterApiUrl, "https://openrouter.ai/api/v1/keys"],
    ["openrouterApiUrl", rules.openrouterApiUrl, "https://openrouter.ai/API/V1"],
    ["openrouterApiUrl", rules.openrouterApiUrl, "https://u:p@openrouter.ai/api/v1"],
    ["healthCheckUrl", rules.healthCheckUrl, "http://u:p@anythingllm:3001/api/ping"],
    ["healthCheckUrl", rules.healthCheckUrl, "ws://anythingllm:3001"],
  ];
  for (const [name, rule, raw] of invalid) {
    const shownRaw = raw.length > 40 ? `${raw.slice(0, 40)}...` : raw;
    it(`${name} rejects ${JSON.stringify(shownRaw)}`, () => {
      rejects(rule, raw);
    });
  }

  it("integerBetween keeps its bounds", () => {
    const rule = rules.integerBetween(1, 365, "days");

    accepts(rule, "1", 1);
    accepts(rule, "365", 365);
    rejects(rule, "0");
    rejects(rule, "366");
    rejects(rule, "1.0");
  });

  it("suggests a lowercase reset period", () => {
    const result = rules.keyLimitReset("Monthly");

    assert.equal(result.ok, false);
    assert.equal(result.ok ? undefined : result.suggestion, "monthly");
  });

  it("suggests https for a plain http host", () => {
    const result = rules.infisicalHost("http://infisical.example.test/api");

    assert.equal(result.ok ? undefined : result.suggestion, "https://infisical.example.test");
  });

  describe("suggests", () => {
    const cases: Array<[string, rules.Rule<unknown>, string, string | undefined]> = [
      [
        "infisicalHost",
        rules.infisicalHost,
        "https://user:pw@infisical.example.test",
        "https://infisical.example.test",
      ],
      [
        "infisicalHost",
        rules.infisicalHost,
        "http://user:pw@infisical.example.test:8443/api",
        "https://infisical.example.test:8443",
      ],
      [
        "infisicalHost",
        rules.infisicalHost,
        "ftp://infisical.example.test",
        "https://infisical.example.test",
      ],
      [
        "infisicalHost",
        rules.infisicalHost,
        "https://infisical.example.test/api?token=x",
        "https://infisical.example.test",
      ],
      [
        "openrouterApiUrl",
        rules.openrouterApiUrl,
        "https://user:pw@openrouter.example.test/api/v1/",
        "https://openrouter.example.test/api/v1",
      ],
      [
        "openrouterApiUrl",
        rules.openrouterApiUrl,
        "https://user:pw@openrouter.example.test",
        "https://openrouter.example.test/api/v1",
      ],
      [
        "openrouterApiUrl",
        rules.openrouterApiUrl,
        "https://openrouter.example.test",
        "https://openrouter.example.test/api/v1",
      ],
      [
        "openrouterApiUrl",
        rules.openrouterApiUrl,
        "https://openrouter.example.test/api/v1/chat/completions",
        "https://openrouter.example.test/api/v1",
      ],
      [
        "openrouterApiUrl",
        rules.openrouterApiUrl,
        "https://openrouter.ai/api/v1?key=sk-or-v1-PLACEHOLDER",
        "https://openrouter.ai/api/v1",
      ],
      [
        "openrouterApiUrl",
        rules.openrouterApiUrl,
        "openrouter.example.test/api/v1",
        "https://openrouter.example.test/api/v1",
      ],
      [
        "healthCheckUrl",
        rules.healthCheckUrl,
        "http://user:pw@anythingllm:3001/api/ping",
        "http://anythingllm:3001/api/ping",
      ],
      ["healthCheckUrl", rules.healthCheckUrl, "ws://anythingllm:3001", undefined],
    ];
    for (const [name, rule, raw, expected] of cases) {
      it(`${name} corrects ${JSON.stringify(raw)}`, () => {
        const result = rule(raw);

        assert.equal(result.ok, false);
        assert.equal(result.ok ? undefined : result.suggestion, expected);
      });
    }
  });

  it("states the decimal notation it accepts", () => {
    const result = rules.positiveDecimal("1e3");

    assert.match(
      result.ok ? "" : result.rule,
      /plain decimal notation, e\.g\. 25, 12\.5, 0\.5 or \.5/,
    );
    assert.match(result.ok ? "" : result.rule, /without a sign, exponent or thousands separator/);
  });

  it("names /api/v1 in the OpenRouter rule", () => {
    const result = rules.openrouterApiUrl("https://openrouter.example.test");

    assert.match(result.ok ? "" : result.rule, /path ends in \/api\/v1/);
  });
});
