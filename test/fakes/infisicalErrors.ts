/**
 * Error bodies of the Infisical fake, and request validation that reports issues the way the
 * backend's Zod schemas do (status 422, `message` an array of issues).
 */
import { randomBytes } from "node:crypto";
import { STATUS_CODES } from "node:http";

import type { FakeResponse } from "./fakeServer";

const alphanumerics = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** Makes a request id: `req-` and 14 alphanumeric characters. */
export function newRequestId(): string {
  const bytes = randomBytes(14);
  return `req-${[...bytes].map((byte) => alphanumerics[byte % alphanumerics.length]).join("")}`;
}

/** Builds the standard error response `{reqId, statusCode, message, error}`. */
export function apiError(
  status: number,
  error: string,
  message: unknown,
  details?: unknown,
): FakeResponse {
  const body: Record<string, unknown> = {
    reqId: newRequestId(),
    statusCode: status,
    message,
    error,
  };
  if (details !== undefined) {
    body.details = details;
  }
  return { status, body };
}

/** Builds Fastify's default 404 for a route that does not exist; it carries no `reqId`. */
export function routeNotFound(method: string, url: string): FakeResponse {
  return {
    status: 404,
    body: { message: `Route ${method}:${url} not found`, error: "Not Found", statusCode: 404 },
  };
}

/** Builds the 403 of a CASL permission denial; `details` lists the rules a reader holds. */
export function permissionDenied(action: string, subject: string): FakeResponse {
  const details = [
    { action: ["describeSecret", "readValue"], inverted: false, subject: "secrets" },
  ];
  return apiError(
    403,
    "PermissionDenied",
    `You are not allowed to ${action} on ${subject}`,
    details,
  );
}

/** Standard error body for a fault rule that gives only a status. */
export function faultBody(status: number, headers: Record<string, string>): unknown {
  const retryAfter = Object.entries(headers).find(([name]) => name.toLowerCase() === "retry-after");
  const names: Record<number, [string, string]> = {
    400: ["BadRequest", "Bad request"],
    401: ["UnauthorizedError", "Invalid credentials"],
    403: ["ForbiddenError", "Forbidden"],
    404: ["NotFound", "Not found"],
    429: [
      "RateLimitExceeded",
      `Rate limit exceeded. Please try again in ${retryAfter?.[1] ?? "60"} seconds`,
    ],
    500: ["InternalServerError", "Something went wrong"],
  };
  const [error, message] = names[status] ?? [
    STATUS_CODES[status] ?? "Error",
    "Something went wrong",
  ];
  return { reqId: newRequestId(), statusCode: status, message, error };
}

/** One Zod issue as the backend reports it. */
export type Issue = Record<string, unknown> & { code: string; path: Array<string | number> };

/** Rule for one field of a request body, query or path parameters. */
export type FieldRule =
  | {
      type: "string";
      optional?: boolean;
      nullable?: boolean;
      trim?: boolean;
      minLength?: number;
      maxLength?: number;
      /** No ":" and no "/", as the backend's secret-name schema requires. */
      secretName?: boolean;
      default?: string;
    }
  | {
      type: "number";
      optional?: boolean;
      nullable?: boolean;
      min?: number;
      max?: number;
      default?: number;
    }
  | { type: "boolean"; optional?: boolean; nullable?: boolean }
  | { type: "enum"; options: string[]; optional?: boolean; default?: string }
  | { type: "stringArray"; optional?: boolean }
  | { type: "array"; optional?: boolean };

/** Rules by field name; fields not listed are dropped, as Zod objects do. */
export type ObjectSchema = Record<string, FieldRule>;

/** Outcome of {@link validate}: the cleaned object, or the issues found. */
export type Validation = { ok: true; data: Record<string, any> } | { ok: false; issues: Issue[] };

/** Returns the type name Zod uses for `value` in `received`. */
function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number" && isNaN(value)) return "nan";
  return typeof value;
}

function invalidType(path: Array<string | number>, expected: string, value: unknown): Issue {
  const received = typeName(value);
  const message = value === undefined ? "Required" : `Expected ${expected}, received ${received}`;
  return { code: "invalid_type", expected, received, path, message };
}

