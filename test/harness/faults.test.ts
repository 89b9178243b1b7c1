// For every API call of a run that rotates all three credentials, one run where that call fails,
// then a normal run: the credentials in use keep working, and the normal run converges with no
// orphaned key or client secret.
import assert from "node:assert/strict";

import { FaultRule, RecordedRequest } from "../fakes/faults";
import {
  assertConverged,
  assertCredentialsInUseWork,
  assertNoOrphans,
  checkEveryStep,
} from "./invariants";
import { scheduleToleranceMinutes } from "../../components/rotation";
import { RotationSchedule, World } from "./world";

/** Periods chosen so that one jump of 30 days makes all three credentials due at once. */
const schedule: RotationSchedule = {
  openrouterDays: 7,
  jwtDays: 30,
  clientSecretDays: 30,
  toleranceMinutes: scheduleToleranceMinutes,
};
const startMs = Date.parse("2026-01-05T05:17:00Z");
const dayMs = 24 * 60 * 60 * 1000;

type Service = "openrouter" | "infisical";

/** One API call of the rotation run: which service, and the n-th request matching its pattern. */
interface Call {
  service: Service;
  method: string;
  pattern: RegExp;
  occurrence: number;
  label: string;
}

/** The faults played on each call. */
const faults: Record<string, Omit<FaultRule, "method" | "path" | "skip">> = {
  "server error": { status: 503, times: Infinity },
  "rate limited": { status: 429, headers: { "retry-after": "0" }, times: Infinity },
  "connection reset": { resetConnection: true, times: Infinity },
  "lost response": { afterProcessing: true, hang: true },
};

/** Replaces ids in a path (64-hex hashes, UUIDs) so the pattern matches the same call in another run. */
function patternOf(path: string): RegExp {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const generic = escaped
    .replace(/[0-9a-f]{64}/g, "[0-9a-f]{64}")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "[0-9a-f-]{36}");
  return new RegExp(`^${generic}$`);
}

function callsOf(service: Service, requests: RecordedRequest[]): Call[] {
  const seen = new Map<string, number>();
  return requests.map((request) => {
    const pattern = patternOf(request.path);
    const key = `${request.method} ${pattern.source}`;
    const occurrence = seen.get(key) ?? 0;
    seen.set(key, occurrence + 1);
    return {
      service,
      method: request.method,
      pattern,
      occurrence,
      label: `${service} ${request.method} ${request.path} #${occurrence + 1}`,
    };
  });
}

/** Starts a world and brings it to the day on which all three credentials are due. */
async function worldAtFullRotation(violations: string[]): Promise<World> {
  const world = await World.start(schedule, startMs);
  let active = false;
  checkEveryStep(world, () => active, violations);
  const first = await world.up();
  assert.ok(first.ok, `first run failed: ${first.error}`);
  active = true;
  world.advance(schedule.jwtDays * dayMs);
  await world.cluster.sync();
  return world;
}

interface ScenarioOutcome {
  label: string;
  faultRunFailed: boolean;
  problems: string[];
}

async function playScenario(call: Call, faultName: string): Promise<ScenarioOutcome> {
  const label = `${faultName} on ${call.label}`;
  const problems: string[] = [];
  const world = await worldAtFullRotation(problems);
  try {
    const fake = call.service === "openrouter" ? world.openrouter : world.infisical;
    fake.fail({
      ...faults[faultName],
      method: call.method,
      path: call.pattern,
      skip: call.occurrence,
    });
    const faultRun = await world.up();
    fake.clearFaults();

    await world.cluster.sync();
    world.advance(60_000);
    const normalRun = await world.up();
    if (!normalRun.ok) {
      problems.push(`the normal run failed: ${normalRun.error}`);
    } else {
      for (const check of [assertConverged, assertNoOrphans, assertCredentialsInUseWork]) {
        try {
          check(world);
        } catch (error) {
          problems.push((error as Error).message);
        }
      }
    }
    return { label, faultRunFailed: !faultRun.ok, problems };
  } finally {
    await world.stop();
  }
}

describe("rotation run under faults", function () {
  this.timeout(20 * 60_000);
  let calls: Call[] = [];
  const outcomes: ScenarioOutcome[] = [];

  before(async () => {
    const baseline = await worldAtFullRotation([]);
    try {
      const openrouterStart = baseline.openrouter.requests.length;
      const infisicalStart = baseline.infisical.requests.length;
      const run = await baseline.up();
      assert.ok(run.ok, `baseline rotation run failed: ${run.error}`);
      calls = [
        ...callsOf("openrouter", baseline.openrouter.requests.slice(openrouterStart)),
        ...callsOf("infisical", baseline.infisical.requests.slice(infisicalStart)),
      ];
    } finally {
      await baseline.stop();
    }

    for (const call of calls) {
      for (const faultName of Object.keys(faults)) {
        outcomes.push(await playScenario(call, faultName));
      }
    }
  });

  it("covers every API call of the rotation run", () => {
    assert.ok(calls.length >= 12, `only ${calls.length} calls recorded`);
    assert.strictEqual(outcomes.length, calls.length * Object.keys(faults).length);
  });

  it("makes the run fail for faults that outlast the retries", () => {
    const failed = outcomes.filter((outcome) => outcome.faultRunFailed);
    assert.ok(failed.length > 0, "no fault made a run fail, so the faults did not take effect");
  });

  it("keeps credentials working and converges after every fault", () => {
    const broken = outcomes
      .filter((outcome) => outcome.problems.length > 0)
      .map((outcome) => `${outcome.label}: ${outcome.problems.join("; ")}`);
    assert.deepStrictEqual(broken, []);
  });
});
