import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import * as path from "node:path";

import {
  Workflow,
  WorkflowStep,
  loadWorkflow,
  onlyJob,
  repoRoot,
  stepNamed,
  stringValues,
} from "./support";

// Inputs of pulumi/actions v6, from its action.yml.
const pulumiActionInputs = new Set([
  "command",
  "stack-name",
  "pulumi-version",
  "pulumi-version-file",
  "work-dir",
  "comment-on-pr",
  "comment-on-pr-number",
  "comment-on-summary",
  "github-token",
  "cloud-url",
  "secrets-provider",
  "parallel",
  "message",
  "config-map",
  "expect-no-changes",
  "diff",
  "replace",
  "target",
  "target-dependents",
  "policyPacks",
  "policyPackConfigs",
  "refresh",
  "upsert",
  "remove",
  "edit-pr-comment",
  "color",
  "exclude-protected",
  "plan",
  "suppress-outputs",
  "suppress-progress",
  "always-include-summary",
]);

const programCredentials = [
  "OPENROUTER_MANAGEMENT_KEY",
  "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID",
  "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
];

const secretReference = /^\$\{\{ secrets\.([A-Z0-9_]+) \}\}$/;

function pulumiSteps(steps: WorkflowStep[]): WorkflowStep[] {
  return steps.filter((step) => step.uses?.startsWith("pulumi/actions@"));
}

function commandStep(steps: WorkflowStep[], command: string): WorkflowStep {
  const step = pulumiSteps(steps).find((candidate) => candidate.with?.command === command);
  assert.ok(step, `no pulumi/actions step runs ${command}`);
  return step;
}

/** Environment variables set from a repository secret, in the job and in the given step. */
function secretVariables(workflow: Workflow, step: WorkflowStep): string[] {
  const env = { ...onlyJob(workflow).env, ...step.env };
  return Object.entries(env)
    .filter(([, value]) => typeof value === "string" && value.includes("secrets."))
    .map(([name]) => name);
}

function indexOfStep(steps: WorkflowStep[], predicate: (step: WorkflowStep) => boolean): number {
  const index = steps.findIndex(predicate);
  assert.notEqual(index, -1, "step not found");
  return index;
}

