/**
 * Secret routes of the Infisical fake (`/api/v3/secrets/raw[/{secretName}]`) and the project
 * lookup `GET /api/v2/workspace/{slug}`.
 *
 * The project is named differently per method. GET takes `workspaceId` or `workspaceSlug` in the
 * query. POST, PATCH and DELETE take `workspaceId` or `projectSlug` in the JSON body. Other names
 * are dropped without an error, as Zod does.
 */
import type { FakeResponse } from "./fakeServer";
import type { InfisicalContext, InfisicalRequest } from "./infisicalAuth";
import { apiError, permissionDenied } from "./infisicalErrors";
import {
  Step,
  createBody,
  listQuery,
  readQuery,
  updateBody,
  validateRequest,
  writeBase,
} from "./infisicalSecretSchemas";
import { organizationId } from "./infisicalState";
import type { InfisicalState, ProjectRecord, SecretRecord } from "./infisicalState";

/** Value the backend sends in place of a secret value when `viewSecretValue=false`. */
export const hiddenSecretValue = "<hidden-by-infisical>";

/** Error names of a missing folder, by method. */
const folderErrors: Record<string, string> = {
  POST: "CreateSecret",
  PATCH: "UpdateSecret",
  DELETE: "DeleteSecret",
  GET: "GetSecretByName",
};

// NOTE: the not-found text for an unknown `workspaceId` is unverified. The slug text is documented.
function resolveProject(
  state: InfisicalState,
  workspaceId: string | undefined,
  slug: string | undefined,
): Step<ProjectRecord> {
  let project: ProjectRecord | undefined;
  if (workspaceId) {
    project = state.projectById(workspaceId);
    if (project === undefined) {
      return {
        ok: false,
        response: apiError(404, "NotFound", `Project with ID '${workspaceId}' not found`),
      };
    }
  } else if (slug) {
    project = state.projectBySlug(slug);
    if (project === undefined) {
      return {
        ok: false,
        response: apiError(404, "NotFound", `No project found with slug ${slug}`),
      };
    }
  } else {
    const message = "You must provide projectSlug or workspaceId";
    return { ok: false, response: apiError(400, "BadRequest", message) };
  }
  return { ok: true, value: project };
}

/** Trims a secret value but keeps one trailing newline, as the backend's schema does. */
function normalizeValue(value: string): string {
  return value.endsWith("\n") ? `${value.trim()}\n` : value.trim();
}

/** Builds the `RawSecret` object; routes add their own fields on top. */
function toRawSecret(secret: SecretRecord, value = secret.value): Record<string, unknown> {
  return {
    id: secret.id,
    _id: secret.id,
    workspace: secret.projectId,
    environment: secret.environment,
    version: secret.version,
    type: "shared",
    secretKey: secret.key,
    secretValue: value,
    secretComment: secret.comment,
    skipMultilineEncoding: secret.skipMultilineEncoding,
    secretReminderNote: null,
    secretReminderRepeatDays: null,
    createdAt: new Date(secret.createdAtMs).toISOString(),
    updatedAt: new Date(secret.updatedAtMs).toISOString(),
  };
}

/** Builds a secret as the read routes return it, with the value hidden unless `viewValue`. */
function toReadSecret(secret: SecretRecord, viewValue: boolean): Record<string, unknown> {
  return {
    ...toRawSecret(secret, viewValue ? secret.value : hiddenSecretValue),
    secretValueHidden: !viewValue,
    secretPath: secret.path,
    tags: [],
    secretMetadata: [],
  };
}

function folderNotFound(method: string, path: string, environment: string): FakeResponse {
  const message = `Folder with path '${path}' in environment with slug '${environment}' not found`;
  return apiError(404, folderErrors[method], message);
}

/** Resolves project, permission and folder for a single-secret route. */
function locate(
  context: InfisicalContext,
  request: InfisicalRequest,
  input: Record<string, any>,
  action: "create" | "edit" | "delete" | "read",
): Step<ProjectRecord> {
  const isRead = request.method === "GET";
  const slug = isRead ? input.workspaceSlug : input.projectSlug;
  const project = resolveProject(context.state, input.workspaceId, slug);
  if (!project.ok) {
    return project;
  }
  if (isRead && !input.environment) {
    return { ok: false, response: apiError(400, "BadRequest", "Missing environment") };
  }
  if (action !== "read" && request.caller?.role !== "writer") {
    return { ok: false, response: permissionDenied(action, "secrets") };
  }
  if (!context.state.folderExists(project.value, input.environment, input.secretPath)) {
    return {
      ok: false,
      response: folderNotFound(request.method, input.secretPath, input.environment),
    };
  }
  return project;
}

/** `GET /api/v3/secrets/raw`. */
export function listSecrets(context: InfisicalContext, request: InfisicalRequest): FakeResponse {
  const checked = validateRequest(request, undefined, listQuery);
  if (!checked.ok) {
    return checked.response;
  }
  const { input } = checked.value;
  const missing = apiError(400, "BadRequest", "Missing project id or environment");
  if ((!input.workspaceId && !input.workspaceSlug) || !input.environment) {
    return missing;
  }
  const project = resolveProject(context.state, input.workspaceId, input.workspaceSlug);
  if (!project.ok) {
    return project.response;
  }
  const base: string = input.secretPath;
  if (!context.state.folderExists(project.value, input.environment, base)) {
    const message = `Folder with path '${base}' in environment '${input.environment}' was not found. Please ensure the environment slug and secret path is correct.`;
    return apiError(404, "SecretPathNotFound", message);
  }
  const recursive = input.recursive === "true";
  const inScope = (path: string) =>
    path === base || (recursive && (base === "/" || path.startsWith(`${base}/`)));
  const secrets = context.state.secrets
    .filter((secret) => secret.projectId === project.value.id)
    .filter((secret) => secret.environment === input.environment && inScope(secret.path))
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((secret) => toReadSecret(secret, input.viewSecretValue !== "false"));
  const body = input.include_imports === "true" ? { secrets, imports: [] } : { secrets };
  return { status: 200, body };
}

