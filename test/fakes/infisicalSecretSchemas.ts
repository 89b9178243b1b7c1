/**
 * Request schemas of the Infisical fake's secret routes, following the backend's Zod schemas:
 * unknown fields are dropped, strings trimmed where the backend trims, defaults applied.
 */
import type { FakeResponse } from "./fakeServer";
import type { InfisicalRequest } from "./infisicalAuth";
import { FieldRule, ObjectSchema, validate, validationFailure } from "./infisicalErrors";

const booleanFlag: FieldRule = { type: "enum", options: ["true", "false"], optional: true };

const secretType: FieldRule = { type: "enum", options: ["shared", "personal"], default: "shared" };

const secretPath: FieldRule = { type: "string", trim: true, default: "/" };

const optionalString: FieldRule = { type: "string", optional: true };

/** Query of `GET /raw/{secretName}`; the project is `workspaceId` or `workspaceSlug`. */
export const readQuery: ObjectSchema = {
  workspaceId: optionalString,
  workspaceSlug: optionalString,
  environment: optionalString,
  secretPath,
  version: optionalString,
  type: secretType,
  viewSecretValue: booleanFlag,
  expandSecretReferences: booleanFlag,
  include_imports: booleanFlag,
};

/** Query of `GET /raw`. */
export const listQuery: ObjectSchema = {
  ...readQuery,
  recursive: booleanFlag,
  tagSlugs: optionalString,
  metadataFilter: optionalString,
};

/** Body fields every write shares; the project is `workspaceId` or `projectSlug`. */
export const writeBase: ObjectSchema = {
  workspaceId: optionalString,
  projectSlug: optionalString,
  environment: { type: "string" },
  secretPath,
  type: secretType,
};

const reminderFields: ObjectSchema = {
  secretReminderNote: { type: "string", optional: true, nullable: true, maxLength: 1024 },
  secretReminderRepeatDays: { type: "number", optional: true, nullable: true },
};

/** Body of `POST /raw/{secretName}`. */
export const createBody: ObjectSchema = {
  ...writeBase,
  secretValue: { type: "string" },
  secretComment: { type: "string", default: "" },
  skipMultilineEncoding: { type: "boolean", optional: true, nullable: true },
  tagIds: { type: "stringArray", optional: true },
  secretMetadata: { type: "array", optional: true },
  ...reminderFields,
};

/** Body of `PATCH /raw/{secretName}`. */
export const updateBody: ObjectSchema = {
  ...writeBase,
  secretValue: optionalString,
  secretComment: optionalString,
  skipMultilineEncoding: { type: "boolean", optional: true, nullable: true },
  tagIds: { type: "stringArray", optional: true },
  secretMetadata: { type: "array", optional: true },
  secretReminderRecipients: { type: "stringArray", optional: true },
  newSecretName: { type: "string", optional: true, trim: true, minLength: 1, secretName: true },
  ...reminderFields,
};

/** Name rules of the path parameter: POST is the strictest, DELETE and GET the loosest. */
const nameRules: Record<string, FieldRule> = {
  POST: { type: "string", trim: true, minLength: 1, secretName: true },
  PATCH: { type: "string", trim: true, minLength: 1 },
  DELETE: { type: "string", minLength: 1 },
  GET: { type: "string", trim: true },
};

/** Result of one step of a route: a value, or the response to send instead. */
export type Step<T> = { ok: true; value: T } | { ok: false; response: FakeResponse };

/** Checks path parameters, body and query in Fastify's order and reports the first failure. */
export function validateRequest(
  request: InfisicalRequest,
  bodySchema: ObjectSchema | undefined,
  querySchema: ObjectSchema | undefined,
): Step<{ name: string; input: Record<string, any> }> {
  let name = "";
  if (request.params.secretName !== undefined) {
    const params = validate(request.params, { secretName: nameRules[request.method] });
    if (!params.ok) {
      return { ok: false, response: validationFailure(params.issues) };
    }
    name = params.data.secretName;
  }
  const source = bodySchema !== undefined ? request.body : Object.fromEntries(request.query);
  const schema = bodySchema ?? querySchema ?? {};
  const checked = validate(source, schema);
  if (!checked.ok) {
    return { ok: false, response: validationFailure(checked.issues) };
  }
  if (checked.data.version !== undefined && !/^\d+$/.test(checked.data.version)) {
    const issue = { code: "invalid_type", expected: "number", received: "nan", path: ["version"] };
    return {
      ok: false,
      response: validationFailure([{ ...issue, message: "Expected number, received nan" }]),
    };
  }
  checked.data.secretPath = removeTrailingSlash(checked.data.secretPath);
  return { ok: true, value: { name, input: checked.data } };
}

function removeTrailingSlash(path: string): string {
  return path !== "/" && path.endsWith("/") ? path.slice(0, -1) : path;
}
