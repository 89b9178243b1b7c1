import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { parse } from "yaml";

import {
  authSecretKeys,
  authSecretStringData,
  autoReloadAnnotations,
  clientSecretTtlSeconds,
  graceDuration,
  isRotationOverdue,
  jwtKeepers,
  operatorChartName,
  operatorHelmValues,
  rotatorTriggers,
} from "../../components";

const fixtures = path.resolve(__dirname, "..", "fixtures");

function readFixture(name: string): any {
  return parse(fs.readFileSync(path.join(fixtures, name), "utf8"));
}

/** Lists every leaf of an object as [dotted path, value]. */
function leaves(value: Record<string, unknown>, prefix = ""): Array<[string, unknown]> {
  return Object.entries(value).flatMap(([key, item]) => {
    const itemPath = prefix === "" ? key : `${prefix}.${key}`;
    const nested = item !== null && typeof item === "object" && !Array.isArray(item);
    return nested ? leaves(item as Record<string, unknown>, itemPath) : [[itemPath, item]];
  });
}

function lookUp(value: any, dottedPath: string): unknown {
  return dottedPath.split(".").reduce((node, key) => (node == null ? undefined : node[key]), value);
}

describe("operator Helm values", () => {
  const chartValues = readFixture("secrets-operator-values.yaml");
  const chart = readFixture("secrets-operator-Chart.yaml");
  const values = operatorHelmValues("https://infisical.example.test/api");

  it("come from the pinned chart", () => {
    assert.equal(chart.name, operatorChartName);
    assert.equal(chart.version, "v0.11.5");
  });

  for (const [key, value] of leaves(values as unknown as Record<string, unknown>)) {
    it(`set ${key}, a key of the chart with the same type`, () => {
      const chartDefault = lookUp(chartValues, key);

      assert.notEqual(chartDefault, undefined, `${key} is not a chart value`);
      assert.equal(typeof value, typeof chartDefault);
    });
  }

  it("set the host and the CRD install", () => {
    assert.deepEqual(values, { hostAPI: "https://infisical.example.test/api", installCRDs: true });
  });

  it("can leave the CRDs out", () => {
    assert.equal(operatorHelmValues("https://h.example.test/api", false).installCRDs, false);
  });
});

describe("credentials Secret payload", () => {
  it("has exactly the keys the operator reads", () => {
    const data = authSecretStringData("client-id", "cs-OLD-PLACEHOLDER");

    assert.deepEqual(Object.keys(data).sort(), ["clientId", "clientSecret"]);
    assert.deepEqual([...authSecretKeys].sort(), ["clientId", "clientSecret"]);
  });

  it("changes only the clientSecret value on rotation", () => {
    const before = authSecretStringData("client-id", "cs-OLD-PLACEHOLDER");
    const after = authSecretStringData("client-id", "cs-NEW-PLACEHOLDER");

    assert.deepEqual(Object.keys(after), Object.keys(before));
    assert.equal(after.clientId, before.clientId);
    assert.equal(after.clientSecret, "cs-NEW-PLACEHOLDER");
  });
});

describe("auto-reload annotation", () => {
  it("is the exact string true", () => {
    assert.deepEqual(autoReloadAnnotations(), { "secrets.infisical.com/auto-reload": "true" });
  });
});

describe("rotation helpers", () => {
  it("rotatorTriggers carries the stamp only when set", () => {
    assert.equal(rotatorTriggers(undefined), undefined);
    assert.equal(rotatorTriggers(""), undefined);
    assert.deepEqual(rotatorTriggers("2026-03-01T00:00:00Z"), {
      rotateNow: "2026-03-01T00:00:00Z",
    });
  });

  it("jwtKeepers holds only the rotation id", () => {
    assert.deepEqual(jwtKeepers("2026-03-01T00:00:00Z"), { rotation: "2026-03-01T00:00:00Z" });
  });

  it("clientSecretTtlSeconds adds seven days", () => {
    assert.equal(clientSecretTtlSeconds(30), 37 * 86400);
    assert.equal(clientSecretTtlSeconds(1), 8 * 86400);
  });

  it("graceDuration is in seconds", () => {
    assert.equal(graceDuration(120), "120s");
    assert.equal(graceDuration(0), "0s");
  });

  it("isRotationOverdue compares the due time with now", () => {
    const nowMs = Date.parse("2026-03-10T00:00:00Z");

    assert.equal(isRotationOverdue("2026-03-09T23:59:59Z", nowMs), true);
    assert.equal(isRotationOverdue("2026-03-10T00:00:01Z", nowMs), false);
    assert.equal(isRotationOverdue(undefined, nowMs), false);
    assert.equal(isRotationOverdue("not a time", nowMs), false);
  });
});