for (const file of ["preview.yml", "rotate.yml"]) {
  describe(`${file} shared steps`, () => {
    const workflow = loadWorkflow(file);
    const job = onlyJob(workflow);

    it("sets up Node.js 22", () => {
      const setupNode = job.steps.find((step) => step.uses?.startsWith("actions/setup-node@"));

      assert.ok(setupNode, "no actions/setup-node step");
      assert.equal(String(setupNode.with?.["node-version"]), "22");
    });

    it("installs with npm ci before Pulumi runs", () => {
      const install = indexOfStep(job.steps, (step) => step.run?.trim() === "npm ci");
      const firstPulumi = indexOfStep(job.steps, (step) => pulumiSteps([step]).length === 1);

      assert.ok(install < firstPulumi);
    });

    it("uses pulumi/actions v6 with known inputs", () => {
      const steps = pulumiSteps(job.steps);

      assert.ok(steps.length > 0);
      for (const step of steps) {
        assert.equal(step.uses, "pulumi/actions@v6");
        for (const input of Object.keys(step.with ?? {})) {
          assert.ok(pulumiActionInputs.has(input), `unknown pulumi/actions input ${input}`);
        }
      }
    });

    it("reads secrets only into env", () => {
      for (const [at, value] of stringValues(workflow)) {
        if (!value.includes("secrets.")) {
          continue;
        }
        assert.match(value, secretReference, `${at} is more than a secret reference`);
        assert.match(at, /(^|\.)env\.[A-Z0-9_]+$/, `${at} is not an env entry`);
      }
    });

    it("passes the credentials to Pulumi", () => {
      const step = commandStep(job.steps, file === "preview.yml" ? "preview" : "up");
      const env = { ...job.env, ...step.env };

      assert.equal(env.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
      for (const name of programCredentials) {
        assert.equal(env[name], `\${{ secrets.${name} }}`, name);
      }
    });

    it("echoes no secret", () => {
      for (const step of job.steps) {
        const lines = (step.run ?? "").split("\n");
        for (const variable of secretVariables(workflow, step)) {
          const pattern = new RegExp(`\\$\\{?${variable}\\b`);
          const echoed = lines.filter((line) => /\becho\b/.test(line) && pattern.test(line));
          assert.deepEqual(echoed, [], `step "${step.name}" echoes ${variable}`);
        }
      }
    });

    it("writes the kubeconfig with umask 077", () => {
      const step = stepNamed(job.steps, "Write kubeconfig");
      const lines = (step.run ?? "").split("\n").map((line) => line.trim());
      const umask = lines.indexOf("umask 077");
      const write = lines.findIndex((line) => line.includes('"$KUBECONFIG_CONTENT" >'));

      assert.equal(step.env?.KUBECONFIG_CONTENT, "${{ secrets.KUBECONFIG }}");
      assert.notEqual(umask, -1, "no umask 077");
      assert.notEqual(write, -1, "kubeconfig content is not redirected to a file");
      assert.ok(umask < write, "umask is set after the file is written");
      assert.match(step.run ?? "", /KUBECONFIG=\$RUNNER_TEMP\/kubeconfig" >> "\$GITHUB_ENV"/);
    });
  });
}

describe("preview.yml", () => {
  const workflow = loadWorkflow("preview.yml");
  const job = onlyJob(workflow);

  it("runs on pull requests only", () => {
    assert.deepEqual(Object.keys(workflow.on), ["pull_request"]);
  });

  it("has least permissions", () => {
    assert.deepEqual(workflow.permissions, { contents: "read", "pull-requests": "write" });
  });

  it("previews prod with refresh", () => {
    const step = commandStep(job.steps, "preview");

    assert.equal(step.with?.["stack-name"], "prod");
    assert.equal(step.with?.refresh, true);
    assert.equal(step.with?.["comment-on-pr"], true);
  });

  it("runs no update", () => {
    const commands = pulumiSteps(job.steps).map((step) => step.with?.command);

    assert.deepEqual(commands, ["preview"]);
  });

  it("skips pull requests from forks", () => {
    assert.equal(job.if, "github.event.pull_request.head.repo.full_name == github.repository");
  });
});

describe("rotate.yml", () => {
  const workflow = loadWorkflow("rotate.yml");
  const job = onlyJob(workflow);

  it("runs daily and on demand", () => {
    const schedule = workflow.on.schedule as Array<{ cron: string }>;
    const fields = schedule[0].cron.split(" ");

    assert.equal(schedule.length, 1);
    assert.equal(fields.length, 5);
    assert.match(fields[0], /^\d{1,2}$/, "minute");
    assert.match(fields[1], /^\d{1,2}$/, "hour");
    assert.deepEqual(fields.slice(2), ["*", "*", "*"]);
    assert.ok("workflow_dispatch" in workflow.on);
    assert.deepEqual(Object.keys(workflow.on).sort(), ["schedule", "workflow_dispatch"]);
  });

  it("has least permissions", () => {
    assert.deepEqual(workflow.permissions, { contents: "read" });
  });

  it("never runs two updates at once", () => {
    assert.equal(workflow.concurrency?.group, "pulumi-prod");
    assert.equal(workflow.concurrency?.["cancel-in-progress"], false);
  });

  it("updates prod with refresh", () => {
    const step = commandStep(job.steps, "up");

    assert.equal(step.id, "up");
    assert.equal(step.with?.["stack-name"], "prod");
    assert.equal(step.with?.refresh, true);
  });

  it("saves outputs around the update", () => {
    const up = indexOfStep(job.steps, (step) => step.id === "up");
    const before = stepNamed(job.steps, "Save stack outputs before the run");
    const after = stepNamed(job.steps, "Save stack outputs after the run");

    assert.ok(job.steps.indexOf(before) < up);
    assert.ok(job.steps.indexOf(after) > up);
    assert.equal(after.if, "always()");
    assert.match(before.run ?? "", /pulumi stack output --stack prod --json/);
    assert.doesNotMatch(before.run ?? "", /--show-secrets/);
    assert.doesNotMatch(after.run ?? "", /--show-secrets/);
  });

  it("compares outputs with the report script", () => {
    const report = stepNamed(job.steps, "Compare rotation outputs");
    const script = (report.run ?? "").match(/scripts\/\S+\.ts/)?.[0];

    assert.equal(report.id, "report");
    assert.equal(report.if, "always()");
    assert.equal(report.env?.UP_OUTCOME, "${{ steps.up.outcome }}");
    assert.equal(script, "scripts/rotationReport.ts");
    assert.ok(existsSync(path.join(repoRoot, script)));
  });

  it("notifies on failure or rotation", () => {
    const notify = stepNamed(job.steps, "Notify chat");
    const report = indexOfStep(job.steps, (step) => step.id === "report");

    assert.ok(job.steps.indexOf(notify) > report);
    assert.equal(notify.if, "failure() || steps.report.outputs.notify == 'true'");
  });

  it("posts to the webhook secret", () => {
    const notify = stepNamed(job.steps, "Notify chat");

    assert.equal(notify.env?.ROTATION_WEBHOOK_URL, "${{ secrets.ROTATION_WEBHOOK_URL }}");
    assert.match(notify.run ?? "", /curl [^\n]*--fail/);
    assert.match(notify.run ?? "", /"\$ROTATION_WEBHOOK_URL"/);
    assert.match(notify.run ?? "", /--data "@\$message"/);
  });
});
