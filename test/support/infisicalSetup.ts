// Infisical fake populated the way the provider tests need it: one project, the program's writer
// identity and the operator's reader identity with an existing client secret.
import { FakeClock } from "../fakes/faults";
import { InfisicalFake, startInfisicalFake } from "../fakes/infisical";
import { oldOperatorClientSecret, programClientId, programClientSecret } from "./placeholders";

export const projectSlug = "anythingllm-prod";
export const projectId = "2f6b9c1e-7a4d-4e2b-9c8f-0d1e2f3a4b5c";
export const programIdentityId = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
export const operatorIdentityId = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f";
export const operatorClientId = "7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b";

/** Settings of `startPopulatedInfisicalFake`. */
export interface InfisicalSetupOptions {
  clock?: FakeClock;
  legacyAlreadyExistMessage?: boolean;
  /** Role of the program's identity. Default "writer". */
  programRole?: "writer" | "reader";
  /** Access-token lifetime of the program's identity in seconds. */
  programTokenTtlSeconds?: number;
}

/** A populated fake and the id of the operator's existing client secret. */
export interface InfisicalSetup {
  fake: InfisicalFake;
  oldClientSecretId: string;
}

/** Starts the Infisical fake with a project, both identities and their client secrets. */
export async function startPopulatedInfisicalFake(
  options: InfisicalSetupOptions = {},
): Promise<InfisicalSetup> {
  const fake = await startInfisicalFake({
    clock: options.clock,
    legacyAlreadyExistMessage: options.legacyAlreadyExistMessage,
  });
  fake.addProject({ id: projectId, slug: projectSlug, environments: ["dev", "prod"] });
  fake.addIdentity({
    id: programIdentityId,
    clientId: programClientId,
    role: options.programRole ?? "writer",
    accessTokenTTL: options.programTokenTtlSeconds,
  });
  fake.addClientSecret(programIdentityId, { secret: programClientSecret });
  fake.addIdentity({ id: operatorIdentityId, clientId: operatorClientId, role: "reader" });
  const old = fake.addClientSecret(operatorIdentityId, {
    secret: oldOperatorClientSecret,
    description: "anythingllm-prod-operator-2025-12-01",
  });
  return { fake, oldClientSecretId: old.id };
}

/** Returns "METHOD /path" of each recorded request. */
export function requestLines(fake: InfisicalFake): string[] {
  return fake.requests.map((request) => `${request.method} ${request.path}`);
}

/** Path of the universal-auth login. */
export const loginPath = "/api/v1/auth/universal-auth/login";
