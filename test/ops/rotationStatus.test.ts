import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";

import {
  RotationOutputError,
  parseRfc3339,
  parseRotationOutput,
} from "../../scripts/rotationOutput";
import {
  RotationStatusIo,
  UsageError,
  exitOnTime,
  exitOverdue,
  exitUnreadable,
  formatStatusTable,
  parseArguments,
  rotationStatusRows,
  runRotationStatus,
} from "../../scripts/rotationStatus";
import { repoRoot, rotationFixtures, runTsScript } from "./support";

const now = "2025-06-01T00:00:00Z";
const nowMs = Date.parse(now);

function fixture(name: string): string {
  return readFileSync(path.join(rotationFixtures, name), "utf8");
}

/** Runs the command in-process with `input` as stdin and records what it prints. */
function runWithInput(argv: string[], input: string) {
  const printed = { stdout: "", stderr: "" };
  const io: RotationStatusIo = {
    readInput: (file) => (file === undefined ? input : readFileSync(file, "utf8")),
    stdout: (text) => (printed.stdout += text),
    stderr: (text) => (printed.stderr += text),
    nowMs: () => nowMs,
  };
  const status = runRotationStatus(argv, io);
  return { status, ...printed };
}

describe("parseRfc3339", () => {
  const cases: Array<[string, number | undefined]> = [
    ["2025-06-01T00:00:00Z", Date.UTC(2025, 5, 1)],
    ["2025-06-01T02:00:00+02:00", Date.UTC(2025, 5, 1)],
    ["2025-06-01t00:00:00.250z", Date.UTC(2025, 5, 1, 0, 0, 0, 250)],
    ["2025-06-01 00:00:00Z", Date.UTC(2025, 5, 1)],
    ["2025-06-01", undefined],
    ["2025-06-01T00:00:00", undefined],
    ["2025-13-01T00:00:00Z", undefined],
    ["2024-02-29T12:00:00Z", Date.UTC(2024, 1, 29, 12)],
    ["2025-02-29T00:00:00Z", undefined],
    ["2000-02-29T00:00:00Z", Date.UTC(2000, 1, 29)],
    ["2100-02-29T00:00:00Z", undefined],
    ["2025-12-31T23:59:59Z", Date.UTC(2025, 11, 31, 23, 59, 59)],
    ["2025-02-30T00:00:00+14:00", undefined],
    ["2025-04-31T00:00:00Z", undefined],
    ["2025-06-00T00:00:00Z", undefined],
    ["2025-06-01T24:00:00Z", undefined],
    ["2025-06-01T00:60:00Z", undefined],
    ["2025-06-01T00:00:00+24:00", undefined],
    ["next Tuesday", undefined],
    ["", undefined],
  ];
  for (const [text, expected] of cases) {
    it(`parses "${text}"`, () => {
      assert.equal(parseRfc3339(text), expected);
    });
  }
});

