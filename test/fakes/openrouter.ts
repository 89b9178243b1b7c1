/**
 * Fake of the OpenRouter key-management API (`/api/v1/keys*`, `/key`, `/credits`) on 127.0.0.1.
 *
 * It is as strict as the published OpenAPI document: exact Bearer auth, management keys only on
 * `/keys*` and `/credits`, schema-checked bodies, 201 on create, 404 for unknown or deleted hashes.
 */
import { STATUS_CODES } from "node:http";

import { FakeClock, isJsonContentType, parseJson } from "./faults";
import { FakeRequest, FakeResponse, FakeServer, startFakeServer } from "./fakeServer";
import {
  CreateKeyInput,
  KeyRecord,
  checkCreateBody,
  checkUpdateBody,
  defaultWorkspaceId,
  hashKey,
  isUuid,
  labelFor,
  mintKey,
  toCurrentKey,
  toKeyObject,
} from "./openrouterKeys";

export type { KeyRecord } from "./openrouterKeys";
export { defaultWorkspaceId, hashKey, labelFor } from "./openrouterKeys";

/** Settings of {@link startOpenRouterFake}. */
export interface OpenRouterFakeOptions {
  /** Management keys accepted on every route. Default: none; see `addManagementKey`. */
  managementKeys?: string[];
  /**
   * Number of first `GET /key` calls that a key made through `POST /keys` gets
   * 401 "No auth credentials found", as a key that has not propagated yet. Default 0.
   */
  freshKeyUnauthorizedCount?: number;
  /** Time source for timestamps and `expires_at`. Default: a clock that follows real time. */
  clock?: FakeClock;
}

/** A running OpenRouter fake; `url` is the API base ending in `/api/v1`. */
export interface OpenRouterFake extends FakeServer {
  /** Accepts `key` as a management key from now on. */
  addManagementKey(key: string): void;
  /** Stores an existing inference key, as if made earlier, and returns its key string and hash. */
  addInferenceKey(name?: string): { key: string; hash: string };
  /** Copies of the inference keys not deleted (disabled ones included), oldest first. */
  liveKeys(): KeyRecord[];
  /** Copies of every inference key ever stored, deleted ones included, oldest first. */
  allKeys(): KeyRecord[];
  /** Copy of the inference key with this hash, deleted or not. */
  findKey(hash: string): KeyRecord | undefined;
  /** Returns whether `key` would pass authentication now: a management key or a usable key. */
  isKeyAccepted(key: string): boolean;
}

const apiBasePath = "/api/v1";
const pageSize = 100;
const hashPattern = /^[0-9a-f]{64}$/;

/** Spec example messages of the standard error body, by status. */
const errorMessages: Record<number, string> = {
  400: "Invalid request parameters",
  401: "Missing Authentication header",
  403: "Only management keys can perform this operation",
  404: "Resource not found",
  429: "Rate limit exceeded",
  500: "Internal Server Error",
};

type Caller =
  | { kind: "management"; key: string }
  | { kind: "inference"; record: KeyRecord }
  | { kind: "rejected"; response: FakeResponse };

class OpenRouterState {
  readonly managementKeys = new Set<string>();
  readonly keys = new Map<string, KeyRecord>();
  private sequence = 0;

  constructor(
    readonly clock: FakeClock,
    readonly freshKeyUnauthorizedCount: number,
  ) {}

  createKey(input: CreateKeyInput, createdThroughApi: boolean): KeyRecord {
    const key = mintKey();
    const record: KeyRecord = {
      ...input,
      hash: hashKey(key),
      key,
      label: labelFor(key),
      disabled: false,
      deleted: false,
      usage: 0,
      createdAtMs: this.clock.now(),
      updatedAtMs: null,
      deletedAtMs: null,
      createdThroughApi,
      currentKeyCalls: 0,
      sequence: this.sequence++,
    };
    this.keys.set(record.hash, record);
    return record;
  }

  findLiveKey(hash: string): KeyRecord | undefined {
    const record = this.keys.get(hash);
    return record === undefined || record.deleted ? undefined : record;
  }

