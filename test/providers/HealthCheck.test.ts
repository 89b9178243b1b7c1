import assert from "node:assert/strict";
import * as http from "node:http";
import { AddressInfo } from "node:net";

import { diffHealthCheck, healthCheckProvider } from "../../providers/HealthCheck";
import { rejectionOf } from "../support/placeholders";
import { SerializedProvider, startSerializedProvider } from "../support/serializedProvider";

interface HealthServer {
  url: string;
  statuses: number[];
  requests: number;
  close(): Promise<void>;
}

/** Responds to each request with the next status of `statuses`, repeating the last one. */
async function startHealthServer(statuses: number[]): Promise<HealthServer> {
  const state = { statuses, requests: 0 };
  const server = http.createServer((_req, res) => {
    const status = state.statuses[Math.min(state.requests, state.statuses.length - 1)];
    state.requests += 1;
    res.writeHead(status, { "content-type": "text/html" });
    res.end("<html>body-PLACEHOLDER</html>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/ping`,
    statuses,
    get requests() {
      return state.requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("HealthCheck", () => {
  let provider: SerializedProvider;
  let server: HealthServer | undefined;

  before(async () => {
    provider = await startSerializedProvider(healthCheckProvider, {
      env: { ANYTHINGLLM_HEALTH_POLL_MS: "20", ANYTHINGLLM_HTTP_TIMEOUT_MS: "1000" },
    });
  });

  after(async () => {
    await provider.close();
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function create(url: string, timeoutSeconds = 5) {
    const checked = await provider.call(
      "check",
      {},
      { url, trigger: "digest-new", timeoutSeconds },
    );
    assert.deepEqual(checked.failures, []);
    return provider.call("create", checked.inputs);
  }

  it("passes on the first 2xx answer", async () => {
    server = await startHealthServer([204]);

    const result = await create(server.url);

    assert.equal(result.outs.status, 204);
    assert.equal(result.outs.attempts, 1);
  });

  it("waits through answers that are not 2xx", async () => {
    server = await startHealthServer([503, 502, 200]);

    const result = await create(server.url);

    assert.equal(result.outs.status, 200);
    assert.equal(result.outs.attempts, 3);
    assert.equal(server.requests, 3);
  });

  it("fails with the last status after the timeout", async () => {
    server = await startHealthServer([503]);

    const error = await rejectionOf(create(`${server.url}?token=query-PLACEHOLDER`, 1));

    assert.match(error.message, /health check failed/);
    assert.match(error.message, /last: status 503/);
    assert.ok(error.message.includes(server.url), error.message);
    assert.ok(!error.message.includes("query-PLACEHOLDER"), "the query string leaked");
    assert.ok(!error.message.includes("body-PLACEHOLDER"), "the response body leaked");
  });

  it("fails when nothing listens", async () => {
    server = await startHealthServer([200]);
    const url = server.url;
    await server.close();
    server = undefined;

    const error = await rejectionOf(create(url, 1));

    assert.match(error.message, /last: ECONNREFUSED/);
  });

  it("rejects a URL that is not http", async () => {
    const checked = await provider.call("check", {}, { url: "ftp://x", trigger: "t" });

    assert.equal(checked.failures.length, 1);
    assert.equal(checked.failures[0].property, "url");
  });

  describe("diff", () => {
    const olds = { url: "https://a/ping", trigger: "t1", timeoutSeconds: 300, __provider: "old" };

    it("replaces on a new trigger", () => {
      const diff = diffHealthCheck(olds, { ...olds, trigger: "t2", __provider: "new" });

      assert.deepEqual(diff.replaces, ["trigger"]);
    });

    it("ignores a changed provider text", () => {
      const diff = diffHealthCheck(olds, { ...olds, __provider: "new" });

      assert.equal(diff.changes, false);
    });

    it("updates a new timeout in place", () => {
      const diff = diffHealthCheck(olds, { ...olds, timeoutSeconds: 60 });

      assert.equal(diff.changes, true);
      assert.deepEqual(diff.replaces, []);
    });
  });
});
