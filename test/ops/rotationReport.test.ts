import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";

import { RotationOutput, parseRotationOutput } from "../../scripts/rotationOutput";
import {
  buildRotationReport,
  diffRotations,
  parseReportArguments,
  readRotation,
} from "../../scripts/rotationReport";
import { rotationFixtures, runTsScript, temporaryDirectory } from "./support";

const placeholderKey = "sk-or-v1-PLACEHOLDER-0123";
const placeholderClientSecret = "cs-NEW-PLACEHOLDER";

function fixtureText(name: string): string {
  return readFileSync(path.join(rotationFixtures, name), "utf8");
}

function fixture(name: string): RotationOutput {
  return parseRotationOutput(fixtureText(name));
}

describe("diffRotations", () => {
  it("finds no change", () => {
    assert.deepEqual(diffRotations(fixture("on-time.json"), fixture("on-time.json")), []);
  });

  it("names rotated credentials", () => {
    const changes = diffRotations(fixture("on-time.json"), fixture("rotated.json"));

    assert.deepEqual(changes, [
      {
        credential: "openrouterApiKey",
        kind: "rotated",
        lastRotated: "2025-06-04T06:05:00Z",
        keyHash: "5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c",
      },
      {
        credential: "operatorClientSecret",
        kind: "rotated",
        lastRotated: "2025-06-14T06:05:00Z",
        clientSecretId: "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8",
      },
    ]);
  });

  it("detects a new key hash alone", () => {
    const after = fixture("on-time.json");
    after.openrouterApiKey.keyHash = "0".repeat(64);

    const changes = diffRotations(fixture("on-time.json"), after);

    assert.deepEqual(
      changes.map((change) => change.credential),
      ["openrouterApiKey"],
    );
  });

  it("detects a new client secret id alone", () => {
    const after = fixture("on-time.json");
    after.operatorClientSecret.clientSecretId = "ffffffff-ffff-4fff-8fff-ffffffffffff";

    const changes = diffRotations(fixture("on-time.json"), after);

    assert.deepEqual(
      changes.map((change) => change.credential),
      ["operatorClientSecret"],
    );
  });

  it("detects a JWT rotation by time", () => {
    const after = fixture("on-time.json");
    after.jwtSecret.lastRotated = "2025-06-30T06:01:00Z";

    const changes = diffRotations(fixture("on-time.json"), after);

    assert.deepEqual(changes, [
      { credential: "jwtSecret", kind: "rotated", lastRotated: "2025-06-30T06:01:00Z" },
    ]);
  });

  it("reports creation without a previous output", () => {
    const changes = diffRotations(undefined, fixture("on-time.json"));

    assert.deepEqual(
      changes.map((change) => [change.credential, change.kind]),
      [
        ["openrouterApiKey", "created"],
        ["jwtSecret", "created"],
        ["operatorClientSecret", "created"],
      ],
    );
  });
});

describe("readRotation", () => {
  it("treats no outputs as absent", () => {
    assert.deepEqual(readRotation("{}\n"), {});
    assert.deepEqual(readRotation(""), {});
    assert.deepEqual(readRotation('{"managedSecretName": "anythingllm-secrets"}'), {});
  });

  it("reads the rotation output", () => {
    assert.deepEqual(readRotation(fixtureText("on-time.json")), {
      rotation: fixture("on-time.json"),
    });
  });

  it("returns a problem for bad input", () => {
    const read = readRotation(fixtureText("malformed-time.json"));

    assert.equal(read.rotation, undefined);
    assert.match(read.problem ?? "", /openrouterApiKey.nextDue/);
  });
});

