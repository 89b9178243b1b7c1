// A server that sends its body one byte at a time never leaves the socket idle, so only a limit on
// the whole request ends it. Without one a run hangs for as long as the server keeps sending.
import assert from "node:assert/strict";
import * as http from "node:http";
import { AddressInfo } from "node:net";

import { healthCheckProvider } from "../../providers/HealthCheck";
import { openRouterKeyProvider } from "../../providers/OpenRouterKey";
import { providerConfig, rejectionOf } from "../support/placeholders";
import { startSerializedProvider } from "../support/serializedProvider";

interface DripServer {
  url: string;
  close(): Promise<void>;
}

/** Responds to every request with 200 and a JSON body that grows by one space every 100 ms. */
async function startDripServer(): Promise<DripServer> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    const timer = setInterval(() => res.write(" "), 100);
    res.on("close", () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("slow response bodies", () => {
  let server: DripServer;

  beforeEach(async () => {
    server = await startDripServer();
  });

  afterEach(async () => {
    await server.close();
  });

  it("time out an API request", async () => {
    const provider = await startSerializedProvider(openRouterKeyProvider, {
      config: providerConfig,
      env: { ANYTHINGLLM_HTTP_TIMEOUT_MS: "500", ANYTHINGLLM_HTTP_RETRY_BASE_MS: "10" },
    });
    try {
      const started = Date.now();

      const error = await rejectionOf(
        provider.call("create", {
          apiUrl: `${server.url}/api/v1`,
          namePrefix: "anythingllm-test-openrouter",
          rotationTrigger: "2026-01-05T05:17:00Z",
        }),
      );

      assert.match(error.message, /timeout after 500 ms/);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    } finally {
      await provider.close();
    }
  });

  it("time out a health check request", async () => {
    const provider = await startSerializedProvider(healthCheckProvider, {
      env: { ANYTHINGLLM_HTTP_TIMEOUT_MS: "500", ANYTHINGLLM_HEALTH_POLL_MS: "50" },
    });
    try {
      const started = Date.now();

      const error = await rejectionOf(
        provider.call("create", { url: `${server.url}/api/ping`, trigger: "t", timeoutSeconds: 1 }),
      );

      assert.match(error.message, /last: a timeout/);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    } finally {
      await provider.close();
    }
  });
});
