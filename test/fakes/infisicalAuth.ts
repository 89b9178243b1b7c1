/**
 * Machine-identity routes of the Infisical fake: universal-auth login, access-token renewal and
 * revocation, the bearer-token check every route runs, and the client-secret routes.
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

import type { FakeResponse } from "./fakeServer";
import { apiError, permissionDenied, validate, validationFailure } from "./infisicalErrors";
import type { ClientSecretRecord, IdentityRecord, InfisicalState } from "./infisicalState";

/** Request data the routes of the Infisical fake receive. */
export interface InfisicalRequest {
  method: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed body: JSON value, text for `text/plain`, undefined when empty. */
  body: unknown;
  /** Identity of a valid bearer token, if one was sent. */
  caller?: IdentityRecord;
}

/** Settings the routes read. */
export interface InfisicalContext {
  state: InfisicalState;
  /** Locks an identity's logins after repeated wrong secrets, as the real default does. */
  lockout: boolean;
  /** Rejects a create of an existing secret with the older text "Secret already exist". */
  legacyAlreadyExistMessage: boolean;
}

const lockoutThreshold = 3;
const lockoutDurationMs = 300_000;
const lockoutCounterResetMs = 30_000;
const expiredTokenMessage = "Your token has expired. Please re-authenticate.";

interface TokenPayload {
  identityId: string;
  clientSecretId: string;
  identityAccessTokenId: string;
  authTokenType: string;
  iat: number;
  exp?: number;
}

function base64url(value: Buffer | string): string {
  return Buffer.from(value).toString("base64url");
}

function signature(state: InfisicalState, unsigned: string): string {
  return createHmac("sha256", state.signingKey).update(unsigned).digest("base64url");
}

function signToken(state: InfisicalState, payload: TokenPayload): string {
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const unsigned = `${header}.${base64url(JSON.stringify(payload))}`;
  return `${unsigned}.${signature(state, unsigned)}`;
}

/** Returns the payload of a JWT signed by this fake, or undefined for anything else. */
function decodeToken(state: InfisicalState, token: string): TokenPayload | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) {
    return undefined;
  }
  const expected = Buffer.from(signature(state, `${parts[0]}.${parts[1]}`));
  const actual = Buffer.from(parts[2]);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    return undefined;
  }
  return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as TokenPayload;
}

type TokenCheck =
  { ok: true; identity: IdentityRecord; tokenId: string } | { ok: false; response: FakeResponse };

// NOTE: the backend's text for a malformed or foreign JWT is unverified; the status (403
// TokenError) is documented, so the fake sends "Invalid token".
function verifyToken(state: InfisicalState, token: string): TokenCheck {
  const payload = decodeToken(state, token);
  if (payload === undefined || payload.authTokenType !== "identityAccessToken") {
    return { ok: false, response: apiError(403, "TokenError", "Invalid token") };
  }
  if (payload.exp !== undefined && state.clock.now() >= payload.exp * 1000) {
    return { ok: false, response: apiError(403, "TokenError", expiredTokenMessage) };
  }
  const row = state.accessTokens.get(payload.identityAccessTokenId);
  const identity = state.identityById(payload.identityId);
  if (row === undefined || row.revoked || identity === undefined) {
    const response = apiError(401, "UnauthorizedError", "No identity access token found");
    return { ok: false, response };
  }
  return { ok: true, identity, tokenId: row.id };
}

/**
 * Checks the Authorization header the way the backend's global hook does, on every route: the
 * first 7 characters are cut off unchecked and the rest must be a valid access token.
 */
export function checkAuthorization(
  state: InfisicalState,
  authorization: string | undefined,
): { ok: true; caller?: IdentityRecord } | { ok: false; response: FakeResponse } {
  if (authorization === undefined) {
    return { ok: true };
  }
  const check = verifyToken(state, authorization.slice(7));
  return check.ok ? { ok: true, caller: check.identity } : check;
}

function issueToken(
  state: InfisicalState,
  identity: IdentityRecord,
  clientSecretId: string,
  tokenId: string,
) {
  const iat = Math.floor(state.clock.now() / 1000);
  const payload: TokenPayload = {
    identityId: identity.id,
    clientSecretId,
    identityAccessTokenId: tokenId,
    authTokenType: "identityAccessToken",
    iat,
  };
  if (identity.accessTokenTTL > 0) {
    payload.exp = iat + identity.accessTokenTTL;
  }
  return {
    accessToken: signToken(state, payload),
    expiresIn: identity.accessTokenTTL,
    accessTokenMaxTTL: identity.accessTokenMaxTTL,
    tokenType: "Bearer",
  };
}