describe("buildRotationReport", () => {
  const stack = "anythingllm-secrets/prod";
  const runUrl = "https://github.example.test/acme/repo/actions/runs/7";

  it("is quiet when nothing changed", () => {
    const read = readRotation(fixtureText("on-time.json"));

    const report = buildRotationReport({ before: read, after: read, outcome: "success", stack });

    assert.equal(report.rotated, false);
    assert.equal(report.notify, false);
    assert.equal(report.payload, undefined);
  });

  it("notifies with hash and id", () => {
    const report = buildRotationReport({
      before: readRotation(fixtureText("on-time.json")),
      after: readRotation(fixtureText("rotated.json")),
      outcome: "success",
      stack,
      runUrl,
    });
    const text = report.payload?.text ?? "";

    assert.equal(report.rotated, true);
    assert.equal(report.notify, true);
    assert.match(text, /^anythingllm-secrets\/prod: credential rotation run succeeded\.$/m);
    assert.match(text, /openrouterApiKey rotated at .*key hash 5d6e7f8091a2b3c4d5e6f7/);
    assert.match(
      text,
      /operatorClientSecret rotated at .*client secret id 4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8/,
    );
    assert.doesNotMatch(text, /jwtSecret/);
    assert.match(text, /actions\/runs\/7$/);
  });

  it("notifies a failed run", () => {
    const read = readRotation(fixtureText("on-time.json"));

    const report = buildRotationReport({ before: read, after: read, outcome: "failure", stack });

    assert.equal(report.rotated, false);
    assert.equal(report.notify, true);
    assert.match(report.payload?.text ?? "", /run failed \(pulumi up: failure\)/);
  });

  it("notifies a rotation in a failed run", () => {
    const report = buildRotationReport({
      before: readRotation(fixtureText("on-time.json")),
      after: readRotation(fixtureText("rotated.json")),
      outcome: "failure",
      stack,
    });

    assert.equal(report.rotated, true);
    assert.match(report.payload?.text ?? "", /run failed/);
    assert.match(report.payload?.text ?? "", /openrouterApiKey rotated/);
  });

  it("notifies unreadable outputs", () => {
    const report = buildRotationReport({
      before: readRotation(fixtureText("on-time.json")),
      after: readRotation(fixtureText("truncated.txt")),
      outcome: "success",
      stack,
    });

    assert.equal(report.rotated, false);
    assert.equal(report.notify, true);
    assert.match(report.payload?.text ?? "", /not compared: rotation output after the run/);
  });

  it("notifies a missing output after success", () => {
    const read = readRotation(fixtureText("on-time.json"));

    const report = buildRotationReport({ before: read, after: {}, outcome: "success", stack });

    assert.equal(report.notify, true);
    assert.match(report.payload?.text ?? "", /no output `rotation` after a successful run/);
  });

  it("leaks no credential value", () => {
    const before = JSON.parse(fixtureText("on-time.json"));
    const after = JSON.parse(fixtureText("rotated.json"));
    after.rotation.openrouterApiKey.key = placeholderKey;
    after.rotation.operatorClientSecret.clientSecret = placeholderClientSecret;

    const report = buildRotationReport({
      before: readRotation(JSON.stringify(before)),
      after: readRotation(JSON.stringify(after)),
      outcome: "success",
      stack,
    });
    const serialized = JSON.stringify(report);

    assert.equal(report.rotated, true);
    assert.equal(serialized.includes(placeholderKey), false);
    assert.equal(serialized.includes(placeholderClientSecret), false);
  });

  it("posts no unchecked identifier", () => {
    const leaked = "sk-or-v1-PLACEHOLDER-LEAK";
    const after = JSON.parse(fixtureText("rotated.json"));
    after.rotation.openrouterApiKey.keyHash = `${leaked}\n<!channel>`;
    after.rotation.operatorClientSecret.clientSecretId = `${leaked}\n<!here>`;

    const report = buildRotationReport({
      before: readRotation(fixtureText("on-time.json")),
      after: readRotation(JSON.stringify(after)),
      outcome: "success",
      stack,
    });
    const text = report.payload?.text ?? "";

    assert.equal(report.notify, true);
    assert.match(text, /not compared: .*`rotation.openrouterApiKey.keyHash` is not 64 lowercase/);
    assert.equal(text.includes(leaked), false, text);
    assert.doesNotMatch(text, /<!/);
  });
});

