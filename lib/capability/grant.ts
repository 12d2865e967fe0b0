// Grants and attenuation (SPEC.md §4): a principal's verbs with a constraint on every parameter,
// built from `--verb` specs against the catalog, and narrowed into a passport's verbs by
// `attenuate`, which can only remove authority. A missing constraint never means "any".
import * as v from "valibot";
import { PARAM_NAME, VERB_NAME, type Catalog, type VerbDef } from "./catalog.ts";
import { type Constraint, ConstraintSchema, admits, describeConstraint, displayValue, isSubset, validateConstraint } from "./constraint.ts";
import { deniedError, usageError } from "../errors.ts";
import { type Pin, type VerbSpec, describePin, pinConstraint } from "./verbspec.ts";

export type GrantVerbs = Record<string, Record<string, Constraint>>; // every param of each verb present

/** The JSON shape of grant verbs (a stored grant, a passport's verbs). */
export const GrantVerbsSchema = v.record(
  v.pipe(v.string(), v.regex(VERB_NAME, "bad verb name")),
  v.record(v.pipe(v.string(), v.regex(PARAM_NAME, "bad parameter name")), ConstraintSchema),
);

/**
 * Grant verbs read back from storage: the schema, then each constraint's own rules, so a row
 * edited outside openscope is refused rather than trusted. Throws usage `${where}: …`.
 */
export function parseGrantVerbs(json: unknown, where: string): GrantVerbs {
  const r = v.safeParse(GrantVerbsSchema, json);
  if (!r.success) {
    const issue = r.issues[0];
    const path = (issue.path ?? []).map((x) => String(x.key)).join(".");
    throw usageError(`${where}: ${path ? `${path}: ` : ""}${issue.message}`);
  }
  for (const [verb, params] of Object.entries(r.output))
    for (const [param, c] of Object.entries(params)) validateConstraint(c, `${where}: ${verb}.${param}`);
  return r.output;
}

function catalogVerb(catalog: Catalog, verb: string, where: string): VerbDef {
  const def = catalog.get(verb);
  if (!def) {
    const known = [...catalog.keys()].sort().join(", ") || "none";
    throw usageError(`${where}: unknown verb ${verb}`, [`the catalog has: ${known}`]);
  }
  return def;
}

function unknownParam(def: VerbDef, key: string): Error {
  const names = Object.keys(def.params).sort();
  return usageError(`${def.name}: unknown parameter ${key}`, [
    names.length ? `its parameters: ${names.join(", ")}` : `${def.name} takes no parameters`,
  ]);
}

/** The first part of a pin outside `outer`, as "k=v" (or "k=a..b") for messages. */
function outsidePart(key: string, pin: Pin, outer: Constraint): string {
  if ("values" in pin) {
    const bad = pin.values.find((x) => !admits(outer, x));
    if (bad !== undefined) return `${key}=${displayValue(bad)}`;
  }
  return `${key}=${displayValue(describePin(pin))}`;
}

/** `grant add`: specs → grant verbs; open parameters copy the catalog's constraint. Usage errors. */
export function grantVerbsFromSpecs(catalog: Catalog, specs: VerbSpec[]): GrantVerbs {
  const out: GrantVerbs = {};
  for (const spec of specs) {
    const def = catalogVerb(catalog, spec.verb, "--verb");
    if (Object.hasOwn(out, spec.verb)) throw usageError(`--verb ${spec.verb}: named twice`, ["pin a set of values with k=a|b"]);
    out[spec.verb] = narrow(def, spec, (key) => def.params[key]!.constraint, (key, pin, outer) =>
      usageError(`${def.name}: ${outsidePart(key, pin, outer)} is not in the catalog (allowed: ${describeConstraint(outer)})`),
    );
  }
  return out;
}

/** Applies a spec's pins to a verb; each pin must be a subset of `outerOf(param)`. */
function narrow(
  def: VerbDef,
  spec: VerbSpec,
  outerOf: (key: string) => Constraint,
  outside: (key: string, pin: Pin, outer: Constraint) => Error,
): Record<string, Constraint> {
  for (const key of Object.keys(spec.pins)) if (!Object.hasOwn(def.params, key)) throw unknownParam(def, key);
  const result: Record<string, Constraint> = {};
  for (const key of Object.keys(def.params).sort()) {
    const outer = outerOf(key);
    const pin = Object.hasOwn(spec.pins, key) ? spec.pins[key] : undefined;
    if (pin === undefined) {
      result[key] = outer;
      continue;
    }
    const inner = pinConstraint(pin);
    if (!isSubset(inner, outer)) throw outside(key, pin, outer);
    result[key] = inner;
  }
  return result;
}

/** `grant add` twice: the union per verb; a verb named again has its constraints replaced. */
export function mergeGrantVerbs(existing: GrantVerbs, added: GrantVerbs): GrantVerbs {
  const out: GrantVerbs = {};
  for (const verb of [...new Set([...Object.keys(existing), ...Object.keys(added)])].sort())
    out[verb] = { ...(Object.hasOwn(added, verb) ? added[verb]! : existing[verb]!) };
  return out;
}

/**
 * `share open`: the grant narrowed by the request. Only verbs in the grant, each pin a subset of
 * the grant's constraint (and of the catalog's); open parameters copy the grant's constraint.
 * Throws denied "verb: k=v is not in your grant (allowed: …)", or usage for unknown names.
 */
export function attenuate(catalog: Catalog, grant: GrantVerbs, request: VerbSpec[]): GrantVerbs {
  if (request.length === 0) throw usageError("share: name at least one verb", ["e.g. --verb ssh.tail_logs:service=web"]);
  const out: GrantVerbs = {};
  for (const spec of request) {
    if (Object.hasOwn(out, spec.verb)) throw usageError(`--verb ${spec.verb}: named twice`, ["pin a set of values with k=a|b"]);
    // Outside the grant is a denial (exit 3) even for a verb the catalog does not know.
    const held = Object.hasOwn(grant, spec.verb) ? grant[spec.verb] : undefined;
    if (held === undefined) {
      const mine = Object.keys(grant).sort().join(", ") || "none";
      throw deniedError(`${spec.verb}: not in your grant`, [`your verbs: ${mine}`]);
    }
    const def = catalogVerb(catalog, spec.verb, "--verb");
    const outerOf = (key: string): Constraint => {
      const g = Object.hasOwn(held, key) ? held[key] : undefined;
      const c = def.params[key]!.constraint;
      // A grant older than a narrowed catalog is not silently widened or trusted.
      if (g === undefined || !isSubset(g, c))
        throw usageError(`${spec.verb}: your grant for ${key} no longer fits the catalog`, ["ask the operator to re-run grant add"]);
      return g;
    };
    out[spec.verb] = narrow(def, spec, outerOf, (key, pin, outer) =>
      deniedError(`${spec.verb}: ${outsidePart(key, pin, outer)} is not in your grant (allowed: ${describeConstraint(outer)})`),
    );
  }
  return out;
}
