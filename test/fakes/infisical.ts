/**
 * Fake of the Infisical API on 127.0.0.1, as strict as the backend: Fastify routing and 404s,
 * the global bearer-token check, Zod-style 422s, and the per-method project naming of the
 * secret routes.
 *
 * Served under `${url}/api`: universal-auth login, token renew and revoke, the four client-secret
 * routes, `/v3/secrets/raw[/{secretName}]` and `/v2/workspace/{slug}`. Every other `/api` route
 * gets Fastify's default 404. There is no rate limiting except through fault rules.
 */
import { randomUUID } from "node:crypto";

import { FakeClock } from "./faults";
import { FakeServer, startFakeServer } from "./fakeServer";
import type { InfisicalContext } from "./infisicalAuth";
import { faultBody } from "./infisicalErrors";
import { handleRequest } from "./infisicalRoutes";
import { ClientSecretRecord, InfisicalState, SecretRecord } from "./infisicalState";

export type { ClientSecretRecord, SecretRecord } from "./infisicalState";
export { organizationId } from "./infisicalState";
export { hiddenSecretValue } from "./infisicalSecrets";

/** Settings of {@link startInfisicalFake}. */
export interface InfisicalFakeOptions {
  /** Time source for token expiry, client-secret TTLs and timestamps. Default: real time. */
  clock?: FakeClock;
  /**
   * Locks an identity's logins for 300 s after 3 wrong secrets within 30 s, the backend's
   * default. Default true.
   */
  lockout?: boolean;
  /** Rejects a create of an existing secret with the older text "Secret already exist". */
  legacyAlreadyExistMessage?: boolean;
}

/** A project to store, with environment slugs such as "dev" or "prod". */
export interface ProjectSpec {
  id: string;
  slug: string;
  /** Default: the slug. */
  name?: string;
  environments: string[];
}

/** A machine identity with universal auth attached. */
export interface IdentitySpec {
  /** Identity id (a UUID), used in the client-secret routes. */
  id: string;
  /** Universal-auth client id, used to log in. */
  clientId: string;
  /** "writer" writes secrets and manages client secrets of any identity; "reader" only reads. */
  role: "writer" | "reader";
  /** Access-token lifetime in seconds; 0 means no expiry. Default 2592000 (30 days). */
  accessTokenTTL?: number;
  /** Maximum lifetime across renewals in seconds. Default 2592000. */
  accessTokenMaxTTL?: number;
}

/** Options of a client secret stored through {@link InfisicalFake.addClientSecret}. */
export interface ClientSecretSpec {
  /** Default: 64 random lowercase hex characters, like the backend. */
  secret?: string;
  /** Seconds until expiry; default 0, never. */
  ttl?: number;
  /** Successful logins allowed; default 0, unlimited. */
  numUsesLimit?: number;
  description?: string;
}

/** A running Infisical fake; `url` is the site origin and the API is under `${url}/api`. */
export interface InfisicalFake extends FakeServer {
  /** API base, `${url}/api`. */
  readonly apiUrl: string;
  addProject(project: ProjectSpec): void;
  /** Creates a folder (and its parents) in an environment; "/" always exists. */
  addFolder(projectSlug: string, environment: string, path: string): void;
  addIdentity(identity: IdentitySpec): void;
  addClientSecret(identityId: string, spec?: ClientSecretSpec): { id: string; secret: string };
  /** Copies of the identity's client secrets, revoked ones included, oldest first. */
  clientSecrets(identityId: string): ClientSecretRecord[];
  /** Returns whether a login with these credentials would succeed now; changes nothing. */
  canLogin(clientId: string, clientSecret: string): boolean;
  /** Stored value of a secret, or undefined when there is none. */
  getSecretValue(
    projectSlug: string,
    environment: string,
    path: string,
    name: string,
  ): string | undefined;
  /** Creates or overwrites a secret, creating its folder if needed. */
  setSecretValue(
    projectSlug: string,
    environment: string,
    path: string,
    name: string,
    value: string,
  ): void;
  /** Copies of the secrets in one folder, sorted by name. */
  listSecrets(projectSlug: string, environment: string, path?: string): SecretRecord[];
  /** Responds to every request under `pathPrefix` with a 200 HTML page, like a web front end. */
  serveHtmlAt(pathPrefix: string): void;
}

const defaultTokenTtlSeconds = 2_592_000;

