import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

import { parse } from "yaml";

export const repoRoot = path.resolve(__dirname, "..", "..");
export const rotationFixtures = path.join(repoRoot, "test", "fixtures", "rotation");

/** One step of a GitHub Actions job, as far as these tests read it. */
export interface WorkflowStep {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

/** A parsed workflow file. */
export interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  jobs: Record<
    string,
    { if?: string; env?: Record<string, string>; steps: WorkflowStep[]; "timeout-minutes"?: number }
  >;
}

export function loadWorkflow(file: string): Workflow {
  const text = readFileSync(path.join(repoRoot, ".github", "workflows", file), "utf8");
  return parse(text) as Workflow;
}

export function onlyJob(workflow: Workflow) {
  const jobs = Object.values(workflow.jobs);
  if (jobs.length !== 1) {
    throw new Error(`expected one job, found ${jobs.length}`);
  }
  return jobs[0];
}

export function stepNamed(steps: WorkflowStep[], name: string): WorkflowStep {
  const step = steps.find((candidate) => candidate.name === name);
  if (step === undefined) {
    throw new Error(`no step named "${name}"`);
  }
  return step;
}

/** Lists every string value of a parsed YAML document with its dotted path. */
export function stringValues(node: unknown, at = ""): Array<[string, string]> {
  if (typeof node === "string") {
    return [[at, node]];
  }
  if (Array.isArray(node)) {
    return node.flatMap((item, index) => stringValues(item, `${at}[${index}]`));
  }
  if (typeof node === "object" && node !== null) {
    return Object.entries(node).flatMap(([key, value]) =>
      stringValues(value, at === "" ? key : `${at}.${key}`),
    );
  }
  return [];
}

export interface ProcessResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript file with ts-node on the Node.js that runs the tests. */
export function runTsScript(script: string, args: string[], input?: string): ProcessResult {
  const tsNode = require.resolve("ts-node/dist/bin.js");
  const result = spawnSync(
    process.execPath,
    [tsNode, "--transpile-only", path.join(repoRoot, script), ...args],
    { cwd: repoRoot, input: input ?? "", encoding: "utf8", timeout: 60_000 },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs a step's `run` script the way a GitHub-hosted runner does (bash -eo pipefail) with the
 * given environment and the PATH of the tests, so that `npx` finds the project's tools. It runs
 * asynchronously, so a server in the test process can respond to the script's requests.
 */
export async function runStepScript(
  script: string,
  env: Record<string, string>,
): Promise<ProcessResult> {
  const scriptDirectory = mkdtempSync(path.join(tmpdir(), "step-"));
  const scriptFile = path.join(scriptDirectory, "step.sh");
  writeFileSync(scriptFile, script);
  try {
    const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", scriptFile], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const status = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    return { status, stdout, stderr };
  } finally {
    rmSync(scriptDirectory, { recursive: true, force: true });
  }
}

export function temporaryDirectory(): string {
  return mkdtempSync(path.join(tmpdir(), "ops-test-"));
}