/** Checks `value` against an object schema, applying trims and defaults like Zod. */
export function validate(value: unknown, schema: ObjectSchema, path: string[] = []): Validation {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, issues: [invalidType(path, "object", value)] };
  }
  const input = value as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  const issues: Issue[] = [];
  for (const [field, rule] of Object.entries(schema)) {
    const result = checkField(input[field], rule, [...path, field]);
    issues.push(...result.issues);
    if (result.value !== undefined) {
      data[field] = result.value;
    }
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, data };
}

function checkField(
  value: unknown,
  rule: FieldRule,
  path: Array<string | number>,
): { value: unknown; issues: Issue[] } {
  if (value === undefined) {
    if ("default" in rule && rule.default !== undefined) {
      return { value: rule.default, issues: [] };
    }
    return { value, issues: rule.optional === true ? [] : [invalidType(path, rule.type, value)] };
  }
  if (value === null && "nullable" in rule && rule.nullable === true) {
    return { value, issues: [] };
  }
  switch (rule.type) {
    case "string":
      return checkString(value, rule, path);
    case "number":
      return checkNumber(value, rule, path);
    case "boolean":
      return typeof value === "boolean"
        ? { value, issues: [] }
        : { value, issues: [invalidType(path, "boolean", value)] };
    case "enum":
      return checkEnum(value, rule.options, path);
    case "stringArray": {
      const valid = Array.isArray(value) && value.every((item) => typeof item === "string");
      return { value, issues: valid ? [] : [invalidType(path, "array", value)] };
    }
    case "array":
      return { value, issues: Array.isArray(value) ? [] : [invalidType(path, "array", value)] };
  }
}

function checkString(
  value: unknown,
  rule: Extract<FieldRule, { type: "string" }>,
  path: Array<string | number>,
): { value: unknown; issues: Issue[] } {
  if (typeof value !== "string") {
    return { value, issues: [invalidType(path, "string", value)] };
  }
  const text = rule.trim === true ? value.trim() : value;
  const issues: Issue[] = [];
  const bound = { type: "string", inclusive: true, exact: false, path };
  if (rule.minLength !== undefined && text.length < rule.minLength) {
    const message = `String must contain at least ${rule.minLength} character(s)`;
    issues.push({ code: "too_small", minimum: rule.minLength, ...bound, message });
  }
  if (rule.maxLength !== undefined && text.length > rule.maxLength) {
    const message = `String must contain at most ${rule.maxLength} character(s)`;
    issues.push({ code: "too_big", maximum: rule.maxLength, ...bound, message });
  }
  if (rule.secretName === true && text.includes(":")) {
    issues.push({ code: "custom", message: "Secret name cannot contain colon.", path });
  }
  if (rule.secretName === true && text.includes("/")) {
    issues.push({ code: "custom", message: "Secret name cannot contain forward slash.", path });
  }
  return { value: text, issues };
}

function checkNumber(
  value: unknown,
  rule: Extract<FieldRule, { type: "number" }>,
  path: Array<string | number>,
): { value: unknown; issues: Issue[] } {
  if (typeof value !== "number" || isNaN(value)) {
    return { value, issues: [invalidType(path, "number", value)] };
  }
  const issues: Issue[] = [];
  const bound = { type: "number", inclusive: true, exact: false, path };
  if (rule.min !== undefined && value < rule.min) {
    const message = `Number must be greater than or equal to ${rule.min}`;
    issues.push({ code: "too_small", minimum: rule.min, ...bound, message });
  }
  if (rule.max !== undefined && value > rule.max) {
    const message = `Number must be less than or equal to ${rule.max}`;
    issues.push({ code: "too_big", maximum: rule.max, ...bound, message });
  }
  return { value, issues };
}

function checkEnum(
  value: unknown,
  options: string[],
  path: Array<string | number>,
): { value: unknown; issues: Issue[] } {
  if (typeof value === "string" && options.includes(value)) {
    return { value, issues: [] };
  }
  const expected = options.map((option) => `'${option}'`).join(" | ");
  const message = `Invalid enum value. Expected ${expected}, received '${String(value)}'`;
  return {
    value,
    issues: [{ code: "invalid_enum_value", options, received: value, path, message }],
  };
}

/** Builds the 422 response for failed request validation. */
export function validationFailure(issues: Issue[]): FakeResponse {
  return apiError(422, "ValidationFailure", issues);
}