/** Starts the Infisical fake on 127.0.0.1 with an OS-chosen port. */
export async function startInfisicalFake(
  options: InfisicalFakeOptions = {},
): Promise<InfisicalFake> {
  const clock = options.clock ?? new FakeClock();
  const state = new InfisicalState(clock);
  const context: InfisicalContext = {
    state,
    lockout: options.lockout ?? true,
    legacyAlreadyExistMessage: options.legacyAlreadyExistMessage ?? false,
  };
  const htmlPrefixes: string[] = [];
  const server = await startFakeServer({
    handle: (request) => handleRequest(context, htmlPrefixes, request),
    faultBody,
    clock,
  });
  return {
    ...server,
    apiUrl: `${server.url}/api`,
    ...stateHelpers(context),
    serveHtmlAt: (pathPrefix) => void htmlPrefixes.push(pathPrefix),
  };
}

function requireProject(state: InfisicalState, slug: string) {
  const project = state.projectBySlug(slug);
  if (project === undefined) {
    throw new Error(`the fake has no project with slug ${slug}`);
  }
  return project;
}

/** Builds the state helpers of the fake; they bypass HTTP, auth and faults. */
function stateHelpers(context: InfisicalContext) {
  const { state } = context;
  const secretsIn = (projectSlug: string, environment: string, path: string) => {
    const project = requireProject(state, projectSlug);
    return state.secrets
      .filter((secret) => secret.projectId === project.id && secret.environment === environment)
      .filter((secret) => secret.path === path);
  };

  return {
    addProject: (spec: ProjectSpec) => {
      const environments = spec.environments.map((slug) => ({
        id: randomUUID(),
        slug,
        name: environmentName(slug),
        folders: new Set(["/"]),
      }));
      state.projects.push({
        id: spec.id,
        slug: spec.slug,
        name: spec.name ?? spec.slug,
        environments,
      });
    },
    addFolder: (projectSlug: string, environment: string, path: string) =>
      state.addFolder(requireProject(state, projectSlug), environment, path),
    addIdentity: (spec: IdentitySpec) => {
      state.identities.push({
        id: spec.id,
        clientId: spec.clientId,
        role: spec.role,
        accessTokenTTL: spec.accessTokenTTL ?? defaultTokenTtlSeconds,
        accessTokenMaxTTL: spec.accessTokenMaxTTL ?? defaultTokenTtlSeconds,
        universalAuthId: randomUUID(),
        lockout: { failures: 0, windowStartMs: 0, lockedUntilMs: 0 },
      });
    },
    addClientSecret: (identityId: string, spec: ClientSecretSpec = {}) => {
      if (state.identityById(identityId) === undefined) {
        throw new Error(`the fake has no identity ${identityId}`);
      }
      const record = state.createClientSecret(identityId, spec);
      return { id: record.id, secret: record.secret };
    },
    clientSecrets: (identityId: string) =>
      state.clientSecrets
        .filter((record) => record.identityId === identityId)
        .map((record) => ({ ...record })),
    canLogin: (clientId: string, clientSecret: string) => {
      const identity = state.identityByClientId(clientId);
      if (identity === undefined || (context.lockout && state.isLockedOut(identity))) {
        return false;
      }
      return state.clientSecrets.some(
        (record) =>
          record.identityId === identity.id &&
          record.secret === clientSecret &&
          !record.revoked &&
          !state.isExpired(record) &&
          (record.numUsesLimit === 0 || record.numUses < record.numUsesLimit),
      );
    },
    getSecretValue: (projectSlug: string, environment: string, path: string, name: string) =>
      secretsIn(projectSlug, environment, path).find((secret) => secret.key === name)?.value,
    setSecretValue: (
      projectSlug: string,
      environment: string,
      path: string,
      name: string,
      value: string,
    ) => {
      const project = requireProject(state, projectSlug);
      state.addFolder(project, environment, path);
      const existing = state.findSecret(project.id, environment, path, name);
      if (existing === undefined) {
        state.createSecret({ projectId: project.id, environment, path, key: name, value });
        return;
      }
      existing.value = value;
      existing.version += 1;
      existing.updatedAtMs = state.clock.now();
    },
    listSecrets: (projectSlug: string, environment: string, path = "/") =>
      secretsIn(projectSlug, environment, path)
        .sort((a, b) => a.key.localeCompare(b.key))
        .map((secret) => ({ ...secret })),
  };
}

function environmentName(slug: string): string {
  const names: Record<string, string> = {
    dev: "Development",
    staging: "Staging",
    prod: "Production",
  };
  return names[slug] ?? slug;
}
