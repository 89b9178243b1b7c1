/** Stored objects of the Infisical fake and the lookups its routes share. */
import { randomBytes, randomUUID } from "node:crypto";

import { FakeClock } from "./faults";

/** Id of the one organization every project and identity of the fake belongs to. */
export const organizationId = "5c1e7a9b-2d4f-4a6c-8e0b-3f5a7c9e1b2d";

/** An environment of a project and the folders that exist in it. */
export interface EnvironmentRecord {
  id: string;
  slug: string;
  name: string;
  /** Folder paths such as "/" and "/app"; "/" always exists. */
  folders: Set<string>;
}

/** A project (the API also calls it a workspace). */
export interface ProjectRecord {
  id: string;
  slug: string;
  name: string;
  environments: EnvironmentRecord[];
}

/** Lockout state of an identity's universal-auth logins. */
export interface LockoutRecord {
  failures: number;
  windowStartMs: number;
  lockedUntilMs: number;
}

/** A machine identity with universal auth attached. */
export interface IdentityRecord {
  id: string;
  clientId: string;
  /** "writer" may write secrets and manage client secrets; "reader" may only read secrets. */
  role: "writer" | "reader";
  /** Lifetime of issued access tokens in seconds; 0 means they never expire. */
  accessTokenTTL: number;
  accessTokenMaxTTL: number;
  /** Id of the identity's universal-auth configuration (`identityUAId`). */
  universalAuthId: string;
  lockout: LockoutRecord;
}

/** A universal-auth client secret as the fake stores it. */
export interface ClientSecretRecord {
  id: string;
  identityId: string;
  /** Plaintext secret; the API returns it only in the create response. */
  secret: string;
  description: string;
  /** Seconds from creation until the secret expires; 0 means never. */
  ttl: number;
  /** Successful logins allowed; 0 means unlimited. */
  numUsesLimit: number;
  numUses: number;
  revoked: boolean;
  createdAtMs: number;
  updatedAtMs: number;
  lastUsedAtMs: number | null;
}

/** A shared secret stored under a project, environment and folder path. */
export interface SecretRecord {
  id: string;
  projectId: string;
  environment: string;
  path: string;
  key: string;
  value: string;
  comment: string;
  version: number;
  skipMultilineEncoding: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

/** An access token row; the JWT handed out carries its id. */
export interface AccessTokenRecord {
  id: string;
  identityId: string;
  clientSecretId: string;
  createdAtMs: number;
  lastRenewedAtMs: number | null;
  revoked: boolean;
}

/** Everything the Infisical fake stores, with the lookups its routes use. */
export class InfisicalState {
  readonly projects: ProjectRecord[] = [];
  readonly identities: IdentityRecord[] = [];
  readonly clientSecrets: ClientSecretRecord[] = [];
  readonly secrets: SecretRecord[] = [];
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  /** Key for signing access-token JWTs, new for every fake. */
  readonly signingKey = randomBytes(32);

  constructor(readonly clock: FakeClock) {}

  projectBySlug(slug: string): ProjectRecord | undefined {
    return this.projects.find((project) => project.slug === slug);
  }

  projectById(id: string): ProjectRecord | undefined {
    return this.projects.find((project) => project.id === id);
  }

  identityById(id: string): IdentityRecord | undefined {
    return this.identities.find((identity) => identity.id === id);
  }

  identityByClientId(clientId: string): IdentityRecord | undefined {
    return this.identities.find((identity) => identity.clientId === clientId);
  }

  /** Returns whether the folder exists in that environment of the project. */
  folderExists(project: ProjectRecord, environment: string, path: string): boolean {
    const env = project.environments.find((candidate) => candidate.slug === environment);
    return env?.folders.has(path) ?? false;
  }

  /** Creates a folder and its parents. Throws for an unknown environment. */
  addFolder(project: ProjectRecord, environment: string, path: string): void {
    const env = project.environments.find((candidate) => candidate.slug === environment);
    if (env === undefined) {
      throw new Error(`project ${project.slug} has no environment ${environment}`);
    }
    const parts = path.split("/").filter((part) => part !== "");
    for (let depth = 0; depth <= parts.length; depth++) {
      env.folders.add(`/${parts.slice(0, depth).join("/")}`);
    }
  }

  findSecret(projectId: string, environment: string, path: string, key: string) {
    return this.secrets.find(
      (secret) =>
        secret.projectId === projectId &&
        secret.environment === environment &&
        secret.path === path &&
        secret.key === key,
    );
  }

  /** Stores a new secret; the caller has checked that none has this name. */
  createSecret(
    fields: Pick<SecretRecord, "projectId" | "environment" | "path" | "key" | "value"> &
      Partial<Pick<SecretRecord, "comment" | "skipMultilineEncoding">>,
  ): SecretRecord {
    const now = this.clock.now();
    const secret: SecretRecord = {
      comment: "",
      skipMultilineEncoding: false,
      ...fields,
      id: randomUUID(),
      version: 1,
      createdAtMs: now,
      updatedAtMs: now,
    };
    this.secrets.push(secret);
    return secret;
  }

  deleteSecret(secret: SecretRecord): void {
    this.secrets.splice(this.secrets.indexOf(secret), 1);
  }

  /** Stores a client secret for the identity; `secret` defaults to 64 random hex characters. */
  createClientSecret(
    identityId: string,
    options: { secret?: string; description?: string; ttl?: number; numUsesLimit?: number },
  ): ClientSecretRecord {
    const now = this.clock.now();
    const record: ClientSecretRecord = {
      id: randomUUID(),
      identityId,
      secret: options.secret ?? randomBytes(32).toString("hex"),
      description: options.description ?? "",
      ttl: options.ttl ?? 0,
      numUsesLimit: options.numUsesLimit ?? 0,
      numUses: 0,
      revoked: false,
      createdAtMs: now,
      updatedAtMs: now,
      lastUsedAtMs: null,
    };
    this.clientSecrets.push(record);
    return record;
  }

  /** Returns whether the client secret's TTL has passed on the fake clock. */
  isExpired(record: ClientSecretRecord): boolean {
    return record.ttl > 0 && this.clock.now() >= record.createdAtMs + record.ttl * 1000;
  }

  /** Returns whether the identity's logins are locked out now. */
  isLockedOut(identity: IdentityRecord): boolean {
    return identity.lockout.lockedUntilMs > this.clock.now();
  }
}
