import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { IncomingMessage, Server, createServer } from "node:http";
import { AddressInfo } from "node:net";
import * as path from "node:path";

import {
  loadWorkflow,
  onlyJob,
  rotationFixtures,
  runStepScript,
  stepNamed,
  temporaryDirectory,
} from "./support";

const kubeconfigPlaceholder = [
  "apiVersion: v1",
  "kind: Config",
  "users:",
  "  - name: ci",
  "    user:",
  "      token: kube-PLACEHOLDER-token",
].join("\n");

const runUrl = "https://github.example.test/acme/anythingllm-secrets/actions/runs/42";

interface ReceivedRequest {
  method?: string;
  url?: string;
  contentType?: string;
  body: string;
}

/** Starts an HTTP server on 127.0.0.1 that records requests and responds with `status`. */
async function startWebhook(status: number) {
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((request: IncomingMessage, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      received.push({
        method: request.method,
        url: request.url,
        contentType: request.headers["content-type"],
        body,
      });
      response.writeHead(status, { "Content-Type": "text/plain" });
      response.end(status < 300 ? "ok" : "not found");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/webhook-PLACEHOLDER`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

for (const file of ["preview.yml", "rotate.yml"]) {
  describe(`${file} kubeconfig step`, () => {
    const step = stepNamed(onlyJob(loadWorkflow(file)).steps, "Write kubeconfig");
    let runnerTemp: string;

    beforeEach(() => {
      runnerTemp = temporaryDirectory();
    });

    afterEach(() => {
      rmSync(runnerTemp, { recursive: true, force: true });
    });

    it("writes a private kubeconfig", async () => {
      const githubEnv = path.join(runnerTemp, "github-env");
      writeFileSync(githubEnv, "");

      const result = await runStepScript(step.run ?? "", {
        KUBECONFIG_CONTENT: kubeconfigPlaceholder,
        RUNNER_TEMP: runnerTemp,
        GITHUB_ENV: githubEnv,
      });
      const kubeconfig = path.join(runnerTemp, "kubeconfig");

      assert.equal(result.status, 0, result.stderr);
      assert.equal(statSync(kubeconfig).mode & 0o777, 0o600);
      assert.equal(readFileSync(kubeconfig, "utf8"), `${kubeconfigPlaceholder}\n`);
      assert.equal(readFileSync(githubEnv, "utf8"), `KUBECONFIG=${kubeconfig}\n`);
      assert.doesNotMatch(result.stdout + result.stderr, /PLACEHOLDER/);
    });
  });
}

describe("rotate.yml report step", () => {
  const step = stepNamed(onlyJob(loadWorkflow("rotate.yml")).steps, "Compare rotation outputs");
  let runnerTemp: string;
  let githubOutput: string;

  beforeEach(() => {
    runnerTemp = temporaryDirectory();
    githubOutput = path.join(runnerTemp, "github-output");
    writeFileSync(githubOutput, "");
  });

  afterEach(() => {
    rmSync(runnerTemp, { recursive: true, force: true });
  });

  async function runReport(before: string, after: string, outcome: string) {
    copyFileSync(path.join(rotationFixtures, before), path.join(runnerTemp, "outputs-before.json"));
    copyFileSync(path.join(rotationFixtures, after), path.join(runnerTemp, "outputs-after.json"));
    return runStepScript(step.run ?? "", {
      RUNNER_TEMP: runnerTemp,
      GITHUB_OUTPUT: githubOutput,
      UP_OUTCOME: outcome,
      RUN_URL: runUrl,
    });
  }

  it("flags a rotation", async () => {
    const result = await runReport("on-time.json", "rotated.json", "success");
    const payload = JSON.parse(readFileSync(path.join(runnerTemp, "notification.json"), "utf8"));

    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(githubOutput, "utf8"), "rotated=true\nnotify=true\n");
    assert.match(payload.text, /openrouterApiKey rotated/);
    assert.match(payload.text, /operatorClientSecret rotated/);
    assert.match(payload.text, new RegExp(runUrl));
  });

  it("stays quiet without a change", async () => {
    const result = await runReport("on-time.json", "on-time.json", "success");

    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(githubOutput, "utf8"), "rotated=false\nnotify=false\n");
    assert.equal(existsSync(path.join(runnerTemp, "notification.json")), false);
  });

  it("flags a failed update", async () => {
    const result = await runReport("on-time.json", "on-time.json", "failure");
    const payload = JSON.parse(readFileSync(path.join(runnerTemp, "notification.json"), "utf8"));

    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(githubOutput, "utf8"), "rotated=false\nnotify=true\n");
    assert.match(payload.text, /failed/);
  });
});

describe("rotate.yml notify step", () => {
  const step = stepNamed(onlyJob(loadWorkflow("rotate.yml")).steps, "Notify chat");
  const curlMissing = spawnSync("curl", ["--version"]).status !== 0;
  let runnerTemp: string;

  beforeEach(function () {
    if (curlMissing) {
      this.skip();
    }
    runnerTemp = temporaryDirectory();
  });

  afterEach(() => {
    if (runnerTemp !== undefined) {
      rmSync(runnerTemp, { recursive: true, force: true });
    }
  });

  it("posts the report message", async () => {
    const webhook = await startWebhook(200);
    const message = JSON.stringify({ text: "prod: openrouterApiKey rotated" }) + "\n";
    writeFileSync(path.join(runnerTemp, "notification.json"), message);

    try {
      const result = await runStepScript(step.run ?? "", {
        RUNNER_TEMP: runnerTemp,
        ROTATION_WEBHOOK_URL: webhook.url,
        RUN_URL: runUrl,
      });

      assert.equal(result.status, 0, result.stderr);
      assert.equal(webhook.received.length, 1);
      assert.equal(webhook.received[0].method, "POST");
      assert.equal(webhook.received[0].contentType, "application/json");
      assert.deepEqual(JSON.parse(webhook.received[0].body), JSON.parse(message));
    } finally {
      await webhook.close();
    }
  });

  it("posts a failure without a report", async () => {
    const webhook = await startWebhook(200);

    try {
      const result = await runStepScript(step.run ?? "", {
        RUNNER_TEMP: runnerTemp,
        ROTATION_WEBHOOK_URL: webhook.url,
        RUN_URL: runUrl,
      });
      const body = JSON.parse(webhook.received[0]?.body ?? "null");

      assert.equal(result.status, 0, result.stderr);
      assert.equal(webhook.received.length, 1);
      assert.match(body.text, /credential rotation run failed/);
      assert.match(body.text, new RegExp(runUrl));
    } finally {
      await webhook.close();
    }
  });

  it("warns when no webhook is set", async () => {
    const result = await runStepScript(step.run ?? "", {
      RUNNER_TEMP: runnerTemp,
      ROTATION_WEBHOOK_URL: "",
      RUN_URL: runUrl,
    });

    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /::warning::.*ROTATION_WEBHOOK_URL/);
  });

  it("fails on a rejected post", async () => {
    const webhook = await startWebhook(404);

    try {
      const result = await runStepScript(step.run ?? "", {
        RUNNER_TEMP: runnerTemp,
        ROTATION_WEBHOOK_URL: webhook.url,
        RUN_URL: runUrl,
      });

      assert.notEqual(result.status, 0);
      assert.doesNotMatch(result.stdout + result.stderr, /webhook-PLACEHOLDER/);
    } finally {
      await webhook.close();
    }
  });
});
