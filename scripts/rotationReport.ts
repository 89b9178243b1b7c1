/**
 * Compares the stack output `rotation` before and after a `pulumi up` and builds the chat message
 * the rotation workflow posts: which credential rotated, with its new key hash or client secret
 * id, and whether the run failed. It never reads or prints a credential value.
 *
 * usage: ts-node scripts/rotationReport.ts --before FILE --after FILE --outcome OUTCOME
 *          [--stack NAME] [--run-url URL] [--payload FILE]
 * Each FILE contains the output of `pulumi stack output --json`. OUTCOME is the GitHub Actions outcome of the
 * `pulumi up` step (success, failure, cancelled or skipped). The JSON message `{"text": ...}` is
 * written to the --payload file only when a notification is due. When GITHUB_OUTPUT is set, the
 * step outputs `rotated` and `notify` (true or false) are appended to it.
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";

import {
  CredentialName,
  RotationOutput,
  RotationOutputError,
  credentialNames,
  parseRotationOutput,
} from "./rotationOutput";

/** A credential whose rotation state changed during the run. */
export interface RotationChange {
  credential: CredentialName;
  /** "created" when the output had no entry before the run, as on the first deployment. */
  kind: "created" | "rotated";
  lastRotated: string;
  keyHash?: string;
  clientSecretId?: string;
}

/** Result of reading one `pulumi stack output --json` document. */
export interface RotationRead {
  rotation?: RotationOutput;
  /** Reason the output could not be read, absent when it was read or the stack has none yet. */
  problem?: string;
}

/** Everything the workflow needs from one comparison. */
export interface RotationReport {
  changes: RotationChange[];
  problems: string[];
  rotated: boolean;
  notify: boolean;
  /** Chat message, present when `notify` is true. */
  payload?: { text: string };
}

/** Inputs of one comparison. */
export interface RotationReportInput {
  before: RotationRead;
  after: RotationRead;
  /** Outcome of the `pulumi up` step. */
  outcome: string;
  stack: string;
  runUrl?: string;
}

/**
 * Lists the credentials whose `lastRotated`, key hash or client secret id differ between the two
 * outputs. Without an output before the run, every credential counts as created.
 */
export function diffRotations(
  before: RotationOutput | undefined,
  after: RotationOutput,
): RotationChange[] {
  const changes: RotationChange[] = [];
  for (const credential of credentialNames) {
    const previous = before?.[credential];
    const current = after[credential];
    const changed =
      previous === undefined ||
      previous.lastRotated !== current.lastRotated ||
      previous.keyHash !== current.keyHash ||
      previous.clientSecretId !== current.clientSecretId;
    if (!changed) {
      continue;
    }
    changes.push({
      credential,
      kind: previous === undefined ? "created" : "rotated",
      lastRotated: current.lastRotated,
      ...(current.keyHash === undefined ? {} : { keyHash: current.keyHash }),
      ...(current.clientSecretId === undefined ? {} : { clientSecretId: current.clientSecretId }),
    });
  }
  return changes;
}

/**
 * Reads the `rotation` output from the text of `pulumi stack output --json`. Empty text, `{}` and
 * outputs without `rotation` mean the stack has not exported it yet, which is not a problem.
 */
export function readRotation(text: string): RotationRead {
  if (text.trim() === "" || hasNoRotation(text)) {
    return {};
  }
  try {
    return { rotation: parseRotationOutput(text) };
  } catch (error) {
    if (error instanceof RotationOutputError) {
      return { problem: error.message };
    }
    throw error;
  }
}

function hasNoRotation(text: string): boolean {
  try {
    const document: unknown = JSON.parse(text);
    return (
      typeof document === "object" &&
      document !== null &&
      !Array.isArray(document) &&
      !("rotation" in document) &&
      !credentialNames.some((name) => name in document)
    );
  } catch {
    return false;
  }
}

/** Compares the outputs and decides whether the workflow posts a notification. */
export function buildRotationReport(input: RotationReportInput): RotationReport {
  const problems: string[] = [];
  if (input.before.problem !== undefined) {
    problems.push(`rotation output before the run: ${input.before.problem}`);
  }
  if (input.after.problem !== undefined) {
    problems.push(`rotation output after the run: ${input.after.problem}`);
  } else if (input.after.rotation === undefined && input.outcome === "success") {
    problems.push("the stack has no output `rotation` after a successful run");
  }

  const comparable = input.before.problem === undefined && input.after.rotation !== undefined;
  const changes = comparable ? diffRotations(input.before.rotation, input.after.rotation!) : [];
  const failed = input.outcome !== "success";
  const rotated = changes.length > 0;
  const notify = failed || rotated || problems.length > 0;

  const report: RotationReport = { changes, problems, rotated, notify };
  if (notify) {
    report.payload = { text: formatMessage(input, changes, problems) };
  }
  return report;
}

