// The `--verb` spec syntax (SPEC.md §3): `verb`, `verb:k=v`, `k=a|b` (an allowed set),
// `k=1..500` (an integer range), several pins separated by ",". Syntax only: whether a verb or
// value exists is decided against the catalog and the grant (grant.ts).
import { parseCanonicalInt, type Constraint, enumConstraint } from "./constraint.ts";
import { usageError } from "../errors.ts";
import { PARAM_NAME, VERB_NAME } from "./catalog.ts";

export type Pin = { values: string[] } | { range: [number, number] };
export interface VerbSpec {
  verb: string;
  pins: Record<string, Pin>;
}

const MAX_SPEC_LENGTH = 4096;
const RANGE = /^(-?\d+)\.\.(-?\d+)$/;

export function parseVerbSpec(text: string): VerbSpec {
  const where = `--verb ${JSON.stringify(String(text).slice(0, 80))}`;
  if (typeof text !== "string" || text.length === 0) throw usageError(`--verb: empty`, ["e.g. --verb ssh.tail_logs:service=web"]);
  if (text.length > MAX_SPEC_LENGTH) throw usageError(`${where}: longer than ${MAX_SPEC_LENGTH} characters`);
  const colon = text.indexOf(":");
  const verb = colon === -1 ? text : text.slice(0, colon);
  if (!VERB_NAME.test(verb)) throw usageError(`${where}: "${verb}" is not a verb name`, ["e.g. --verb ssh.tail_logs:service=web,lines=1..500"]);
  // No prototype: a pin named "__proto__" must be an own key (then refused as unknown), never
  // a silent prototype change that drops the pin.
  const pins: Record<string, Pin> = Object.create(null);
  if (colon === -1) return { verb, pins };
  const rest = text.slice(colon + 1);
  if (rest === "") throw usageError(`${where}: nothing after ":"`, ["pins look like k=v, k=a|b or k=1..500"]);
  for (const part of rest.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw usageError(`${where}: "${part}" is not k=v`, ["pins look like k=v, k=a|b or k=1..500, separated by \",\""]);
    const key = part.slice(0, eq);
    const val = part.slice(eq + 1);
    if (!PARAM_NAME.test(key)) throw usageError(`${where}: "${key}" is not a parameter name`);
    if (Object.hasOwn(pins, key)) throw usageError(`${where}: ${key} is pinned twice`, ["use k=a|b for a set of values"]);
    const range = RANGE.exec(val);
    if (range) {
      const lo = parseCanonicalInt(range[1]!);
      const hi = parseCanonicalInt(range[2]!);
      if (lo === undefined || hi === undefined) throw usageError(`${where}: ${key}=${val}: bounds must be plain integers`);
      if (lo > hi) throw usageError(`${where}: ${key}=${val}: minimum is above maximum`);
      pins[key] = { range: [lo, hi] };
      continue;
    }
    const values = val.split("|");
    if (values.some((x) => x === "")) throw usageError(`${where}: ${key}: empty value`);
    pins[key] = { values: [...new Set(values)].sort() };
  }
  return { verb, pins };
}

/** A pin as a constraint (values → enum, range → range). */
export function pinConstraint(pin: Pin): Constraint {
  return "range" in pin ? { kind: "range", min: pin.range[0], max: pin.range[1] } : enumConstraint(pin.values);
}

/** The pin as typed, for messages: "web|api" or "1..500". */
export function describePin(pin: Pin): string {
  return "range" in pin ? `${pin.range[0]}..${pin.range[1]}` : pin.values.join("|");
}
