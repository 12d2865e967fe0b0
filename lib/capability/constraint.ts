// Constraints on one verb parameter (SPEC.md §4.1): an enum of values, an inclusive integer range,
// or an anchored pattern (pattern.ts). Owns admission of a raw wire value, the subset order
// that attenuation relies on, validation of a constraint's own shape, and its human description.
import * as v from "valibot";
import { usageError } from "../errors.ts";
import { MAX_VALUE_LENGTH, compilePattern, matchPattern } from "./pattern.ts";

export type Constraint =
  | { kind: "enum"; values: string[] } // sorted, unique, non-empty
  | { kind: "range"; min: number; max: number } // safe integers, inclusive, min <= max
  | { kind: "pattern"; pattern: string }; // anchored regex source (^…$)

export { MAX_VALUE_LENGTH };

const SafeInt = v.pipe(v.number(), v.safeInteger());

/**
 * A constraint's JSON shape wherever one is read back (a passport, a stored grant, the RPC verb
 * list). The kinds are closed: an unknown kind fails. validateConstraint checks the rest.
 */
export const ConstraintSchema = v.variant(
  "kind",
  [
    v.strictObject({ kind: v.literal("enum"), values: v.array(v.string()) }),
    v.strictObject({ kind: v.literal("range"), min: SafeInt, max: SafeInt }),
    v.strictObject({ kind: v.literal("pattern"), pattern: v.string() }),
  ],
  (issue) => `unknown constraint kind ${issue.received}`,
);
/** Most values an enum may list. */
export const MAX_ENUM_VALUES = 256;
/** A range ⊆ enum/pattern check enumerates at most this many integers (else: not a subset). */
const MAX_ENUMERATED_RANGE = 1024;

/** The one spelling of an integer on the wire: no sign for positives, no leading zeros, no spaces. */
const CANONICAL_INT = /^(0|-?[1-9][0-9]{0,15})$/;

/** Parses a canonical decimal integer, or returns undefined. */
export function parseCanonicalInt(value: string): number | undefined {
  if (!CANONICAL_INT.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A value printable in an enum: 1..256 characters, no control characters. */
export function isPrintableValue(v: string): boolean {
  // eslint-disable-next-line no-control-regex
  return v.length >= 1 && v.length <= MAX_VALUE_LENGTH && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(v);
}

export function enumConstraint(values: Iterable<string>): Constraint {
  return { kind: "enum", values: [...new Set(values)].sort() };
}

/** True if the raw string from the wire satisfies the constraint. */
export function admits(c: Constraint, value: string): boolean {
  if (typeof value !== "string" || value.length > MAX_VALUE_LENGTH) return false;
  switch (c.kind) {
    case "enum":
      return c.values.includes(value);
    case "range": {
      const n = parseCanonicalInt(value);
      return n !== undefined && n >= c.min && n <= c.max;
    }
    case "pattern":
      try {
        return matchPattern(compilePattern(c.pattern), value);
      } catch {
        return false; // a pattern outside the safe subset admits nothing
      }
    default:
      return false; // fail closed on anything unknown
  }
}

/** inner ⊆ outer: every value inner admits, outer admits. Conservative: false when unsure. */
export function isSubset(inner: Constraint, outer: Constraint): boolean {
  switch (inner.kind) {
    case "enum":
      return inner.values.every((v) => admits(outer, v));
    case "range":
      if (outer.kind === "range") return inner.min >= outer.min && inner.max <= outer.max;
      if (inner.max - inner.min >= MAX_ENUMERATED_RANGE) return false;
      for (let n = inner.min; n <= inner.max; n++) if (!admits(outer, String(n))) return false;
      return true;
    case "pattern":
      // Pattern-to-pattern narrowing is not decided; only the identical pattern is a subset.
      return outer.kind === "pattern" && outer.pattern === inner.pattern;
    default:
      return false;
  }
}

/** "web, api" | "1..5000" | "matching ^[a-z]+$" */
export function describeConstraint(c: Constraint): string {
  switch (c.kind) {
    case "enum":
      return c.values.map(displayValue).join(", ");
    case "range":
      return c.min === c.max ? String(c.min) : `${c.min}..${c.max}`;
    case "pattern":
      return `matching ${c.pattern}`;
  }
}

/** The single value a constraint pins, if it admits exactly one. */
export function pinnedValue(c: Constraint): string | undefined {
  if (c.kind === "enum" && c.values.length === 1) return c.values[0];
  if (c.kind === "range" && c.min === c.max) return String(c.min);
  return undefined;
}

/** A value as shown in messages: as-is when plain, else JSON-quoted and cut to 64 characters. */
export function displayValue(v: string): string {
  if (/^[\x21-\x7e]{1,64}$/.test(v) && !/[",]/.test(v)) return v;
  const cut = v.length > 64 ? `${v.slice(0, 64)}…` : v;
  return JSON.stringify(cut);
}

/**
 * Checks a constraint's own shape (from a passport or a catalog). Throws usage `${where}: …`.
 * Enum values sorted and unique, ranges of safe integers, patterns in the safe subset.
 */
export function validateConstraint(c: Constraint, where: string): Constraint {
  switch (c.kind) {
    case "enum": {
      if (!Array.isArray(c.values) || c.values.length === 0) throw usageError(`${where}: enum must list at least one value`);
      if (c.values.length > MAX_ENUM_VALUES) throw usageError(`${where}: enum lists more than ${MAX_ENUM_VALUES} values`);
      for (const v of c.values)
        if (typeof v !== "string" || !isPrintableValue(v))
          throw usageError(`${where}: enum value ${JSON.stringify(v)} must be 1..${MAX_VALUE_LENGTH} printable characters`);
      const sorted = [...new Set(c.values)].sort();
      if (sorted.length !== c.values.length || sorted.some((v, i) => v !== c.values[i]))
        throw usageError(`${where}: enum values must be sorted and unique`);
      return c;
    }
    case "range":
      if (!Number.isSafeInteger(c.min) || !Number.isSafeInteger(c.max))
        throw usageError(`${where}: range bounds must be safe integers`);
      if (c.min > c.max) throw usageError(`${where}: range minimum ${c.min} is above maximum ${c.max}`);
      return c;
    case "pattern":
      try {
        compilePattern(c.pattern);
      } catch (e) {
        throw usageError(`${where}: ${(e as Error).message}`, [...((e as { hints?: string[] }).hints ?? [])]);
      }
      return c;
    default:
      throw usageError(`${where}: unknown constraint kind ${JSON.stringify((c as { kind: unknown }).kind)}`);
  }
}
