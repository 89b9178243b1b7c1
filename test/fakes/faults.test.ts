import * as assert from "node:assert";

import { FakeClock, FaultScript } from "./faults";
import { rejection, send } from "./httpClient";
import { OpenRouterFake, startOpenRouterFake } from "./openrouter";

const managementKey = "mgmt-PLACEHOLDER-123";
const auth = { authorization: `Bearer ${managementKey}` };

describe("fault rules", () => {
  let fake: OpenRouterFake;
  let keysPath: string;

  beforeEach(async () => {
    fake = await startOpenRouterFake({ managementKeys: [managementKey] });
    keysPath = new URL(`${fake.url}/keys`).pathname;
  });

  afterEach(async () => {
    await fake.close();
  });

  function createKey(timeoutMs?: number) {
    return send(`${fake.url}/keys`, {
      method: "POST",
      headers: auth,
      json: { name: "k" },
      timeoutMs,
    });
  }

  it("play out as a status sequence", async () => {
    fake.fail({ method: "POST", path: keysPath, status: 429, headers: { "retry-after": "1" } });
    fake.fail({ method: "POST", path: keysPath, status: 500 });

    const first = await createKey();
    const second = await createKey();
    const third = await createKey();

    assert.strictEqual(first.status, 429);
    assert.strictEqual(first.headers.get("retry-after"), "1");
    assert.deepStrictEqual(first.json, { error: { code: 429, message: "Rate limit exceeded" } });
    assert.strictEqual(second.status, 500);
    assert.deepStrictEqual(second.json, { error: { code: 500, message: "Internal Server Error" } });
    assert.strictEqual(third.status, 201);
    assert.strictEqual(fake.liveKeys().length, 1);
  });

  it("apply a rule the given number of times", async () => {
    fake.fail({ path: keysPath, status: 503, times: 2 });

    const statuses = [
      (await createKey()).status,
      (await createKey()).status,
      (await createKey()).status,
    ];

    assert.deepStrictEqual(statuses, [503, 503, 201]);
  });

  it("apply an Infinity rule until cleared", async () => {
    fake.fail({ path: keysPath, status: 429, times: Infinity });

    const before = [(await createKey()).status, (await createKey()).status];
    fake.clearFaults();
    const after = await createKey();

    assert.deepStrictEqual(before, [429, 429]);
    assert.strictEqual(after.status, 201);
    assert.deepStrictEqual(fake.script.pending(), []);
  });

  it("match the method when one is given", async () => {
    fake.fail({ method: "delete", path: /^\/api\/v1\/keys\//, status: 500 });

    const listed = await send(`${fake.url}/keys`, { headers: auth });

    assert.strictEqual(listed.status, 200);
    assert.strictEqual(fake.script.pending().length, 1);
  });

  it("match a path pattern", async () => {
    const { hash } = fake.addInferenceKey("old");
    fake.fail({ path: /^\/api\/v1\/keys\/[0-9a-f]{64}$/, status: 500 });

    const response = await send(`${fake.url}/keys/${hash}`, { method: "DELETE", headers: auth });

    assert.strictEqual(response.status, 500);
    assert.strictEqual(fake.liveKeys().length, 1);
  });

  it("send a non-JSON body", async () => {
    fake.fail({
      path: keysPath,
      status: 200,
      body: "<html>sign in</html>",
      contentType: "text/html",
    });

    const response = await createKey();

    assert.strictEqual(response.status, 200);
    assert.strictEqual(response.headers.get("content-type"), "text/html");
    assert.strictEqual(response.text, "<html>sign in</html>");
  });

  it("reset the connection without handling", async () => {
    fake.fail({ path: keysPath, resetConnection: true });

    const error = await rejection(createKey());

    assert.match(
      String((error as Error & { cause?: unknown }).cause ?? error),
      /socket|reset|closed/i,
    );
    assert.strictEqual(fake.allKeys().length, 0);
    assert.strictEqual(fake.requests[0].status, undefined);
  });

  it("hang until the client gives up", async () => {
    fake.fail({ path: keysPath, hang: true });

    const error = await rejection(createKey(200));

    assert.strictEqual(error.name, "TimeoutError");
    assert.strictEqual(fake.allKeys().length, 0);
  });

  it("delay and then respond normally", async () => {
    fake.fail({ path: keysPath, delayMs: 150 });
    const startedMs = Date.now();

    const response = await createKey();

    assert.ok(Date.now() - startedMs >= 140, "the response came before the delay");
    assert.strictEqual(response.status, 201);
  });

  it("reset after processing", async () => {
    fake.fail({ path: keysPath, afterProcessing: true });

    await rejection(createKey());

    assert.strictEqual(fake.liveKeys().length, 1);
  });

  it("hang after processing", async () => {
    fake.fail({ path: keysPath, afterProcessing: true, hang: true });

    const error = await rejection(createKey(200));

    assert.strictEqual(error.name, "TimeoutError");
    assert.strictEqual(fake.liveKeys().length, 1);
  });

  it("send a status after processing", async () => {
    fake.fail({ path: keysPath, afterProcessing: true, status: 502 });

    const response = await createKey();

    assert.strictEqual(response.status, 502);
    assert.strictEqual(fake.liveKeys().length, 1);
  });

  it("reject a rule with times below 1", () => {
    assert.throws(() => fake.fail({ path: keysPath, times: 0 }), RangeError);
  });
});

describe("request recording", () => {
  it("records method, path, query, headers, body and status", async () => {
    const fake = await startOpenRouterFake({ managementKeys: [managementKey] });
    try {
      await send(`${fake.url}/keys?include_disabled=true`, { headers: auth });
      await send(`${fake.url}/keys`, { method: "POST", headers: auth, json: { name: "rec" } });

      const [list, create] = fake.requests;
      assert.strictEqual(list.method, "GET");
      assert.strictEqual(list.path, "/api/v1/keys");
      assert.deepStrictEqual(list.query, { include_disabled: "true" });
      assert.strictEqual(list.headers.authorization, `Bearer ${managementKey}`);
      assert.strictEqual(list.body, undefined);
      assert.strictEqual(list.status, 200);
      assert.deepStrictEqual(create.body, { name: "rec" });
      assert.strictEqual(create.status, 201);
    } finally {
      await fake.close();
    }
  });

  it("keeps a body that is not JSON as text", async () => {
    const fake = await startOpenRouterFake({ managementKeys: [managementKey] });
    try {
      await send(`${fake.url}/keys`, { method: "POST", headers: auth, text: "name=rec" });

      assert.strictEqual(fake.requests[0].body, "name=rec");
      assert.strictEqual(fake.requests[0].status, 400);
    } finally {
      await fake.close();
    }
  });
});

describe("response Date header", () => {
  it("follows the fake clock", async () => {
    const clock = new FakeClock({ startMs: Date.parse("2026-01-05T05:17:00Z"), frozen: true });
    const fake = await startOpenRouterFake({ managementKeys: [managementKey], clock });
    try {
      clock.advance(60_000);

      const response = await send(`${fake.url}/keys`, { headers: auth });

      assert.strictEqual(response.headers.get("date"), "Mon, 05 Jan 2026 05:18:00 GMT");
    } finally {
      await fake.close();
    }
  });
});

describe("FaultScript", () => {
  it("lists pending rules in registration order", () => {
    const script = new FaultScript();
    script.add({ path: "/a", status: 500 });
    script.add({ path: "/b", status: 429, times: 2 });

    const taken = script.take("GET", "/b");

    assert.strictEqual(taken?.status, 429);
    assert.deepStrictEqual(
      script.pending().map((rule) => rule.path),
      ["/a", "/b"],
    );
    assert.strictEqual(script.take("GET", "/c"), undefined);
  });

  it("lets skipped matches through first", () => {
    const script = new FaultScript();
    script.add({ path: "/a", status: 503, skip: 2, times: 2 });

    const taken = [1, 2, 3, 4, 5].map(() => script.take("GET", "/a")?.status);

    assert.deepStrictEqual(taken, [undefined, undefined, 503, 503, undefined]);
  });
});

describe("FakeClock", () => {
  it("advances by the given milliseconds", () => {
    const clock = new FakeClock({ startMs: 1_000, frozen: true });

    clock.advance(86_400_000);

    assert.strictEqual(clock.now(), 86_401_000);
  });

  it("stays still when frozen", async () => {
    const clock = new FakeClock({ frozen: true });
    const before = clock.now();

    await new Promise((resolve) => setTimeout(resolve, 20));

    assert.strictEqual(clock.now(), before);
  });

  it("follows real time by default", async () => {
    const clock = new FakeClock();
    const before = clock.now();

    await new Promise((resolve) => setTimeout(resolve, 20));

    assert.ok(clock.now() - before >= 15, "the clock did not move with real time");
  });

  it("starts at real time by default", () => {
    const clock = new FakeClock();

    assert.ok(Math.abs(clock.now() - Date.now()) < 1_000);
  });

  it("rejects a negative advance", () => {
    const clock = new FakeClock();

    assert.throws(() => clock.advance(-1), RangeError);
  });
});
