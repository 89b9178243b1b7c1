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
const rfc3339Pattern =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

const keyHashPattern = /^[0-9a-f]{64}$/;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Number of days in a month (1-12) of a year of the proleptic Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Parses an RFC 3339 timestamp into epoch milliseconds, or returns undefined if it is invalid.
 * The day must exist in its month, so 2025-02-30 is rejected rather than read as 2 March.
 * Leap seconds (second 60) are rejected because a JavaScript Date cannot represent them.
 */
export function parseRfc3339(value: string): number | undefined {
  const match = rfc3339Pattern.exec(value);
  if (match === null) {
    return undefined;
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const offsetHour = match[8] === undefined ? 0 : Number(match[8]);
  const offsetMinute = match[9] === undefined ? 0 : Number(match[9]);
  const valid =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHour <= 23 &&
    offsetMinute <= 59;
  if (!valid) {
    return undefined;
  }
  const epochMs = Date.parse(value.replace(" ", "T"));
  return Number.isNaN(epochMs) ? undefined : epochMs;
}

/**
 * Describes a JSON syntax error by line and column only. The parser's own message can quote the
 * text around the fault, which may contain a credential, so it is never shown.
 */
function describeJsonError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  let offset: number | undefined;
  const position = /\bat position (\d+)\b/.exec(message);
  if (position !== null) {
    offset = Number(position[1]);
  } else if (message.startsWith("Unexpected end of JSON input")) {
    offset = text.length;
  }
  if (offset === undefined || offset > text.length) {
    return "invalid JSON";
  }
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return `invalid JSON (line ${line}, column ${column})`;
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
    throw new RotationOutputError(`the input is ${describeJsonError(text, error)}`);
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
  const keyHash = optionalId(name, value, "keyHash", keyHashPattern);
  if (keyHash !== undefined) {
    credential.keyHash = keyHash;
  }
  const clientSecretId = optionalId(name, value, "clientSecretId", uuidPattern);
  if (clientSecretId !== undefined) {
    credential.clientSecretId = clientSecretId;
  }
  return credential;
}

// Rules of the identifiers that reach the chat message. Error messages name the rule, never the value.
const idRules: Record<"keyHash" | "clientSecretId", string> = {
  keyHash: "64 lowercase hexadecimal characters",
  clientSecretId: "a UUID such as 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
};

function optionalId(
  name: CredentialName,
  credential: Record<string, unknown>,
  field: "keyHash" | "clientSecretId",
  pattern: RegExp,
): string | undefined {
  const id = credential[field];
  if (id === undefined) {
    return undefined;
  }
  if (typeof id !== "string" || !pattern.test(id)) {
    throw new RotationOutputError(`\`rotation.${name}.${field}\` is not ${idRules[field]}`);
  }
  return id;
}

function requireTime(
  name: CredentialName,
  credential: Record<string, unknown>,
  field: "lastRotated" | "nextDue",
): string {
  const value = credential[field];
  const example = "an RFC 3339 time such as 2025-01-31T12:00:00Z";
  if (value === undefined) {
    throw new RotationOutputError(
      `\`rotation.${name}.${field}\` is missing, but ${example} was expected`,
    );
  }
  if (typeof value !== "string" || parseRfc3339(value) === undefined) {
    throw new RotationOutputError(`\`rotation.${name}.${field}\` is not ${example}`);
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