// NOTE: `expandSecretReferences` is validated but `${...}` references are returned unexpanded.
/** `GET /api/v3/secrets/raw/{secretName}`. */
export function getSecret(context: InfisicalContext, request: InfisicalRequest): FakeResponse {
  const checked = validateRequest(request, undefined, readQuery);
  if (!checked.ok) {
    return checked.response;
  }
  const { name, input } = checked.value;
  const project = locate(context, request, input, "read");
  if (!project.ok) {
    return project.response;
  }
  const secret = context.state.findSecret(
    project.value.id,
    input.environment,
    input.secretPath,
    name,
  );
  if (secret === undefined || input.type === "personal") {
    return apiError(404, "NotFound", `Secret with name '${name}' not found`);
  }
  return { status: 200, body: { secret: toReadSecret(secret, input.viewSecretValue !== "false") } };
}

/** `POST /api/v3/secrets/raw/{secretName}`: create only, 200 with the bare `RawSecret`. */
export function createSecret(context: InfisicalContext, request: InfisicalRequest): FakeResponse {
  const checked = validateRequest(request, createBody, undefined);
  if (!checked.ok) {
    return checked.response;
  }
  const { name, input } = checked.value;
  const project = locate(context, request, input, "create");
  if (!project.ok) {
    return project.response;
  }
  if (input.type === "personal") {
    return apiError(400, "BadRequest", "Must be user to create personal secret");
  }
  const { state } = context;
  if (state.findSecret(project.value.id, input.environment, input.secretPath, name) !== undefined) {
    const message = context.legacyAlreadyExistMessage
      ? "Secret already exist"
      : "Secret already exists";
    return apiError(400, "BadRequest", message);
  }
  const secret = state.createSecret({
    projectId: project.value.id,
    environment: input.environment,
    path: input.secretPath,
    key: name,
    value: normalizeValue(input.secretValue),
    comment: input.secretComment,
    skipMultilineEncoding: input.skipMultilineEncoding ?? false,
  });
  return { status: 200, body: { secret: toRawSecret(secret) } };
}

/** `PATCH /api/v3/secrets/raw/{secretName}`: update only; never creates. */
export function updateSecret(context: InfisicalContext, request: InfisicalRequest): FakeResponse {
  const checked = validateRequest(request, updateBody, undefined);
  if (!checked.ok) {
    return checked.response;
  }
  const { name, input } = checked.value;
  const project = locate(context, request, input, "edit");
  if (!project.ok) {
    return project.response;
  }
  const { state } = context;
  const secret = state.findSecret(project.value.id, input.environment, input.secretPath, name);
  if (input.type === "personal") {
    return apiError(404, "NotFound", `Personal secret with name ${name} not found`);
  }
  if (secret === undefined) {
    return apiError(404, "NotFound", `Secret with name ${name} not found`);
  }
  const newName: string | undefined = input.newSecretName;
  // Any existing secret counts, the one being renamed included.
  if (
    newName !== undefined &&
    state.findSecret(project.value.id, input.environment, input.secretPath, newName)
  ) {
    return apiError(400, "BadRequest", "Secret with the new name already exists");
  }

  const sentValue = input.secretValue === undefined ? undefined : normalizeValue(input.secretValue);
  secret.value = sentValue ?? secret.value;
  secret.key = newName ?? secret.key;
  secret.comment = input.secretComment ?? secret.comment;
  secret.skipMultilineEncoding = input.skipMultilineEncoding ?? secret.skipMultilineEncoding;
  secret.version += 1;
  secret.updatedAtMs = state.clock.now();
  // The response echoes the value sent, or "" when none was sent, not the stored value.
  const body = { secret: { ...toRawSecret(secret, sentValue ?? ""), secretValueHidden: false } };
  return { status: 200, body };
}

/** `DELETE /api/v3/secrets/raw/{secretName}`: the project and environment come in a JSON body. */
export function deleteSecret(context: InfisicalContext, request: InfisicalRequest): FakeResponse {
  const checked = validateRequest(request, writeBase, undefined);
  if (!checked.ok) {
    return checked.response;
  }
  const { name, input } = checked.value;
  const project = locate(context, request, input, "delete");
  if (!project.ok) {
    return project.response;
  }
  const secret = context.state.findSecret(
    project.value.id,
    input.environment,
    input.secretPath,
    name,
  );
  if (secret === undefined || input.type === "personal") {
    return apiError(404, "NotFound", "Secret not found");
  }
  context.state.deleteSecret(secret);
  return { status: 200, body: { secret: { ...toRawSecret(secret), secretValueHidden: false } } };
}

/** `GET /api/v2/workspace/{slug}`: the project object itself, not wrapped. */
export function getProjectBySlug(
  context: InfisicalContext,
  request: InfisicalRequest,
): FakeResponse {
  const slug = request.params.slug;
  const project = context.state.projectBySlug(slug);
  if (project === undefined) {
    return apiError(404, "NotFound", `No project found with slug ${slug}`);
  }
  return {
    status: 200,
    body: {
      id: project.id,
      _id: project.id,
      name: project.name,
      slug: project.slug,
      orgId: organizationId,
      environments: project.environments.map((env) => ({
        name: env.name,
        slug: env.slug,
        id: env.id,
      })),
    },
  };
}