describe("parseReportArguments", () => {
  it("reads all options", () => {
    const options = parseReportArguments([
      "--before",
      "b.json",
      "--after",
      "a.json",
      "--outcome",
      "success",
      "--stack",
      "org/prod",
      "--run-url",
      "https://example.test/run",
      "--payload",
      "p.json",
    ]);

    assert.deepEqual(options, {
      before: "b.json",
      after: "a.json",
      outcome: "success",
      stack: "org/prod",
      runUrl: "https://example.test/run",
      payload: "p.json",
    });
  });

  it("requires --outcome", () => {
    assert.throws(
      () => parseReportArguments(["--before", "b", "--after", "a"]),
      /--outcome is required/,
    );
  });

  it("rejects an unknown option", () => {
    assert.throws(() => parseReportArguments(["--verbose", "1"]), /unknown option --verbose/);
  });

  it("rejects a missing value", () => {
    assert.throws(() => parseReportArguments(["--before"]), /--before needs a value/);
  });
});

describe("rotationReport command", () => {
  let directory: string;

  beforeEach(() => {
    directory = temporaryDirectory();
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  function run(before: string, after: string, outcome: string) {
    const payload = path.join(directory, "notification.json");
    const result = runTsScript("scripts/rotationReport.ts", [
      "--before",
      before,
      "--after",
      after,
      "--outcome",
      outcome,
      "--payload",
      payload,
    ]);
    return { ...result, payload };
  }

  it("writes the payload on rotation", () => {
    const result = run(
      path.join(rotationFixtures, "on-time.json"),
      path.join(rotationFixtures, "rotated.json"),
      "success",
    );
    const payload = JSON.parse(readFileSync(result.payload, "utf8"));

    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^Rotated: openrouterApiKey, operatorClientSecret\.$/m);
    assert.match(payload.text, /client secret id 4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8/);
  });

  it("writes no payload without a change", () => {
    const onTime = path.join(rotationFixtures, "on-time.json");

    const result = run(onTime, onTime, "success");

    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^No credential rotated\.$/m);
    assert.equal(existsSync(result.payload), false);
  });

  it("reports a missing file", () => {
    const before = path.join(directory, "absent.json");
    const after = path.join(directory, "after.json");
    writeFileSync(after, fixtureText("on-time.json"));

    const result = run(before, after, "success");
    const payload = JSON.parse(readFileSync(result.payload, "utf8"));

    assert.equal(result.status, 0, result.stderr);
    assert.match(payload.text, /failed to read .*absent\.json/);
  });

  it("echoes no invalid value", () => {
    const secret = "sk-or-v1-PLACEHOLDER-IN-TIME";
    const document = JSON.parse(fixtureText("rotated.json"));
    document.rotation.jwtSecret.lastRotated = secret;
    const after = path.join(directory, "after.json");
    writeFileSync(after, JSON.stringify(document));

    const result = run(path.join(rotationFixtures, "on-time.json"), after, "success");
    const payload = readFileSync(result.payload, "utf8");

    assert.equal(result.status, 0, result.stderr);
    assert.match(payload, /`rotation.jwtSecret.lastRotated` is not an RFC 3339 time/);
    for (const output of [payload, result.stdout, result.stderr]) {
      assert.equal(output.includes(secret), false, output);
    }
  });

  it("exits 2 when the payload cannot be written", () => {
    const payload = path.join(directory, "absent", "notification.json");

    const result = runTsScript("scripts/rotationReport.ts", [
      "--before",
      path.join(rotationFixtures, "on-time.json"),
      "--after",
      path.join(rotationFixtures, "rotated.json"),
      "--outcome",
      "success",
      "--payload",
      payload,
    ]);

    assert.equal(result.status, 2);
    assert.equal(
      result.stderr,
      `rotation-report: failed to write the payload to ${payload}: the directory does not exist\n`,
    );
    assert.equal(existsSync(payload), false);
  });

  it("exits 2 on bad arguments", () => {
    const result = runTsScript("scripts/rotationReport.ts", ["--before", "b.json"]);

    assert.equal(result.status, 2);
    assert.match(result.stderr, /rotation-report: option --after is required/);
  });
});