describe("parseRotationOutput", () => {
  it("reads all stack outputs", () => {
    const rotation = parseRotationOutput(fixture("on-time.json"));

    assert.equal(rotation.openrouterApiKey.nextDue, "2025-06-04T06:00:00Z");
    assert.equal(rotation.jwtSecret.lastRotated, "2025-04-01T06:00:00Z");
    assert.equal(
      rotation.operatorClientSecret.clientSecretId,
      "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    );
  });

  it("reads the rotation output alone", () => {
    const document = JSON.parse(fixture("on-time.json"));

    const rotation = parseRotationOutput(JSON.stringify(document.rotation));

    assert.deepEqual(rotation, document.rotation);
  });

  it("drops unknown fields", () => {
    const document = JSON.parse(fixture("on-time.json"));
    document.rotation.openrouterApiKey.key = "sk-or-v1-PLACEHOLDER";

    const rotation = parseRotationOutput(JSON.stringify(document));

    assert.equal("key" in rotation.openrouterApiKey, false);
  });

  const invalid: Array<[string, string, RegExp]> = [
    ["empty input", "  \n", /input is empty/],
    ["invalid JSON", fixture("truncated.txt"), /^the input is invalid JSON \(line 1, column 74\)$/],
    ["a JSON array", "[]", /not a JSON object/],
    ["no rotation output", '{"managedSecretName": "anythingllm-secrets"}', /no output `rotation`/],
    ["a secret rotation output", '{"rotation": "[secret]"}', /marked secret/],
    ["a missing credential", '{"rotation": {"openrouterApiKey": {}}}', /rotation.openrouterApiKey/],
    [
      "an invalid time",
      fixture("malformed-time.json"),
      /^`rotation.openrouterApiKey.nextDue` is not an RFC 3339 time such as /,
    ],
    [
      "a missing time",
      '{"rotation": {"openrouterApiKey": {"nextDue": "2025-06-01T00:00:00Z"}}}',
      /^`rotation.openrouterApiKey.lastRotated` is missing, but an RFC 3339 time /,
    ],
  ];
  for (const [label, text, message] of invalid) {
    it(`rejects ${label}`, () => {
      assert.throws(
        () => parseRotationOutput(text),
        (error: unknown) => error instanceof RotationOutputError && message.test(error.message),
      );
    });
  }
});

describe("parseRotationOutput without echoing input", () => {
  const secret = "sk-or-v1-PLACEHOLDER-ECHO";

  function withField(credential: string, field: string, value: unknown): string {
    const document = JSON.parse(fixture("on-time.json"));
    document.rotation[credential][field] = value;
    return JSON.stringify(document, null, 2);
  }

  function messageOf(text: string): string {
    try {
      parseRotationOutput(text);
    } catch (error) {
      assert.ok(error instanceof RotationOutputError, String(error));
      return error.message;
    }
    assert.fail("the input was accepted");
  }

  const cases: Array<[string, string, RegExp]> = [
    [
      "a key hash that is not a hash",
      withField("openrouterApiKey", "keyHash", `${secret}\n<!channel>`),
      /^`rotation.openrouterApiKey.keyHash` is not 64 lowercase hexadecimal characters$/,
    ],
    [
      "an upper-case key hash",
      withField("openrouterApiKey", "keyHash", "AB".repeat(32)),
      /^`rotation.openrouterApiKey.keyHash` is not 64 lowercase hexadecimal characters$/,
    ],
    [
      "a key hash of 63 characters",
      withField("openrouterApiKey", "keyHash", "a".repeat(63)),
      /keyHash` is not 64 lowercase hexadecimal characters$/,
    ],
    [
      "a client secret id that is not a UUID",
      withField("operatorClientSecret", "clientSecretId", `${secret}\n<!channel>`),
      /^`rotation.operatorClientSecret.clientSecretId` is not a UUID such as /,
    ],
    [
      "a client secret id with extra text",
      withField("operatorClientSecret", "clientSecretId", "csid-0a1b2c3d"),
      /clientSecretId` is not a UUID/,
    ],
    [
      "a credential in a time",
      withField("jwtSecret", "lastRotated", secret),
      /^`rotation.jwtSecret.lastRotated` is not an RFC 3339 time such as /,
    ],
    [
      "a time of the wrong type",
      withField("jwtSecret", "nextDue", { value: secret }),
      /^`rotation.jwtSecret.nextDue` is not an RFC 3339 time/,
    ],
    ["a bare word in JSON", `{"rotation": ${secret}}`, /^the input is invalid JSON$/],
    [
      "an unterminated string",
      `{"rotation": {\n  "note": "${secret}`,
      /^the input is invalid JSON \(line 2, column 37\)$/,
    ],
    [
      "a truncated document",
      `{"rotation": {"note": "${secret}",`,
      /^the input is invalid JSON \(line 1, column 51\)$/,
    ],
    [
      "a document cut at the end",
      `{"rotation": {"note": "${secret}"`,
      /^the input is invalid JSON \(line 1, column 50\)$/,
    ],
  ];
  for (const [label, text, expected] of cases) {
    it(`names ${label} without its value`, () => {
      const message = messageOf(text);

      assert.match(message, expected);
      assert.equal(message.includes("sk-or-v1"), false, message);
      assert.equal(message.includes("<!channel>"), false, message);
    });
  }

  it("accepts a UUID in capitals", () => {
    const text = withField(
      "operatorClientSecret",
      "clientSecretId",
      "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D",
    );

    assert.equal(
      parseRotationOutput(text).operatorClientSecret.clientSecretId,
      "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D",
    );
  });

  it("prints no value on stderr", () => {
    const result = runWithInput([], withField("jwtSecret", "lastRotated", secret));

    assert.equal(result.status, exitUnreadable);
    assert.match(result.stderr, /^rotation-status: `rotation.jwtSecret.lastRotated` is not /);
    assert.equal(result.stderr.includes(secret), false, result.stderr);
  });
});

describe("rotationStatusRows", () => {
  it("marks nothing overdue on time", () => {
    const rows = rotationStatusRows(parseRotationOutput(fixture("on-time.json")), nowMs);

    assert.deepEqual(
      rows.map((row) => row.overdue),
      [false, false, false],
    );
  });

  it("marks past due dates overdue", () => {
    const rows = rotationStatusRows(parseRotationOutput(fixture("overdue.json")), nowMs);

    assert.deepEqual(
      rows.map((row) => [row.credential, row.overdue]),
      [
        ["openrouterApiKey", true],
        ["jwtSecret", false],
        ["operatorClientSecret", true],
      ],
    );
  });

  it("is on time at the due instant", () => {
    const rotation = parseRotationOutput(fixture("on-time.json"));
    const dueMs = Date.parse(rotation.openrouterApiKey.nextDue);

    assert.equal(rotationStatusRows(rotation, dueMs)[0].overdue, false);
    assert.equal(rotationStatusRows(rotation, dueMs + 1)[0].overdue, true);
  });
});

describe("formatStatusTable", () => {
  it("aligns the columns", () => {
    const rows = rotationStatusRows(parseRotationOutput(fixture("overdue.json")), nowMs);

    const lines = formatStatusTable(rows).trimEnd().split("\n");

    assert.equal(lines.length, 4);
    assert.match(lines[0], /^credential +last rotated +next due +overdue$/);
    assert.match(lines[1], /^openrouterApiKey +2025-05-20T06:00:00Z +2025-05-27T06:00:00Z +yes$/);
    assert.match(
      lines[2],
      /^jwtSecret +2025-04-01T06:00:00\+02:00 +2025-06-30T06:00:00\+02:00 +no$/,
    );
    assert.equal(lines[1].indexOf("2025"), lines[0].indexOf("last rotated"));
    assert.equal(lines[3].lastIndexOf("yes"), lines[0].indexOf("overdue"));
  });
});

describe("parseArguments", () => {
  it("reads a file and --now", () => {
    assert.deepEqual(parseArguments(["outputs.json", "--now", now]), {
      file: "outputs.json",
      nowMs,
    });
  });

  it("accepts --now=", () => {
    assert.deepEqual(parseArguments([`--now=${now}`]), { nowMs });
  });

  it("treats - as stdin", () => {
    assert.deepEqual(parseArguments(["-"]), {});
  });

  const invalid: Array<[string, string[]]> = [
    ["an invalid --now", ["--now", "yesterday"]],
    ["a missing --now value", ["--now"]],
    ["an unknown option", ["--verbose"]],
    ["two files", ["a.json", "b.json"]],
  ];
  for (const [label, argv] of invalid) {
    it(`rejects ${label}`, () => {
      assert.throws(() => parseArguments(argv), UsageError);
    });
  }
});

describe("runRotationStatus", () => {
  it("exits 0 on time", () => {
    const result = runWithInput([], fixture("on-time.json"));

    assert.equal(result.status, exitOnTime);
    assert.equal(result.stderr, "");
    assert.doesNotMatch(result.stdout, /\byes\b/);
  });

  it("exits 1 when overdue", () => {
    const result = runWithInput([], fixture("overdue.json"));

    assert.equal(result.status, exitOverdue);
    assert.match(result.stdout, /Overdue: openrouterApiKey, operatorClientSecret\./);
  });

  it("exits 2 on malformed input", () => {
    const result = runWithInput([], fixture("malformed-time.json"));

    assert.equal(result.status, exitUnreadable);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^rotation-status: .*nextDue/);
  });

  it("exits 2 on a missing file", () => {
    const missing = path.join(rotationFixtures, "missing.json");

    const result = runWithInput([missing], "");

    assert.equal(result.status, exitUnreadable);
    assert.match(result.stderr, /failed to read .*missing\.json: ENOENT/);
  });

  it("exits 2 on a bad option", () => {
    const result = runWithInput(["--now", "soon"], fixture("on-time.json"));

    assert.equal(result.status, exitUnreadable);
    assert.match(result.stderr, /--now needs an RFC 3339 time/);
    assert.match(result.stderr, /^usage: /m);
  });
});

