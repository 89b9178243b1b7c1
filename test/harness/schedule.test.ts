// The prod stack's three rotations run once a day for 200 simulated days against the fake APIs,
// through the serialized providers, with every credential in use checked after every step.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";

import { parse } from "yaml";

import { StepRecord } from "./engine";
import {
  assertConverged,
  assertCredentialsInUseWork,
  assertNoOrphans,
  checkEveryStep,
} from "./invariants";
import { scheduleToleranceMinutes } from "../../components/rotation";
import { RotationSchedule, World } from "./world";

const campaignDays = 200;
const minuteMs = 60_000;
const dayMs = 24 * 60 * minuteMs;
const startMs = Date.parse("2026-01-05T05:17:00Z");

/** Rotation periods from Pulumi.prod.yaml, falling back to the program's defaults. */
function prodSchedule(): RotationSchedule {
  const file = path.resolve(__dirname, "..", "..", "Pulumi.prod.yaml");
  const settings = (parse(readFileSync(file, "utf8")).config ?? {}) as Record<string, unknown>;
  const days = (key: string, fallback: number) =>
    Number(settings[`anythingllm-secrets:${key}`] ?? fallback);
  return {
    openrouterDays: days("openrouterRotationDays", 7),
    jwtDays: days("jwtRotationDays", 90),
    clientSecretDays: days("clientSecretRotationDays", 30),
    toleranceMinutes: scheduleToleranceMinutes,
  };
}

/** Start delay of a scheduled run, 0 to 40 minutes, as a cron schedule starts late by varying amounts. */
function startDelayMs(day: number): number {
  return ((day * 7919) % 41) * minuteMs;
}

function changed(steps: StepRecord[]): StepRecord[] {
  return steps.filter((step) => !["refresh", "same"].includes(step.kind));
}

interface CampaignResult {
  rotations: Record<"openrouter" | "jwt" | "clientSecret", number[]>;
  failedRuns: string[];
  violations: string[];
  convergence: string[];
  rerunChanges: string[];
  rotationRunCalls: number[];
  idleRunCalls: number[];
  idleRunLogins: number[];
}

describe("scheduled runs over 200 days", function () {
  this.timeout(10 * 60_000);
  const schedule = prodSchedule();
  let world: World;
  let result: CampaignResult;

  before(async () => {
    world = await World.start(schedule, startMs);
    result = {
      rotations: { openrouter: [], jwt: [], clientSecret: [] },
      failedRuns: [],
      violations: [],
      convergence: [],
      rerunChanges: [],
      rotationRunCalls: [],
      idleRunCalls: [],
      idleRunLogins: [],
    };
    let active = false;
    checkEveryStep(world, () => active, result.violations);

    for (let day = 0; day <= campaignDays; day += 1) {
      const runStartMs = startMs + day * dayMs + startDelayMs(day);
      world.advance(runStartMs - world.clock.now());

      const before = world.requestCount();
      const run = await world.up();
      if (!run.ok) {
        result.failedRuns.push(`day ${day}: ${run.error}`);
        continue;
      }
      try {
        assertConverged(world);
      } catch (error) {
        result.convergence.push(`day ${day}: ${(error as Error).message}`);
      }
      active = true;

      const replaced = (urn: string) =>
        run.steps.some((step) => step.urn === urn && step.kind === "replace");
      if (replaced("openrouter-key")) result.rotations.openrouter.push(day);
      if (replaced("jwt-bytes")) result.rotations.jwt.push(day);
      if (replaced("client-secret")) result.rotations.clientSecret.push(day);
      if (changed(run.steps).length > 0 && day > 0) {
        result.rotationRunCalls.push(world.requestCount() - before);

        world.advance(minuteMs);
        const loginsBefore = countLogins(world);
        const rerunStart = world.requestCount();
        const rerun = await world.up();
        const rerunChanged = changed(rerun.steps);
        if (!rerun.ok || rerunChanged.length > 0) {
          result.rerunChanges.push(
            `day ${day}: ${rerun.error ?? rerunChanged.map((s) => `${s.kind} ${s.urn}`).join(", ")}`,
          );
        }
        result.idleRunCalls.push(world.requestCount() - rerunStart);
        result.idleRunLogins.push(countLogins(world) - loginsBefore);
      }

      await world.cluster.sync();
      assertCredentialsInUseWork(world);
    }
  });

  after(async () => {
    await world?.stop();
  });

  it("completes every scheduled run", () => {
    assert.deepStrictEqual(result.failedRuns, []);
  });

  it("keeps every credential in use working", () => {
    assert.deepStrictEqual(result.violations.slice(0, 5), []);
  });

  it("leaves one live credential of each kind", () => {
    assert.deepStrictEqual(result.convergence.slice(0, 5), []);
  });

  it("rotates the OpenRouter key when due", () => {
    const expected = dueDays(schedule.openrouterDays);
    assert.deepStrictEqual(result.rotations.openrouter, expected);
  });

  it("rotates the JWT secret when due", () => {
    assert.deepStrictEqual(result.rotations.jwt, dueDays(schedule.jwtDays));
  });

  it("rotates the client secret when due", () => {
    assert.deepStrictEqual(result.rotations.clientSecret, dueDays(schedule.clientSecretDays));
  });

  it("changes nothing on a run right after a rotation", () => {
    assert.deepStrictEqual(result.rerunChanges, []);
  });

  it("logs in to Infisical at most once when nothing is due", () => {
    assert.ok(result.idleRunLogins.length > 0, "no run without a due rotation was measured");
    assert.ok(Math.max(...result.idleRunLogins) <= 1, `logins: ${result.idleRunLogins}`);
  });

  it("leaves no orphaned credential", () => {
    assertNoOrphans(world);
  });

  it("records a gate hold for every hand-off", () => {
    const handOffs = result.rotations.openrouter.length + result.rotations.clientSecret.length + 2;

    assert.equal(world.holds.length, handOffs);
    assert.ok(world.holds.every((hold) => hold.gateSeconds <= 60 + 10));
  });

  it("measures the API calls of a rotation run", () => {
    assert.ok(result.rotationRunCalls.length > 0);
    assert.ok(result.idleRunCalls.every((calls) => calls > 0));
    // Written for the benchmark script, only when ANYTHINGLLM_BENCHMARK_OUT names a file.
    if (process.env.ANYTHINGLLM_BENCHMARK_OUT) {
      require("node:fs").writeFileSync(
        process.env.ANYTHINGLLM_BENCHMARK_OUT,
        JSON.stringify({
          rotationRunCalls: result.rotationRunCalls,
          idleRunCalls: result.idleRunCalls,
          gateHoldSeconds: world.holds.map((hold) => hold.gateSeconds),
          fixedWaitSeconds: world.holds.map((hold) => hold.fixedWaitSeconds),
        }),
      );
    }
  });
});

/** Days of the campaign on which a rotation with the given period is due. */
function dueDays(periodDays: number): number[] {
  const days: number[] = [];
  for (let day = periodDays; day <= campaignDays; day += periodDays) {
    days.push(day);
  }
  return days;
}

function countLogins(world: World): number {
  return world.infisical.requests.filter(
    (request) => request.path === "/api/v1/auth/universal-auth/login",
  ).length;
}
