/**
 * `npm run rotation-status [-- FILE] [--now RFC3339]`: prints when each credential was last
 * rotated and when it is due, from the output of `pulumi stack output --json` (stdin or FILE).
 * Exit status: 0 when no rotation is overdue, 1 when one is, 2 when the input cannot be read.
 */
import { readFileSync } from "node:fs";

import {
  CredentialName,
  RotationOutput,
  RotationOutputError,
  credentialNames,
  parseRfc3339,
  parseRotationOutput,
} from "./rotationOutput";

export const exitOnTime = 0;
export const exitOverdue = 1;
export const exitUnreadable = 2;

const usage =
  "usage: pulumi stack output --json | npm run rotation-status [-- [FILE] [--now RFC3339]]";

/** One row of the status table. */
export interface RotationStatusRow {
  credential: CredentialName;
  lastRotated: string;
  nextDue: string;
  overdue: boolean;
}

/** Command-line options. */
export interface RotationStatusOptions {
  /** File with the stack outputs, which are read from stdin when it is absent. */
  file?: string;
  /** Reference time in epoch milliseconds, the current time when absent. */
  nowMs?: number;
}

/** Raised for invalid command-line arguments. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Builds one row per credential. A rotation is overdue when `now` is after its `nextDue`. */
export function rotationStatusRows(rotation: RotationOutput, nowMs: number): RotationStatusRow[] {
  return credentialNames.map((credential) => {
    const { lastRotated, nextDue } = rotation[credential];
    // parseRotationOutput has validated nextDue, so the fallback is never used.
    const nextDueMs = parseRfc3339(nextDue) ?? Number.POSITIVE_INFINITY;
    return { credential, lastRotated, nextDue, overdue: nowMs > nextDueMs };
  });
}

/** Formats rows as a plain-text table with a header line. */
export function formatStatusTable(rows: RotationStatusRow[]): string {
  const header = ["credential", "last rotated", "next due", "overdue"];
  const cells = rows.map((row) => [
    row.credential,
    row.lastRotated,
    row.nextDue,
    row.overdue ? "yes" : "no",
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((line) => line[column].length)),
  );
  const formatLine = (line: string[]) =>
    line
      .map((cell, column) => cell.padEnd(widths[column]))
      .join("  ")
      .trimEnd();

  return [header, ...cells].map(formatLine).join("\n") + "\n";
}

/** Parses the arguments after the script name. */
export function parseArguments(argv: string[]): RotationStatusOptions {
  const options: RotationStatusOptions = {};
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === "--now" || argument.startsWith("--now=")) {
      const value = argument === "--now" ? argv[++index] : argument.slice("--now=".length);
      options.nowMs = parseNow(value);
    } else if (argument.startsWith("-") && argument !== "-") {
      throw new UsageError(`unknown option ${argument}`);
    } else if (options.file !== undefined) {
      throw new UsageError("only one input file can be given");
    } else if (argument !== "-") {
      options.file = argument;
    }
  }
  return options;
}

function parseNow(value: string | undefined): number {
  const nowMs = value === undefined ? undefined : parseRfc3339(value);
  if (nowMs === undefined) {
    throw new UsageError(`--now needs an RFC 3339 time such as 2025-01-31T12:00:00Z`);
  }
  return nowMs;
}

/** Input and output of one run, replaceable in tests. */
export interface RotationStatusIo {
  readInput(file: string | undefined): string;
  stdout(text: string): void;
  stderr(text: string): void;
  nowMs(): number;
}

/** Runs the command and returns its exit status. */
export function runRotationStatus(argv: string[], io: RotationStatusIo): number {
  let options: RotationStatusOptions;
  let rotation: RotationOutput;
  try {
    options = parseArguments(argv);
    rotation = parseRotationOutput(readInputText(options.file, io));
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof RotationOutputError)) {
      throw error;
    }
    io.stderr(`rotation-status: ${error.message}\n`);
    if (error instanceof UsageError) {
      io.stderr(`${usage}\n`);
    }
    return exitUnreadable;
  }

  const rows = rotationStatusRows(rotation, options.nowMs ?? io.nowMs());
  io.stdout(formatStatusTable(rows));

  const overdue = rows.filter((row) => row.overdue).map((row) => row.credential);
  if (overdue.length === 0) {
    return exitOnTime;
  }
  io.stdout(
    `\nOverdue: ${overdue.join(", ")}. A \`pulumi up\` with refresh rotates it; ` +
      "if the scheduled run did not, check its log.\n",
  );
  return exitOverdue;
}

function readInputText(file: string | undefined, io: RotationStatusIo): string {
  try {
    return io.readInput(file);
  } catch (error) {
    if (error instanceof UsageError) {
      throw error;
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new RotationOutputError(`failed to read ${file ?? "standard input"}: ${reason}`);
  }
}

/** Reads FILE, or stdin when no file is given and stdin is not a terminal. */
function readProcessInput(file: string | undefined): string {
  if (file !== undefined) {
    return readFileSync(file, "utf8");
  }
  if (process.stdin.isTTY) {
    throw new UsageError(
      "no input was given, so pipe `pulumi stack output --json` in or give a file",
    );
  }
  return readFileSync(0, "utf8");
}

if (require.main === module) {
  process.exitCode = runRotationStatus(process.argv.slice(2), {
    readInput: readProcessInput,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    nowMs: () => Date.now(),
  });
}