/** `POST /api/v1/auth/universal-auth/login`. */
export function login(context: InfisicalContext, request: InfisicalRequest): FakeResponse {
  const check = validate(request.body, {
    clientId: { type: "string", trim: true },
    clientSecret: { type: "string", trim: true },
    subOrganizationName: { type: "string", optional: true },
  });
  if (!check.ok) {
    return validationFailure(check.issues);
  }
  const { state } = context;
  const invalid = apiError(401, "UnauthorizedError", "Invalid credentials");
  const identity = state.identityByClientId(check.data.clientId);
  if (identity === undefined) {
    return invalid;
  }
  if (context.lockout && state.isLockedOut(identity)) {
    const message = "This identity auth method is temporarily locked, please try again later";
    return apiError(401, "UnauthorizedError", message);
  }
  const secret = state.clientSecrets.find(
    (candidate) =>
      candidate.identityId === identity.id &&
      !candidate.revoked &&
      candidate.secret === check.data.clientSecret,
  );
  if (secret === undefined) {
    recordFailedLogin(context, identity);
    return invalid;
  }
  const denial = useClientSecret(state, secret);
  if (denial !== undefined) {
    return denial;
  }
  identity.lockout.failures = 0;

  const tokenId = randomUUID();
  state.accessTokens.set(tokenId, {
    id: tokenId,
    identityId: identity.id,
    clientSecretId: secret.id,
    createdAtMs: state.clock.now(),
    lastRenewedAtMs: null,
    revoked: false,
  });
  return { status: 200, body: issueToken(state, identity, secret.id, tokenId) };
}

/** Applies the TTL and use limit of a matching secret; a secret past either is revoked. */
function useClientSecret(
  state: InfisicalState,
  secret: ClientSecretRecord,
): FakeResponse | undefined {
  const now = state.clock.now();
  if (state.isExpired(secret)) {
    secret.revoked = true;
    secret.updatedAtMs = now;
    return apiError(401, "UnauthorizedError", "Access denied due to expired client secret");
  }
  if (secret.numUsesLimit > 0 && secret.numUses >= secret.numUsesLimit) {
    secret.revoked = true;
    secret.updatedAtMs = now;
    const message = "Access denied due to client secret usage limit reached";
    return apiError(401, "UnauthorizedError", message);
  }
  secret.numUses += 1;
  secret.lastUsedAtMs = now;
  return undefined;
}

function recordFailedLogin(context: InfisicalContext, identity: IdentityRecord): void {
  const now = context.state.clock.now();
  const lockout = identity.lockout;
  if (now - lockout.windowStartMs > lockoutCounterResetMs) {
    lockout.failures = 0;
    lockout.windowStartMs = now;
  }
  lockout.failures += 1;
  if (context.lockout && lockout.failures >= lockoutThreshold) {
    lockout.lockedUntilMs = now + lockoutDurationMs;
    lockout.failures = 0;
  }
}

/** `POST /api/v1/auth/token/renew`: a new JWT for the same token row while MaxTTL allows. */
export function renewToken(context: InfisicalContext, request: InfisicalRequest): FakeResponse {
  const check = validate(request.body, { accessToken: { type: "string", trim: true } });
  if (!check.ok) {
    return validationFailure(check.issues);
  }
  const { state } = context;
  const verified = verifyToken(state, check.data.accessToken);
  if (!verified.ok) {
    return verified.response;
  }
  const row = state.accessTokens.get(verified.tokenId)!;
  const identity = verified.identity;
  const now = state.clock.now();
  if (identity.accessTokenMaxTTL > 0) {
    const maxEndMs = row.createdAtMs + identity.accessTokenMaxTTL * 1000;
    let message: string | undefined;
    if (now >= maxEndMs) {
      message = "Failed to renew MI access token due to Max TTL expiration";
    } else if (now + identity.accessTokenTTL * 1000 > maxEndMs) {
      message = "Failed to renew MI access token past its Max TTL expiration";
    }
    if (message !== undefined) {
      state.accessTokens.delete(row.id);
      return apiError(401, "UnauthorizedError", message);
    }
  }
  row.lastRenewedAtMs = now;
  return { status: 200, body: issueToken(state, identity, row.clientSecretId, row.id) };
}

