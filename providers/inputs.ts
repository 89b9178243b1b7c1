// Input checks and comparisons shared by the dynamic providers' `check` and `diff`.
import type * as pulumi from "@pulumi/pulumi";

/**
 * Placeholder the engine passes for an input that is not known yet during a preview. It is the
 * value of `unknownValue` in the SDK's `runtime/rpc` module, copied because the provider must not
 * capture the SDK.
 */
export const unknownInputValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Returns true when `value` is known, i.e. not the preview placeholder for an unknown input. */
export function isKnown(value: unknown): boolean {
  return value !== unknownInputValue;
}

/** Collects `check` failures of one set of inputs. */
export interface InputChecker {
  readonly failures: pulumi.dynamic.CheckFailure[];
  /** Requires a non-empty string. */
  requireString(property: string): void;
  /** Requires an absolute http or https URL. */
  requireUrl(property: string): void;
  /** Requires a number within [min, max] when the input is set. */
  optionalNumber(property: string, min: number, max: number, integer?: boolean): void;
  /** Requires one of `allowed` when the input is set. */
  optionalOneOf(property: string, allowed: readonly string[]): void;
  /** Records a failure; `reason` follows the property name. */
  fail(property: string, reason: string): void;
}

// A factory of plain closures instead of a class: the SDK's closure serializer drops class field
// initializers, and provider code runs from its serialized text.
/** Creates an `InputChecker` for `inputs`. Unknown preview values pass every check. */
export function createInputChecker(inputs: Record<string, unknown>): InputChecker {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const fail = (property: string, reason: string) => {
    failures.push({ property, reason: `\`${property}\` ${reason}` });
  };
  const isUnset = (value: unknown) => value === undefined || value === null;

  return {
    failures,
    fail,
    requireString(property) {
      const value = inputs[property];
      if (isKnown(value) && (typeof value !== "string" || value.trim() === "")) {
        fail(property, "must be a non-empty string");
      }
    },
    requireUrl(property) {
      const value = inputs[property];
      if (isKnown(value) && (typeof value !== "string" || !isHttpUrl(value))) {
        fail(property, "must be an absolute http or https URL");
      }
    },
    optionalNumber(property, min, max, integer = false) {
      const value = inputs[property];
      if (isUnset(value) || !isKnown(value)) {
        return;
      }
      const valid =
        typeof value === "number" &&
        Number.isFinite(value) &&
        value >= min &&
        value <= max &&
        (!integer || Number.isInteger(value));
      if (!valid) {
        const kind = integer ? "an integer" : "a number";
        fail(property, `must be ${kind} from ${min} to ${max}, got ${String(value)}`);
      }
    },
    optionalOneOf(property, allowed) {
      const value = inputs[property];
      if (isUnset(value) || !isKnown(value)) {
        return;
      }
      if (typeof value !== "string" || !allowed.includes(value)) {
        fail(property, `must be one of ${allowed.join(", ")}, got ${String(value)}`);
      }
    },
  };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/** Returns true when two input values are equal, treating undefined and null as the same. */
export function sameInput(a: unknown, b: unknown): boolean {
  const left = a === null ? undefined : a;
  const right = b === null ? undefined : b;
  return left === right;
}

/**
 * Lists the properties whose values differ between old outputs and new inputs. Only `properties`
 * are compared, so the serialized provider text in `__provider` never counts as a change.
 */
// NOTE: because a new provider text alone is no change, `read` and `delete` of an existing
// resource keep running the text stored with it until the resource is updated or replaced, which
// for a credential means its next rotation. A fix to `delete` reaches old credentials only then.
export function changedProperties(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  properties: readonly string[],
): string[] {
  return properties.filter((property) => !sameInput(olds[property], news[property]));
}

/** Returns a copy of `record` without undefined values, which a protobuf Struct cannot hold. */
export function withoutUndefined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as T;
}

/** Removes trailing slashes from a base URL. */
export function trimTrailingSlashes(url: string): string {
  return url.trim().replace(/\/+$/, "");
}