  // NOTE: the live 401 texts for unknown, disabled and expired keys are unverified; only
  // "Missing Authentication header" and "User not found" are documented or reported.
  authenticate(authorization: string | undefined): Caller {
    const token = authorization?.startsWith("Bearer ") ? authorization.slice(7) : "";
    if (token === "") {
      return { kind: "rejected", response: errorResponse(401, errorMessages[401]) };
    }
    if (this.managementKeys.has(token)) {
      return { kind: "management", key: token };
    }
    const record = this.findLiveKey(hashKey(token));
    if (record === undefined) {
      return { kind: "rejected", response: errorResponse(401, "User not found") };
    }
    if (record.disabled) {
      return { kind: "rejected", response: errorResponse(401, "Key is disabled") };
    }
    if (record.expiresAt !== null && Date.parse(record.expiresAt) <= this.clock.now()) {
      return { kind: "rejected", response: errorResponse(401, "Key has expired") };
    }
    return { kind: "inference", record };
  }
}

/** Starts the OpenRouter fake on 127.0.0.1 with an OS-chosen port. */
export async function startOpenRouterFake(
  options: OpenRouterFakeOptions = {},
): Promise<OpenRouterFake> {
  const clock = options.clock ?? new FakeClock();
  const state = new OpenRouterState(clock, options.freshKeyUnauthorizedCount ?? 0);
  for (const key of options.managementKeys ?? []) {
    state.managementKeys.add(key);
  }
  const server = await startFakeServer({
    handle: (request) => handleRequest(state, request),
    faultBody: (status) => errorBody(status, errorMessages[status] ?? STATUS_CODES[status] ?? ""),
    clock,
    basePath: apiBasePath,
  });
  const sortedCopies = () =>
    [...state.keys.values()].sort((a, b) => a.sequence - b.sequence).map((r) => ({ ...r }));

  return {
    ...server,
    addManagementKey: (key) => void state.managementKeys.add(key),
    addInferenceKey: (name = "existing key") => {
      const record = state.createKey(checkedDefaults(name), false);
      return { key: record.key, hash: record.hash };
    },
    liveKeys: () => sortedCopies().filter((record) => !record.deleted),
    allKeys: sortedCopies,
    findKey: (hash) => {
      const record = state.keys.get(hash);
      return record === undefined ? undefined : { ...record };
    },
    isKeyAccepted: (key) => state.authenticate(`Bearer ${key}`).kind !== "rejected",
  };
}

function checkedDefaults(name: string): CreateKeyInput {
  const check = checkCreateBody({ name });
  if (!check.ok) {
    throw new Error(`invalid key name for addInferenceKey: ${check.issues.join("; ")}`);
  }
  return check.value;
}

type Route =
  { name: "key" } | { name: "credits" } | { name: "keys" } | { name: "keyByHash"; hash: string };

function routeOf(path: string): Route | undefined {
  if (!path.startsWith(`${apiBasePath}/`)) {
    return undefined;
  }
  const relative = path.slice(apiBasePath.length).replace(/(.)\/$/, "$1");
  if (relative === "/key" || relative === "/auth/key") {
    return { name: "key" };
  }
  if (relative === "/credits") {
    return { name: "credits" };
  }
  if (relative === "/keys") {
    return { name: "keys" };
  }
  const match = /^\/keys\/([^/]+)$/.exec(relative);
  return match === null ? undefined : { name: "keyByHash", hash: match[1] };
}

const allowedMethods: Record<Route["name"], string[]> = {
  key: ["GET"],
  credits: ["GET"],
  keys: ["GET", "POST"],
  keyByHash: ["GET", "PATCH", "DELETE"],
};

function handleRequest(state: OpenRouterState, request: FakeRequest): FakeResponse {
  const route = routeOf(request.path);
  if (route === undefined || !allowedMethods[route.name].includes(request.method)) {
    // NOTE: the real response to an unknown route or method is unverified. The fake sends a
    // JSON 404.
    return errorResponse(404, "Not Found");
  }

  const caller = state.authenticate(request.headers.authorization);
  if (caller.kind === "rejected") {
    return caller.response;
  }
  if (route.name === "key") {
    return getCurrentKey(state, caller);
  }
  if (caller.kind !== "management") {
    return errorResponse(403, errorMessages[403]);
  }

  switch (route.name) {
    case "credits": {
      const totalUsage = [...state.keys.values()].reduce((sum, record) => sum + record.usage, 0);
      return { status: 200, body: { data: { total_credits: 100, total_usage: totalUsage } } };
    }
    case "keys":
      return request.method === "GET" ? listKeys(state, request) : createKey(state, request);
    case "keyByHash":
      return handleKeyByHash(state, route.hash, request);
  }
}