function formatMessage(
  input: RotationReportInput,
  changes: RotationChange[],
  problems: string[],
): string {
  const lines: string[] = [];
  if (input.outcome !== "success") {
    lines.push(`${input.stack}: credential rotation run failed (pulumi up: ${input.outcome}).`);
  } else {
    lines.push(`${input.stack}: credential rotation run succeeded.`);
  }
  for (const change of changes) {
    lines.push(`- ${describeChange(change)}`);
  }
  for (const problem of problems) {
    lines.push(`- not compared: ${problem}`);
  }
  if (input.runUrl) {
    lines.push(input.runUrl);
  }
  return lines.join("\n");
}

function describeChange(change: RotationChange): string {
  const ids: string[] = [];
  if (change.keyHash !== undefined) {
    ids.push(`key hash ${change.keyHash}`);
  }
  if (change.clientSecretId !== undefined) {
    ids.push(`client secret id ${change.clientSecretId}`);
  }
  const details = ids.length === 0 ? "" : `, ${ids.join(", ")}`;
  return `${change.credential} ${change.kind} at ${change.lastRotated}${details}`;
}

/** Command-line options of the report. */
export interface RotationReportOptions {
  before: string;
  after: string;
  outcome: string;
  stack: string;
  runUrl?: string;
  payload?: string;
}

/** Parses `--name value` pairs and raises an Error for an unknown or incomplete option. */
export function parseReportArguments(argv: string[]): RotationReportOptions {
  const values = new Map<string, string>();
  const known = ["--before", "--after", "--outcome", "--stack", "--run-url", "--payload"];
  for (let index = 0; index < argv.length; index += 2) {
    const name = argv[index];
    const value = argv[index + 1];
    if (!known.includes(name)) {
      throw new Error(`unknown option ${name}`);
    }
    if (value === undefined) {
      throw new Error(`option ${name} needs a value`);
    }
    values.set(name, value);
  }
  for (const required of ["--before", "--after", "--outcome"]) {
    if (!values.has(required)) {
      throw new Error(`option ${required} is required`);
    }
  }
  return {
    before: values.get("--before")!,
    after: values.get("--after")!,
    outcome: values.get("--outcome")!,
    stack: values.get("--stack") ?? "anythingllm-secrets",
    runUrl: values.get("--run-url"),
    payload: values.get("--payload"),
  };
}

function readRotationFile(file: string): RotationRead {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { problem: `failed to read ${file}: ${reason}` };
  }
  return readRotation(text);
}

function summarize(report: RotationReport): string {
  const lines = [
    report.rotated
      ? `Rotated: ${report.changes.map((change) => change.credential).join(", ")}.`
      : "No credential rotated.",
    ...report.problems.map((problem) => `Not compared: ${problem}`),
    report.notify ? "A notification is due." : "No notification is due.",
  ];
  return lines.join("\n") + "\n";
}

function main(argv: string[]): number {
  let options: RotationReportOptions;
  try {
    options = parseReportArguments(argv);
  } catch (error) {
    process.stderr.write(`rotation-report: ${(error as Error).message}\n`);
    return 2;
  }

  const report = buildRotationReport({
    before: readRotationFile(options.before),
    after: readRotationFile(options.after),
    outcome: options.outcome,
    stack: options.stack,
    runUrl: options.runUrl,
  });

  const payloadFile = options.payload;
  const githubOutput = process.env.GITHUB_OUTPUT;
  try {
    if (payloadFile !== undefined && report.payload !== undefined) {
      const text = JSON.stringify(report.payload) + "\n";
      writeOrExplain(`the payload to ${payloadFile}`, () => writeFileSync(payloadFile, text));
    }
    if (githubOutput) {
      const text = `rotated=${report.rotated}\nnotify=${report.notify}\n`;
      writeOrExplain(`the step outputs to ${githubOutput}`, () =>
        appendFileSync(githubOutput, text),
      );
    }
  } catch (error) {
    process.stderr.write(`rotation-report: ${(error as Error).message}\n`);
    return 2;
  }
  process.stdout.write(summarize(report));
  return 0;
}

/** Runs `write` and turns a file system error into one line naming what was written where. */
function writeOrExplain(what: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reasons: Record<string, string> = {
      ENOENT: "the directory does not exist",
      ENOTDIR: "a part of the path is not a directory",
      EACCES: "permission denied",
      EISDIR: "it is a directory",
      EROFS: "the file system is read-only",
    };
    const reason =
      code !== undefined && code in reasons
        ? reasons[code]
        : error instanceof Error
          ? error.message
          : String(error);
    throw new Error(`failed to write ${what}: ${reason}`);
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