/** `POST /api/v1/auth/token/revoke`. */
export function revokeToken(context: InfisicalContext, request: InfisicalRequest): FakeResponse {
  const check = validate(request.body, { accessToken: { type: "string", trim: true } });
  if (!check.ok) {
    return validationFailure(check.issues);
  }
  const verified = verifyToken(context.state, check.data.accessToken);
  if (!verified.ok) {
    return verified.response;
  }
  context.state.accessTokens.get(verified.tokenId)!.revoked = true;
  return { status: 200, body: { message: "Successfully revoked access token" } };
}

/** Builds the `ClientSecret` object of the client-secret routes; no other fields are sent. */
function toClientSecretData(record: ClientSecretRecord, identity: IdentityRecord) {
  return {
    id: record.id,
    createdAt: new Date(record.createdAtMs).toISOString(),
    updatedAt: new Date(record.updatedAtMs).toISOString(),
    description: record.description,
    clientSecretPrefix: record.secret.slice(0, 4),
    clientSecretNumUses: record.numUses,
    clientSecretNumUsesLimit: record.numUsesLimit,
    clientSecretTTL: record.ttl,
    identityUAId: identity.universalAuthId,
    isClientSecretRevoked: record.revoked,
  };
}

type ClientSecretAction = "create" | "read" | "delete";

/** Finds the target identity and checks the caller may act on it. */
function targetIdentity(
  context: InfisicalContext,
  request: InfisicalRequest,
  action: ClientSecretAction,
): { ok: true; identity: IdentityRecord } | { ok: false; response: FakeResponse } {
  const identityId = request.params.identityId;
  const identity = context.state.identityById(identityId);
  if (identity === undefined) {
    const message = `Failed to find identity with ID ${identityId}`;
    return { ok: false, response: apiError(404, "NotFound", message) };
  }
  if (request.caller?.role !== "writer") {
    return { ok: false, response: permissionDenied(action, "identity") };
  }
  return { ok: true, identity };
}

/** `POST …/identities/{identityId}/client-secrets`. */
export function createClientSecret(
  context: InfisicalContext,
  request: InfisicalRequest,
): FakeResponse {
  const check = validate(request.body, {
    description: { type: "string", trim: true, default: "" },
    numUsesLimit: { type: "number", min: 0, default: 0 },
    ttl: { type: "number", min: 0, max: 315360000, default: 0 },
  });
  if (!check.ok) {
    return validationFailure(check.issues);
  }
  const target = targetIdentity(context, request, "create");
  if (!target.ok) {
    return target.response;
  }
  const record = context.state.createClientSecret(target.identity.id, check.data);
  const clientSecretData = toClientSecretData(record, target.identity);
  return { status: 200, body: { clientSecret: record.secret, clientSecretData } };
}

/** `GET …/identities/{identityId}/client-secrets`: secrets not revoked, newest first. */
export function listClientSecrets(
  context: InfisicalContext,
  request: InfisicalRequest,
): FakeResponse {
  const target = targetIdentity(context, request, "read");
  if (!target.ok) {
    return target.response;
  }
  const identity = target.identity;
  const clientSecretData = context.state.clientSecrets
    .filter((record) => record.identityId === identity.id && !record.revoked)
    .sort((a, b) => b.createdAtMs - a.createdAtMs)
    .map((record) => toClientSecretData(record, identity));
  return { status: 200, body: { clientSecretData } };
}

/** `GET …/client-secrets/{clientSecretId}` and `POST …/{clientSecretId}/revoke`. */
export function clientSecretById(
  context: InfisicalContext,
  request: InfisicalRequest,
  action: "read" | "delete",
): FakeResponse {
  const target = targetIdentity(context, request, action);
  if (!target.ok) {
    return target.response;
  }
  const record = context.state.clientSecrets.find(
    (candidate) =>
      candidate.id === request.params.clientSecretId && candidate.identityId === target.identity.id,
  );
  if (record === undefined) {
    // The backend reports an unknown client secret with the identity's not-found text.
    const message = `Failed to find identity with ID ${target.identity.id}`;
    return apiError(404, "NotFound", message);
  }
  if (action === "delete") {
    record.revoked = true;
    record.updatedAtMs = context.state.clock.now();
  }
  return { status: 200, body: { clientSecretData: toClientSecretData(record, target.identity) } };
}
