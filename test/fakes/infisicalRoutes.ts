/**
 * Request routing of the Infisical fake, in the backend's order: HTML front-end prefixes, Fastify
 * route lookup, the global bearer-token check, `verifyAuth`, body parsing, then the route.
 */
import { createHash } from "node:crypto";

import { isJsonContentType, parseJson } from "./faults";
import type { FakeRequest, FakeResponse } from "./fakeServer";
import {
  InfisicalContext,
  InfisicalRequest,
  checkAuthorization,
  clientSecretById,
  createClientSecret,
  listClientSecrets,
  login,
  renewToken,
  revokeToken,
} from "./infisicalAuth";
import { apiError, routeNotFound } from "./infisicalErrors";
import {
  createSecret,
  deleteSecret,
  getProjectBySlug,
  getSecret,
  listSecrets,
  updateSecret,
} from "./infisicalSecrets";

const htmlPage =
  '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Infisical</title></head>' +
  '<body><div id="root"></div><script src="/assets/index.js"></script></body></html>';

type RouteHandler = (context: InfisicalContext, request: InfisicalRequest) => FakeResponse;

interface Route {
  method: string;
  pattern: RegExp;
  paramNames: string[];
  /** Routes behind `verifyAuth` return 401 "Token missing" without a token. */
  requiresToken: boolean;
  handle: RouteHandler;
}

function route(
  method: string,
  template: string,
  requiresToken: boolean,
  handle: RouteHandler,
): Route {
  const paramNames: string[] = [];
  const source = template
    .split("/")
    .map((segment) => {
      if (!segment.startsWith(":")) {
        return segment;
      }
      paramNames.push(segment.slice(1));
      return "([^/]+)";
    })
    .join("/");
  return { method, pattern: new RegExp(`^${source}$`), paramNames, requiresToken, handle };
}

const clientSecretsPath = "/api/v1/auth/universal-auth/identities/:identityId/client-secrets";
const routes: Route[] = [
  route("POST", "/api/v1/auth/universal-auth/login", false, login),
  route("POST", "/api/v1/auth/token/renew", false, renewToken),
  route("POST", "/api/v1/auth/token/revoke", false, revokeToken),
  route("POST", clientSecretsPath, true, createClientSecret),
  route("GET", clientSecretsPath, true, listClientSecrets),
  route("GET", `${clientSecretsPath}/:clientSecretId`, true, (c, r) =>
    clientSecretById(c, r, "read"),
  ),
  route("POST", `${clientSecretsPath}/:clientSecretId/revoke`, true, (c, r) =>
    clientSecretById(c, r, "delete"),
  ),
  route("GET", "/api/v3/secrets/raw", true, listSecrets),
  route("GET", "/api/v3/secrets/raw/:secretName", true, getSecret),
  route("POST", "/api/v3/secrets/raw/:secretName", true, createSecret),
  route("PATCH", "/api/v3/secrets/raw/:secretName", true, updateSecret),
  route("DELETE", "/api/v3/secrets/raw/:secretName", true, deleteSecret),
  route("GET", "/api/v2/workspace/:slug", true, getProjectBySlug),
];

function findRoute(
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  // Fastify runs with ignoreTrailingSlash, so "/x/" is routed like "/x".
  const routedPath = path.length > 1 ? path.replace(/\/$/, "") : path;
  for (const candidate of routes) {
    const match = candidate.method === method ? candidate.pattern.exec(routedPath) : null;
    if (match !== null) {
      const params = Object.fromEntries(
        candidate.paramNames.map((name, index) => [name, safeDecode(match[index + 1])]),
      );
      return { route: candidate, params };
    }
  }
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

// NOTE: how the backend's error handler shapes Fastify's own body-parser errors is unverified.
// The fake sends Fastify's status and text inside the standard error body.
function parseBody(
  request: FakeRequest,
): { ok: true; body: unknown } | { ok: false; response: FakeResponse } {
  if (request.method === "GET" || request.method === "HEAD") {
    return { ok: true, body: undefined };
  }
  const contentType = request.headers["content-type"];
  const isJson = isJsonContentType(contentType);
  if (request.rawBody === "") {
    if (!isJson) {
      return { ok: true, body: undefined };
    }
    const message = "Body cannot be empty when content-type is set to 'application/json'";
    return { ok: false, response: apiError(400, "Bad Request", message) };
  }
  if (isJson) {
    const parsed = parseJson(request.rawBody);
    const message = "Body is not valid JSON but content-type is set to 'application/json'";
    return parsed.ok
      ? { ok: true, body: parsed.value }
      : { ok: false, response: apiError(400, "Bad Request", message) };
  }
  if (contentType?.toLowerCase().startsWith("text/plain")) {
    return { ok: true, body: request.rawBody };
  }
  const message = `Unsupported Media Type: ${contentType ?? ""}`;
  return { ok: false, response: apiError(415, "Unsupported Media Type", message) };
}

/** Handles one request that no fault rule intercepted. */
export function handleRequest(
  context: InfisicalContext,
  htmlPrefixes: string[],
  request: FakeRequest,
): FakeResponse {
  if (htmlPrefixes.some((prefix) => request.path.startsWith(prefix))) {
    return { status: 200, body: htmlPage, contentType: "text/html; charset=utf-8" };
  }
  const found = findRoute(request.method, request.path);
  if (found === undefined) {
    return routeNotFound(request.method, request.url);
  }
  const auth = checkAuthorization(context.state, request.headers.authorization);
  if (!auth.ok) {
    return auth.response;
  }
  if (found.route.requiresToken && auth.caller === undefined) {
    return apiError(401, "UnauthorizedError", "Token missing");
  }
  const parsed = parseBody(request);
  if (!parsed.ok) {
    return parsed.response;
  }
  const response = found.route.handle(context, {
    method: request.method,
    params: found.params,
    query: request.query,
    body: parsed.body,
    caller: auth.caller,
  });
  return withEtag(request, response);
}

/**
 * Adds an ETag to every response and returns 304 for a matching If-None-Match, as @fastify/etag
 * does.
 */
function withEtag(request: FakeRequest, response: FakeResponse): FakeResponse {
  if (response.body === undefined) {
    return response;
  }
  const payload = typeof response.body === "string" ? response.body : JSON.stringify(response.body);
  const etag = `"${createHash("sha1").update(payload).digest("base64url")}"`;
  if (request.headers["if-none-match"] === etag) {
    return { status: 304, headers: { etag } };
  }
  return { ...response, headers: { ...(response.headers ?? {}), etag } };
}