describe("rotation-status command", () => {
  const script = "scripts/rotationStatus.ts";

  it("reads stdin, exit 0 on time", () => {
    const result = runTsScript(script, ["--now", now], fixture("on-time.json"));

    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^credential +last rotated +next due +overdue$/m);
    assert.match(result.stdout, /^operatorClientSecret .* no$/m);
  });

  it("reads a file, exit 1 overdue", () => {
    const file = path.join(rotationFixtures, "overdue.json");

    const result = runTsScript(script, [file, "--now", now]);

    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /^openrouterApiKey .* yes$/m);
    assert.match(result.stdout, /^jwtSecret .* no$/m);
  });

  it("exits 2 on invalid JSON", () => {
    const result = runTsScript(script, ["--now", now], fixture("truncated.txt"));

    assert.equal(result.status, 2);
    assert.equal(result.stdout, "");
    assert.match(
      result.stderr,
      /^rotation-status: the input is invalid JSON \(line 1, column 74\)$/m,
    );
  });

  it("exits 2 on empty stdin", () => {
    const result = runTsScript(script, ["--now", now], "");

    assert.equal(result.status, 2);
    assert.match(result.stderr, /rotation-status: the input is empty/);
  });

  it("runs as npm run rotation-status", () => {
    const file = path.join(rotationFixtures, "overdue.json");

    const result = spawnSync(
      "npm",
      ["run", "--silent", "rotation-status", "--", file, "--now", now],
      { cwd: repoRoot, encoding: "utf8", timeout: 60_000 },
    );

    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /^operatorClientSecret .* yes$/m);
  });
});
