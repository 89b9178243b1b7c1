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
export type ScopeSettings = Pick<
  StackConfig,
  "infisicalApiUrl" | "projectSlug" | "envSlug" | "secretsPath"
>;

/**
 * Looks up a project by its slug with the program's own identity. Returns undefined when
 * Infisical responds 404 (no such project in the identity's organization).
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
    if (isNotFoundAt(error, path)) {
      return undefined;
    }
    throw error;
  }
}

// Only a 404 of the lookup itself means an unknown project or folder. A 404 of the login, or
// Fastify's "Route ... not found" for a path the server does not serve, points at the host.
function isNotFoundAt(error: unknown, path: string): boolean {
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

/**
 * Checks whether a folder exists by listing its secrets with the values hidden. Returns false
 * when Infisical responds 404 for the folder.
 */
export async function infisicalFolderExists(settings: ScopeSettings) {
  const path = "/v3/secrets/raw";
  try {
    await infisicalRequest({
      apiUrl: settings.infisicalApiUrl,
      method: "GET",
      path,
      query: {
        workspaceSlug: settings.projectSlug,
        environment: settings.envSlug,
        secretPath: settings.secretsPath,
        viewSecretValue: "false",
        include_imports: "false",
        recursive: "false",
      },
      idempotent: true,
    });
    return true;
  } catch (error) {
    if (isNotFoundAt(error, path)) {
      return false;
    }
    throw error;
  }
}

/** Returns the problem for a secrets path that is not a folder of the environment. */
export function missingFolderProblem(settings: ScopeSettings): ConfigProblem {
  return {
    key: "secretsPath",
    message: `secretsPath ${JSON.stringify(settings.secretsPath)} is not a folder of environment ${JSON.stringify(settings.envSlug)} in Infisical project ${JSON.stringify(settings.projectSlug)}. Fix: create the folder in Infisical, or ${configSetCommand("secretsPath", "/")}`,
  };
}

/** Returns the problem for a project slug that Infisical does not know. */
export function unknownProjectProblem(settings: ScopeSettings): ConfigProblem {
  return {
    key: "projectSlug",
    message: `projectSlug ${JSON.stringify(settings.projectSlug)} names no Infisical project that the program's identity can see at ${settings.infisicalApiUrl} (404). Fix: ${configSetCommand("projectSlug", "<project-slug>")}, or add the identity to the project`,
  };
}

// A problem with any of these settings makes the lookup meaningless or impossible.
const lookupSettings = [
  "infisicalHost",
  "projectSlug",
  "envSlug",
  "infisicalClientId",
  "infisicalClientSecret",
];

/**
 * Looks up the configured project, environment and folder in Infisical and returns the problems
 * found. Settings that already have a problem in `knownProblems` are not looked up: without a
 * valid host, slugs and credentials nothing is checked, and an invalid `secretsPath` skips the
 * folder check. A failed lookup is returned as a problem of `verifyScope`.
 */
export async function findScopeProblems(
  settings: ScopeSettings,
  knownProblems: readonly ConfigProblem[],
): Promise<ConfigProblem[]> {
  const broken = new Set(knownProblems.map((problem) => problem.key));
  if (lookupSettings.some((key) => broken.has(key))) {
    return [];
  }
  try {
    const project = await fetchInfisicalProject(settings.infisicalApiUrl, settings.projectSlug);
    if (project === undefined) {
      return [unknownProjectProblem(settings)];
    }
    const environmentProblem = checkEnvironment(settings, project);
    if (environmentProblem !== undefined) {
      return [environmentProblem];
    }
    if (broken.has("secretsPath") || (await infisicalFolderExists(settings))) {
      return [];
    }
    return [missingFolderProblem(settings)];
  } catch (error) {
    return [lookupFailedProblem(error)];
  }
}

function lookupFailedProblem(error: unknown): ConfigProblem {
  const reason = error instanceof Error ? error.message : String(error);
  return {
    key: "verifyScope",
    message: `The Infisical lookup that checks projectSlug, envSlug and secretsPath failed: ${reason}. Fix: correct infisicalHost or the program's Infisical credentials, or skip the check with ${configSetCommand("verifyScope", "false")}`,
  };
}

/**
 * Checks that the configured project exists, has the configured environment, and that the
 * environment has the configured folder. A wrong value fails the run before any resource is
 * declared, naming the setting and the valid choices, instead of leaving the operator to report
 * a vague sync failure later. Throws a {@link StackConfigError}.
 */
export async function verifyInfisicalScope(settings: ScopeSettings): Promise<void> {
  const problems = await findScopeProblems(settings, []);
  if (problems.length > 0) {
    throw new StackConfigError(problems);
  }
}
