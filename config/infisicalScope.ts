import * as pulumi from "@pulumi/pulumi";

import { isApiError } from "../providers/http";
import { infisicalRequest } from "../providers/infisicalAuth";
import { ConfigProblem, configSetCommand, StackConfig, StackConfigError } from "./stackConfig";

/** An Infisical project as `GET /v2/workspace/{slug}` returns it, as far as it is read here. */
export interface InfisicalProject {
  id?: string;
  slug?: string;
  environments: { slug: string; name?: string }[];
}

/** Settings the scope check reads. */
export type ScopeSettings = Pick<StackConfig, "infisicalApiUrl" | "projectSlug" | "envSlug">;

/**
 * Looks up a project by its slug with the program's own identity. Returns undefined when
 * Infisical answers 404 (no such project in the identity's organization).
 */
export async function fetchInfisicalProject(
  apiUrl: string,
  projectSlug: string,
): Promise<InfisicalProject | undefined> {
  const path = `/v2/workspace/${encodeURIComponent(projectSlug)}`;
  try {
    const response = await infisicalRequest<{ environments?: unknown }>({
      apiUrl,
      method: "GET",
      path,
      idempotent: true,
    });
    return { ...response.data, environments: parseEnvironments(response.data?.environments) };
  } catch (error) {
    if (isProjectNotFound(error, path)) {
      return undefined;
    }
    throw error;
  }
}

// Only a 404 of the lookup itself means an unknown project. A 404 of the login, or Fastify's
// "Route ... not found" for a path the server does not serve, points at the host instead.
function isProjectNotFound(error: unknown, path: string): boolean {
  return (
    isApiError(error) &&
    error.status === 404 &&
    error.endpoint.endsWith(path) &&
    !/^Route /.test(error.apiMessage ?? "")
  );
}

function parseEnvironments(value: unknown): InfisicalProject["environments"] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value
    .filter((env): env is { slug: string; name?: string } => typeof env?.slug === "string")
    .map((env) => ({ slug: env.slug, name: typeof env.name === "string" ? env.name : undefined }));
}

/** Picks the valid slug to suggest for a wrong one: one that starts like it, else the first. */
function closestSlug(value: string, slugs: string[]): string {
  const related = slugs.find((slug) => value.startsWith(slug) || slug.startsWith(value));
  return related ?? slugs[0];
}

/** Returns the problem with `envSlug` for a looked-up project, or undefined when it is valid. */
export function checkEnvironment(
  settings: ScopeSettings,
  project: InfisicalProject,
): ConfigProblem | undefined {
  const slugs = project.environments.map((env) => env.slug);
  if (slugs.includes(settings.envSlug)) {
    return undefined;
  }
  const valid = slugs.length > 0 ? slugs.join(", ") : "(none)";
  const fix = configSetCommand(
    "envSlug",
    slugs.length > 0 ? closestSlug(settings.envSlug, slugs) : "<env-slug>",
  );
  return {
    key: "envSlug",
    message: `envSlug ${JSON.stringify(settings.envSlug)} is not an environment of Infisical project ${JSON.stringify(settings.projectSlug)}; its environment slugs are ${valid}. Fix: ${fix}`,
  };
}

/** Returns the problem for a project slug that Infisical does not know. */
export function unknownProjectProblem(settings: ScopeSettings): ConfigProblem {
  return {
    key: "projectSlug",
    message: `projectSlug ${JSON.stringify(settings.projectSlug)} names no Infisical project that the program's identity can see at ${settings.infisicalApiUrl} (404). Fix: ${configSetCommand("projectSlug", "<project-slug>")}, or add the identity to the project`,
  };
}

/**
 * Checks that the configured project exists and has the configured environment, before any
 * resource is declared, so a wrong slug fails the run with the valid choices instead of leaving
 * the operator to report a vague sync failure later. Throws a {@link StackConfigError}.
 */
export async function verifyInfisicalScope(settings: ScopeSettings): Promise<void> {
  let project: InfisicalProject | undefined;
  try {
    project = await fetchInfisicalProject(settings.infisicalApiUrl, settings.projectSlug);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new pulumi.RunError(
      `The Infisical project lookup for the scope check failed: ${reason}. ` +
        `To skip the check, run ${configSetCommand("verifyScope", "false")}`,
    );
  }

  const problem =
    project === undefined ? unknownProjectProblem(settings) : checkEnvironment(settings, project);
  if (problem !== undefined) {
    throw new StackConfigError([problem]);
  }
}
