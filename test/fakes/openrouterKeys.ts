/**
 * Key records of the OpenRouter fake: minting, the response objects built from them, and the
 * request-body rules of `POST /keys` and `PATCH /keys/{hash}`.
 */
import { createHash, randomBytes } from "node:crypto";

import { isJsonObject } from "./faults";

/** Prefix of every OpenRouter key string. */
export const keyPrefix = "sk-or-v1-";
/** Workspace that keys belong to when a request names none. */
export const defaultWorkspaceId = "0d3c1f8e-5b2a-4c7d-9e6f-1a2b3c4d5e6f";
/** `creator_user_id` of every key the fake creates. */
export const creatorUserId = "user_fakeCreator0000000000000";

const limitResets = ["daily", "weekly", "monthly"] as const;
/** Period after which a key's spending limit starts over. */
export type LimitReset = (typeof limitResets)[number];

/** An inference key as the fake stores it. */
export interface KeyRecord {
  /** Lowercase hex SHA-256 of `key`. */
  hash: string;
  /** Plaintext key string, returned by the API only once, in the create response. */
  key: string;
  name: string;
  label: string;
  disabled: boolean;
  /** True once `DELETE /keys/{hash}` succeeded; the key is then unknown to every route. */
  deleted: boolean;
  /** Spending cap in USD, or null for none. */
  limit: number | null;
  limitReset: LimitReset | null;
  includeByokInLimit: boolean;
  /** Expiry as sent on create (UTC ISO-8601), or null. */
  expiresAt: string | null;
  workspaceId: string;
  creatorUserId: string | null;
  /** Lifetime spend in USD. */
  usage: number;
  createdAtMs: number;
  updatedAtMs: number | null;
  deletedAtMs: number | null;
  /** True for keys made through `POST /keys`, which the fresh-key 401 option applies to. */
  createdThroughApi: boolean;
  /** Number of `GET /key` calls made with this key. */
  currentKeyCalls: number;
  /** Creation order, used to list newest first. */
  sequence: number;
}

/** Mints a key string: the prefix and 64 lowercase hex characters. */
export function mintKey(): string {
  return keyPrefix + randomBytes(32).toString("hex");
}

/** Returns the lowercase hex SHA-256 of the whole key string, which the API uses as its hash. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Builds the display label: prefix, first 3 and last 3 characters of the secret part. */
export function labelFor(key: string): string {
  const secret = key.startsWith(keyPrefix) ? key.slice(keyPrefix.length) : key;
  const prefix = key.startsWith(keyPrefix) ? keyPrefix : "";
  return `${prefix}${secret.slice(0, 3)}...${secret.slice(-3)}`;
}

/** Formats epoch milliseconds the way OpenRouter responses do: microseconds and `+00:00`. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000+00:00");
}

/** Builds the `KeyObject` of list, get, create and update responses. */
export function toKeyObject(record: KeyRecord): Record<string, unknown> {
  return {
    hash: record.hash,
    name: record.name,
    label: record.label,
    disabled: record.disabled,
    ...limitFields(record),
    created_at: formatTimestamp(record.createdAtMs),
    updated_at: record.updatedAtMs === null ? null : formatTimestamp(record.updatedAtMs),
    creator_user_id: record.creatorUserId,
    workspace_id: record.workspaceId,
    external_user: null,
    expires_at: record.expiresAt,
  };
}

/** Builds the `CurrentKey` of `GET /key` for an inference key, or for a management key if null. */
export function toCurrentKey(
  record: KeyRecord | null,
  managementKey: string,
): Record<string, unknown> {
  const isManagement = record === null;
  return {
    label: labelFor(record?.key ?? managementKey),
    ...(record === null ? limitFields(unlimited) : limitFields(record)),
    is_free_tier: false,
    is_management_key: isManagement,
    is_provisioning_key: isManagement,
    creator_user_id: record?.creatorUserId ?? creatorUserId,
    rate_limit: {
      requests: -1,
      interval: "1h",
      note: "This field is deprecated and safe to ignore.",
    },
    expires_at: record?.expiresAt ?? null,
    allowed_data_regions: ["global"],
    free_model_daily_requests: { limit: 1000, remaining: 1000, used: 0 },
    organization_id: null,
    workspace_id: record?.workspaceId ?? null,
  };
}

const unlimited = { limit: null, limitReset: null, includeByokInLimit: false, usage: 0 };

function limitFields(
  record: Pick<KeyRecord, "limit" | "limitReset" | "includeByokInLimit" | "usage">,
) {
  return {
    limit: record.limit,
    limit_remaining: record.limit === null ? null : record.limit - record.usage,
    limit_reset: record.limitReset,
    include_byok_in_limit: record.includeByokInLimit,
    usage: record.usage,
    usage_daily: 0,
    usage_weekly: 0,
    usage_monthly: 0,
    byok_usage: 0,
    byok_usage_daily: 0,
    byok_usage_weekly: 0,
    byok_usage_monthly: 0,
  };
}

/** Fields of a valid `POST /keys` body, with defaults applied. */
export interface CreateKeyInput {
  name: string;
  limit: number | null;
  limitReset: LimitReset | null;
  includeByokInLimit: boolean;
  expiresAt: string | null;
  creatorUserId: string | null;
  workspaceId: string;
}

