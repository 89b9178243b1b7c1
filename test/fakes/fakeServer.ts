import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";

import { FakeClock, FaultRule, FaultScript, RecordedRequest, parseJson } from "./faults";

/** A request as passed to a fake's handler. */
export interface FakeRequest {
  method: string;
  /** URL path without the query string, as sent (not decoded). */
  path: string;
  /** Path and query string exactly as sent. */
  url: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** Body text, "" when there is none. */
  rawBody: string;
}

/** A response produced by a fake's handler or by a fault rule. */
export interface FakeResponse {
  status: number;
  /** A string is sent as it is, anything else as JSON; undefined sends no body. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Default: `application/json; charset=utf-8` for JSON, `text/plain; charset=utf-8` for text. */
  contentType?: string;
}

/** What a fake supplies to {@link startFakeServer}. */
export interface FakeServerOptions {
  /** Handles a request no fault rule intercepted, synchronously so that state stays ordered. */
  handle(request: FakeRequest): FakeResponse;
  /** Standard error body of the API for a fault rule that gives a status but no body. */
  faultBody(status: number, headers: Record<string, string>): unknown;
  clock: FakeClock;
  /** Suffix of the `url` the fake reports, e.g. "/api/v1". Default "". */
  basePath?: string;
}

/** Members every fake server shares. */
export interface FakeServer {
  /** Base URL of the fake on 127.0.0.1. */
  readonly url: string;
  /** Every request received, in arrival order, including faulted ones. */
  readonly requests: RecordedRequest[];
  readonly script: FaultScript;
  readonly clock: FakeClock;
  /** Registers a fault rule after those already registered. */
  fail(rule: FaultRule): void;
  /** Removes every fault rule. */
  clearFaults(): void;
  /** Stops listening and ends open connections, hanging ones included. */
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1 with an OS-chosen port that records, faults and handles. */
export async function startFakeServer(options: FakeServerOptions): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const script = new FaultScript();
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    // Clients that measure expiry by the server's time read it from this header.
    res.setHeader("date", new Date(options.clock.now()).toUTCString());
    void serveRequest(req, res, options, script, requests);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${options.basePath ?? ""}`,
    requests,
    script,
    clock: options.clock,
    fail: (rule) => script.add(rule),
    clearFaults: () => script.clear(),
    close: () => closeServer(server, sockets),
  };
}

async function closeServer(server: http.Server, sockets: Set<Socket>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of sockets) {
    socket.destroy();
  }
  await closed;
}

async function serveRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  options: FakeServerOptions,
  script: FaultScript,
  requests: RecordedRequest[],
): Promise<void> {
  let rawBody: string;
  try {
    rawBody = await readBody(req);
  } catch {
    // The client aborted while sending, so no response can be delivered.
    return;
  }
  const request = toFakeRequest(req, rawBody);
  const record = recordRequest(request);
  requests.push(record);

  const rule = script.take(request.method, request.path);
  if (rule?.delayMs !== undefined && rule.delayMs > 0) {
    await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
  }

  if (rule === undefined || isPassThrough(rule)) {
    send(res, record, handleSafely(options, request));
    return;
  }
  if (rule.afterProcessing === true) {
    handleSafely(options, request);
  }
  if (rule.status !== undefined || rule.body !== undefined) {
    send(res, record, faultResponse(rule, options));
  } else if (rule.hang === true) {
    // The response is never ended; close() destroys the socket.
  } else {
    req.socket.destroy();
  }
}

/** Returns whether the rule only delays, so the real handler responds afterwards. */
function isPassThrough(rule: FaultRule): boolean {
  const acts =
    rule.status !== undefined ||
    rule.body !== undefined ||
    rule.resetConnection === true ||
    rule.hang === true ||
    rule.afterProcessing === true;
  return !acts;
}

function faultResponse(rule: FaultRule, options: FakeServerOptions): FakeResponse {
  const status = rule.status ?? 200;
  const headers = rule.headers ?? {};
  const body = rule.body !== undefined ? rule.body : options.faultBody(status, headers);
  return { status, body, headers, contentType: rule.contentType };
}

function handleSafely(options: FakeServerOptions, request: FakeRequest): FakeResponse {
  try {
    return options.handle(request);
  } catch (error) {
    // A throw here is a defect of the fake itself; the text makes it visible in the failing test.
    const message = error instanceof Error ? error.message : String(error);
    return { status: 500, body: `fake server defect: ${message}` };
  }
}

function send(res: http.ServerResponse, record: RecordedRequest, response: FakeResponse): void {
  const headers: Record<string, string> = { ...(response.headers ?? {}) };
  let payload = "";
  if (response.body !== undefined) {
    const isText = typeof response.body === "string";
    payload = isText ? (response.body as string) : JSON.stringify(response.body);
    const defaultType = isText ? "text/plain; charset=utf-8" : "application/json; charset=utf-8";
    headers["content-type"] = response.contentType ?? defaultType;
  }
  headers["content-length"] = String(Buffer.byteLength(payload));
  record.status = response.status;
  res.writeHead(response.status, headers);
  res.end(payload);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function toFakeRequest(req: http.IncomingMessage, rawBody: string): FakeRequest {
  const url = req.url ?? "/";
  const queryStart = url.indexOf("?");
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const query = new URLSearchParams(queryStart === -1 ? "" : url.slice(queryStart + 1));
  return { method: req.method ?? "GET", path, url, query, headers: req.headers, rawBody };
}

function recordRequest(request: FakeRequest): RecordedRequest {
  const parsed = parseJson(request.rawBody);
  let body: unknown = undefined;
  if (parsed.ok) {
    body = parsed.value;
  } else if (request.rawBody.length > 0) {
    body = request.rawBody;
  }
  return {
    method: request.method,
    path: request.path,
    query: Object.fromEntries(request.query),
    headers: { ...request.headers },
    body,
  };
}