/** Serves GET, PATCH and DELETE of `/keys/{hash}`; anything but a live key's hash is unknown. */
function handleKeyByHash(state: OpenRouterState, hash: string, request: FakeRequest): FakeResponse {
  const record = hashPattern.test(hash) ? state.findLiveKey(hash) : undefined;
  if (record === undefined) {
    return errorResponse(404, errorMessages[404]);
  }
  if (request.method === "GET") {
    return { status: 200, body: { data: toKeyObject(record) } };
  }
  if (request.method === "PATCH") {
    return updateKey(state, record, request);
  }
  record.deleted = true;
  record.deletedAtMs = state.clock.now();
  return { status: 200, body: { deleted: true } };
}

function getCurrentKey(state: OpenRouterState, caller: Caller): FakeResponse {
  if (caller.kind === "management") {
    return { status: 200, body: { data: toCurrentKey(null, caller.key) } };
  }
  if (caller.kind !== "inference") {
    return errorResponse(401, errorMessages[401]);
  }
  const record = caller.record;
  record.currentKeyCalls += 1;
  const stillPropagating = record.currentKeyCalls <= state.freshKeyUnauthorizedCount;
  if (record.createdThroughApi && stillPropagating) {
    return errorResponse(401, "No auth credentials found");
  }
  return { status: 200, body: { data: toCurrentKey(record, record.key) } };
}

function listKeys(state: OpenRouterState, request: FakeRequest): FakeResponse {
  const includeDisabled = request.query.get("include_disabled");
  const offsetText = request.query.get("offset");
  const workspaceId = request.query.get("workspace_id");
  const issues: string[] = [];
  if (includeDisabled !== null && includeDisabled !== "true" && includeDisabled !== "false") {
    issues.push('`include_disabled` must be "true" or "false"');
  }
  if (offsetText !== null && !/^\d+$/.test(offsetText)) {
    issues.push("`offset` must be an integer >= 0");
  }
  if (workspaceId !== null && !isUuid(workspaceId)) {
    issues.push("`workspace_id` must be a UUID");
  }
  if (issues.length > 0) {
    return errorResponse(400, errorMessages[400], { issues });
  }

  const offset = offsetText === null ? 0 : Number(offsetText);
  const page = [...state.keys.values()]
    .filter((record) => !record.deleted)
    .filter((record) => record.workspaceId === (workspaceId ?? defaultWorkspaceId))
    .filter((record) => includeDisabled === "true" || !record.disabled)
    .sort((a, b) => b.sequence - a.sequence)
    .slice(offset, offset + pageSize);
  return { status: 200, body: { data: page.map(toKeyObject) } };
}

function createKey(state: OpenRouterState, request: FakeRequest): FakeResponse {
  const body = readJsonBody(request);
  if (!body.ok) {
    return body.response;
  }
  const check = checkCreateBody(body.value);
  if (!check.ok) {
    return errorResponse(400, errorMessages[400], { issues: check.issues });
  }
  const record = state.createKey(check.value, true);
  return { status: 201, body: { data: toKeyObject(record), key: record.key } };
}

function updateKey(state: OpenRouterState, record: KeyRecord, request: FakeRequest): FakeResponse {
  const body = readJsonBody(request);
  if (!body.ok) {
    return body.response;
  }
  const check = checkUpdateBody(body.value);
  if (!check.ok) {
    return errorResponse(400, errorMessages[400], { issues: check.issues });
  }
  Object.assign(record, check.value);
  record.updatedAtMs = state.clock.now();
  return { status: 200, body: { data: toKeyObject(record) } };
}

// NOTE: whether the real API parses a body sent without `Content-Type: application/json` is
// unverified. The fake requires the header because the OpenAPI document declares only that type.
function readJsonBody(
  request: FakeRequest,
): { ok: true; value: unknown } | { ok: false; response: FakeResponse } {
  if (!isJsonContentType(request.headers["content-type"])) {
    const issues = ["the body must be sent with Content-Type: application/json"];
    return { ok: false, response: errorResponse(400, errorMessages[400], { issues }) };
  }
  const parsed = parseJson(request.rawBody);
  if (!parsed.ok) {
    const issues = ["the body is missing or is not valid JSON"];
    return { ok: false, response: errorResponse(400, errorMessages[400], { issues }) };
  }
  return parsed;
}

function errorBody(status: number, message: string, metadata?: Record<string, unknown>): unknown {
  const error =
    metadata === undefined ? { code: status, message } : { code: status, message, metadata };
  return { error };
}

function errorResponse(
  status: number,
  message: string,
  metadata?: Record<string, unknown>,
): FakeResponse {
  return { status, body: errorBody(status, message, metadata) };
}