/** Fields a valid `PATCH /keys/{hash}` body changes; absent fields stay as they are. */
export type UpdateKeyInput = Partial<
  Pick<KeyRecord, "name" | "disabled" | "limit" | "limitReset" | "includeByokInLimit">
>;

/** Outcome of checking a body: the input, or the list of rules it breaks. */
export type BodyCheck<T> = { ok: true; value: T } | { ok: false; issues: string[] };

const createFields = [
  "name",
  "limit",
  "limit_reset",
  "include_byok_in_limit",
  "expires_at",
  "creator_user_id",
  "workspace_id",
  "external",
];
const updateFields = ["name", "disabled", "limit", "limit_reset", "include_byok_in_limit"];
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const utcDateTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|\+00:00)$/;

/** Returns whether `value` is a UUID string, the format of `workspace_id`. */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

// NOTE: the real API's response to fields outside the OpenAPI schema is unverified. The fake
// rejects them, so a client that relies on a field being ignored (for example `label`) fails here.
function unknownFieldIssues(body: Record<string, unknown>, known: string[]): string[] {
  return Object.keys(body)
    .filter((field) => !known.includes(field))
    .map((field) => `\`${field}\` is not a known field`);
}

/** Checks a `POST /keys` body against the create schema. */
export function checkCreateBody(body: unknown): BodyCheck<CreateKeyInput> {
  if (!isJsonObject(body)) {
    return { ok: false, issues: ["the body must be a JSON object"] };
  }
  const issues = unknownFieldIssues(body, createFields);
  if (typeof body.name !== "string" || body.name.length === 0) {
    issues.push("`name` is required and must be a non-empty string");
  }
  issues.push(...limitIssues(body));
  if (
    body.expires_at !== undefined &&
    body.expires_at !== null &&
    !isUtcDateTime(body.expires_at)
  ) {
    issues.push("`expires_at` must be an ISO-8601 UTC date-time with seconds, or null");
  }
  const creator = body.creator_user_id;
  if (
    creator !== undefined &&
    creator !== null &&
    (typeof creator !== "string" || creator === "")
  ) {
    issues.push("`creator_user_id` must be a non-empty string or null");
  }
  const workspace = body.workspace_id;
  if (workspace !== undefined && (typeof workspace !== "string" || !isUuid(workspace))) {
    issues.push("`workspace_id` must be a UUID");
  }
  if (body.external !== undefined && !isExternal(body.external)) {
    issues.push("`external` must be {user: string, api_key?: string of at least 32 characters}");
  }
  if (issues.length > 0) {
    return { ok: false, issues };
  }
  return {
    ok: true,
    value: {
      name: body.name as string,
      limit: (body.limit as number | null | undefined) ?? null,
      limitReset: (body.limit_reset as LimitReset | null | undefined) ?? null,
      includeByokInLimit: (body.include_byok_in_limit as boolean | undefined) ?? false,
      expiresAt: (body.expires_at as string | null | undefined) ?? null,
      creatorUserId: (creator as string | null | undefined) ?? creatorUserId,
      workspaceId: (workspace as string | undefined) ?? defaultWorkspaceId,
    },
  };
}

/** Checks a `PATCH /keys/{hash}` body: only the five updatable fields are accepted. */
export function checkUpdateBody(body: unknown): BodyCheck<UpdateKeyInput> {
  if (!isJsonObject(body)) {
    return { ok: false, issues: ["the body must be a JSON object"] };
  }
  const issues = unknownFieldIssues(body, updateFields);
  if (body.name !== undefined && typeof body.name !== "string") {
    issues.push("`name` must be a string");
  }
  if (body.disabled !== undefined && typeof body.disabled !== "boolean") {
    issues.push("`disabled` must be a boolean");
  }
  issues.push(...limitIssues(body));
  if (issues.length > 0) {
    return { ok: false, issues };
  }
  const value: UpdateKeyInput = {};
  if (body.name !== undefined) value.name = body.name as string;
  if (body.disabled !== undefined) value.disabled = body.disabled as boolean;
  if (body.limit !== undefined) value.limit = body.limit as number | null;
  if (body.limit_reset !== undefined) value.limitReset = body.limit_reset as LimitReset | null;
  if (body.include_byok_in_limit !== undefined) {
    value.includeByokInLimit = body.include_byok_in_limit as boolean;
  }
  return { ok: true, value };
}

function limitIssues(body: Record<string, unknown>): string[] {
  const issues: string[] = [];
  const limit = body.limit;
  if (limit !== undefined && limit !== null && !(typeof limit === "number" && limit >= 0)) {
    issues.push("`limit` must be a number >= 0 or null");
  }
  const reset = body.limit_reset;
  if (reset !== undefined && reset !== null && !limitResets.includes(reset as LimitReset)) {
    issues.push("`limit_reset` must be daily, weekly, monthly or null");
  }
  const byok = body.include_byok_in_limit;
  if (byok !== undefined && typeof byok !== "boolean") {
    issues.push("`include_byok_in_limit` must be a boolean");
  }
  return issues;
}

function isUtcDateTime(value: unknown): boolean {
  return typeof value === "string" && utcDateTimePattern.test(value) && !isNaN(Date.parse(value));
}

function isExternal(value: unknown): boolean {
  if (!isJsonObject(value) || typeof value.user !== "string") {
    return false;
  }
  return (
    value.api_key === undefined || (typeof value.api_key === "string" && value.api_key.length >= 32)
  );
}
