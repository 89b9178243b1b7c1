/**
 * Parsing of the stack output `rotation`, which the program exports as
 * `{ openrouterApiKey: { lastRotated, nextDue, keyHash }, jwtSecret: { lastRotated, nextDue },
 * operatorClientSecret: { lastRotated, nextDue, clientSecretId } }` with RFC 3339 times.
 */

/** Names of the rotated credentials, in the order the program rotates them. */
export const credentialNames = ["openrouterApiKey", "jwtSecret", "operatorClientSecret"] as const;

/** Name of one rotated credential, as the key of the `rotation` output. */
export type CredentialName = (typeof credentialNames)[number];

/** Rotation state of one credential. Times are RFC 3339 strings as the program exports them. */
export interface CredentialRotation {
  lastRotated: string;
  nextDue: string;
  /** OpenRouter key hash (openrouterApiKey only), an identifier rather than key material. */
  keyHash?: string;
  /** Infisical client secret id (operatorClientSecret only), not the client secret itself. */
  clientSecretId?: string;
}

/** The stack output `rotation`. */
export type RotationOutput = Record<CredentialName, CredentialRotation>;

/** Raised when stack outputs cannot be read as a `rotation` output. */
export class RotationOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RotationOutputError";
  }
}

// Full date, "T" (or a space, which RFC 3339 allows), full time, and a "Z" or numeric offset.
const rfc3339Pattern = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 timestamp into epoch milliseconds, or returns undefined if it is invalid. */
export function parseRfc3339(value: string): number | undefined {
  if (!rfc3339Pattern.test(value)) {
    return undefined;
  }
  const epochMs = Date.parse(value.replace(" ", "T"));
  return Number.isNaN(epochMs) ? undefined : epochMs;
}

/**
 * Parses the text of `pulumi stack output --json` (all outputs) or of
 * `pulumi stack output --json rotation` (that output alone) into a validated `rotation` output.
 * Raises RotationOutputError naming the field that is missing or invalid.
 */
export function parseRotationOutput(text: string): RotationOutput {
  if (text.trim() === "") {
    throw new RotationOutputError(
      "the input is empty, but the output of `pulumi stack output --json` was expected",
    );
  }

  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RotationOutputError(`the input is not valid JSON (${reason})`);
  }

  return validateRotation(selectRotation(document));
}

function selectRotation(document: unknown): unknown {
  if (!isRecord(document)) {
    throw new RotationOutputError("the input is not a JSON object of stack outputs");
  }
  if ("rotation" in document) {
    return document.rotation;
  }
  if (credentialNames.some((name) => name in document)) {
    return document;
  }
  throw new RotationOutputError(
    "the stack has no output `rotation`, so run `pulumi up` once with this program first",
  );
}

function validateRotation(rotation: unknown): RotationOutput {
  if (rotation === "[secret]") {
    throw new RotationOutputError(
      "the output `rotation` is marked secret, so `pulumi stack output` hides it",
    );
  }
  if (!isRecord(rotation)) {
    throw new RotationOutputError("the output `rotation` is not an object");
  }

  const result = {} as RotationOutput;
  for (const name of credentialNames) {
    result[name] = validateCredential(name, rotation[name]);
  }
  return result;
}

function validateCredential(name: CredentialName, value: unknown): CredentialRotation {
  if (!isRecord(value)) {
    throw new RotationOutputError(`\`rotation.${name}\` is missing or not an object`);
  }

  const credential: CredentialRotation = {
    lastRotated: requireTime(name, value, "lastRotated"),
    nextDue: requireTime(name, value, "nextDue"),
  };
  for (const field of ["keyHash", "clientSecretId"] as const) {
    const id = value[field];
    if (id === undefined) {
      continue;
    }
    if (typeof id !== "string" || id === "") {
      throw new RotationOutputError(`\`rotation.${name}.${field}\` is not a non-empty string`);
    }
    credential[field] = id;
  }
  return credential;
}

function requireTime(
  name: CredentialName,
  credential: Record<string, unknown>,
  field: "lastRotated" | "nextDue",
): string {
  const value = credential[field];
  if (typeof value !== "string" || parseRfc3339(value) === undefined) {
    const displayed = typeof value === "string" ? `"${value}"` : String(value);
    throw new RotationOutputError(
      `\`rotation.${name}.${field}\` is ${displayed}, not an RFC 3339 time such as 2025-01-31T12:00:00Z`,
    );
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
