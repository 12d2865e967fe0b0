// The verb catalog (`verbs.toml`, SPEC.md §2): parsing and every load-time refusal. A verb is an
// argv template run by the exec or ssh adapter; every parameter is constrained, used by a
// placeholder, and (unless the parameter says so with `allow`) cannot carry "/", "..", spaces
// or a leading "-". Pure: text in, a read-only Catalog out, or OpenScopeError("usage").
import * as v from "valibot";
import { type Constraint, enumConstraint, admits, isPrintableValue, validateConstraint } from "./constraint.ts";
import { parseDuration, parseSize } from "../units.ts";
import { OpenScopeError, usageError } from "../errors.ts";
import { compilePattern } from "./pattern.ts";
import { compileSiteRule, type SiteRuleDef } from "../redact/site-rule.ts";
import { BUILTIN_RULES } from "../redact/rules.ts";
import { PRIVATE_KEY_RULE } from "../redact/scanner.ts";

/** The dangerous shapes a parameter may opt into, one by one (SPEC.md §2.4). */
export const ALLOW_FLAGS = ["slash", "dotdot", "whitespace", "leading-dash"] as const;
export type AllowFlag = (typeof ALLOW_FLAGS)[number];

export interface ParamDef {
  name: string;
  constraint: Constraint;
  default?: string;
  allow?: AllowFlag[];
}
export interface VerbDef {
  name: string;
  summary: string;
  adapter: "exec" | "ssh";
  host?: string;
  user?: string;
  port?: number; // ssh only
  argv: string[];
  timeoutMs: number;
  maxOutputBytes: number;
  params: Record<string, ParamDef>;
  /** "always": every call waits for the operator's approval (SPEC.md §17.2). Absent: none. */
  approval?: "always";
  /** Present only when the verb opts out of output redaction (`redact = false`, SPEC.md §17.3). */
  redact?: false;
  /** The catalog's site rules (`[redact] extra`), shared by every verb; absent when there are none. */
  siteRules?: readonly SiteRuleDef[];
}
export type Catalog = ReadonlyMap<string, VerbDef>;

export const VERB_NAME = /^[a-z][a-z0-9_-]{0,31}(\.[a-z][a-z0-9_-]{0,31}){0,3}$/;
export const PARAM_NAME = /^[a-z_][a-z0-9_]{0,31}$/;
const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$/;
const USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const PLACEHOLDER = /\{([^{}]*)\}/g;
const MAX_ARGV = 64;
const MAX_ARG_LENGTH = 4096;
const MAX_TIMEOUT_MS = 24 * 3_600_000;
const MAX_OUTPUT_BYTES = 1024 ** 3;
const MAX_VERBS = 1024;

const ParamSchema = v.strictObject({
  enum: v.optional(v.array(v.string("must be a string"))),
  int: v.optional(v.tuple([v.number(), v.number()], "must be [min, max]")),
  pattern: v.optional(v.string()),
  default: v.optional(v.union([v.string(), v.number()], "must be a string or an integer")),
  allow: v.optional(v.array(v.picklist(ALLOW_FLAGS, `must be one of: ${ALLOW_FLAGS.join(", ")}`))),
});

const VerbSchema = v.strictObject({
  summary: v.pipe(v.string("is required (a string)"), v.minLength(1, "must not be empty"), v.maxLength(200, "is too long")),
  adapter: v.picklist(["exec", "ssh"], 'must be "exec" or "ssh"'),
  argv: v.array(v.string("must be a string"), "is required (a list of strings)"),
  timeout: v.string('is required (a duration such as "10s")'),
  max_output: v.string('is required (a size such as "1MiB")'),
  params: v.optional(v.record(v.string(), v.unknown(), "must be a table")),
  host: v.optional(v.string()),
  user: v.optional(v.string()),
  port: v.optional(v.number()),
  approval: v.optional(v.picklist(["always", "none"], 'must be "always" or "none"')),
  redact: v.optional(v.boolean("must be true or false")),
});

const SiteRuleSchema = v.strictObject({ id: v.string("is required (a string)"), pattern: v.string("is required (a string)") });
const RedactSchema = v.strictObject({ extra: v.optional(v.array(SiteRuleSchema, "must be a list of { id, pattern } tables")) });
const MAX_SITE_RULES = 64;

const TopSchema = v.strictObject({
  verb: v.optional(v.record(v.string(), v.unknown(), "must be a table")),
  redact: v.optional(v.unknown()),
});

function issueText(issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0]!;
  const path = (issue.path ?? []).map((p) => String(p.key)).join(".");
  let msg = issue.message;
  if (issue.kind === "schema" && issue.type === "strict_object" && issue.expected === "never")
    msg = "unknown field";
  else if (issue.input === undefined) msg = "is required";
  else if (/^Invalid (type|key)/.test(msg) && issue.expected) msg = `expected ${issue.expected}, got ${issue.received}`;
  return path ? `${path}: ${msg}` : msg;
}

/** Parses verbs.toml. Errors read `verbs.toml: verb "x": params.y: …` (source replaces "verbs.toml"). */
export function parseCatalog(tomlText: string, source = "verbs.toml"): Catalog {
  if (typeof tomlText !== "string") throw usageError(`${source}: not text`);
  let raw: unknown;
  try {
    raw = Bun.TOML.parse(tomlText);
  } catch (e) {
    throw usageError(`${source}: not valid TOML: ${(e as Error).message.replace(/^TOML Parse error: /, "")}`);
  }
  const top = v.safeParse(TopSchema, raw);
  if (!top.success) throw usageError(`${source}: ${issueText(top.issues)}`, ['verbs are tables named [verb."name"]']);
  const siteRules = parseSiteRules(top.output.redact, `${source}: redact`);
  const verbs = new Map<string, VerbDef>();
  const entries = Object.entries(top.output.verb ?? {});
  if (entries.length > MAX_VERBS) throw usageError(`${source}: more than ${MAX_VERBS} verbs`);
  for (const [name, body] of entries) {
    const def = parseVerb(name, body, `${source}: verb ${JSON.stringify(name)}`);
    if (siteRules.length > 0 && def.redact !== false) def.siteRules = siteRules;
    verbs.set(name, def);
  }
  return verbs;
}

/** `[redact] extra`: site rules, each checked as a safe unanchored pattern (SPEC.md §17.3). */
function parseSiteRules(raw: unknown, where: string): readonly SiteRuleDef[] {
  if (raw === undefined) return [];
  const r = v.safeParse(RedactSchema, raw);
  if (!r.success) throw usageError(`${where}: ${issueText(r.issues)}`, ['site rules look like: [redact] extra = [{ id = "acme-token", pattern = "acme_[a-z0-9]{32}" }]']);
  const extra = r.output.extra ?? [];
  if (extra.length > MAX_SITE_RULES) throw usageError(`${where}: extra: more than ${MAX_SITE_RULES} rules`);
  const taken = new Set<string>([...BUILTIN_RULES.map((b) => b.id), PRIVATE_KEY_RULE]);
  extra.forEach((rule, i) => {
    const at = `${where}: extra[${i}]`;
    if (taken.has(rule.id)) throw usageError(`${at}: id ${JSON.stringify(rule.id)} is already taken by ${BUILTIN_RULES.some((b) => b.id === rule.id) || rule.id === PRIVATE_KEY_RULE ? "a built-in rule" : "another site rule"}`);
    taken.add(rule.id);
    rethrow(() => compileSiteRule(rule), at);
  });
  return Object.freeze(extra.map((e) => Object.freeze({ id: e.id, pattern: e.pattern })));
}

/** What an operator should hear when the catalog loads: verbs whose output is not redacted. */
export function catalogWarnings(catalog: Catalog): string[] {
  const out: string[] = [];
  for (const def of catalog.values())
    if (def.redact === false) out.push(`verb ${JSON.stringify(def.name)}: redact = false: its output reaches the recipient without secret redaction`);
  return out;
}

function parseVerb(name: string, body: unknown, where: string): VerbDef {
  if (!VERB_NAME.test(name))
    throw usageError(`${where}: invalid verb name`, ["use lowercase dotted names such as ssh.tail_logs"]);
  const r = v.safeParse(VerbSchema, body);
  if (!r.success) throw usageError(`${where}: ${issueText(r.issues)}`);
  const b = r.output;
  const field = (f: string, msg: string, hints?: string[]) => usageError(`${where}: ${f}: ${msg}`, hints);

  const timeoutMs = rethrow(() => parseDuration(b.timeout, "timeout"), where);
  if (timeoutMs > MAX_TIMEOUT_MS) throw field("timeout", "must be at most 24h");
  const maxOutputBytes = rethrow(() => parseSize(b.max_output, "max_output"), where);
  if (maxOutputBytes > MAX_OUTPUT_BYTES) throw field("max_output", "must be at most 1GiB");

  const def: VerbDef = { name, summary: b.summary, adapter: b.adapter, argv: b.argv, timeoutMs, maxOutputBytes, params: {} };
  if (b.redact === false) def.redact = false;
  if (b.approval === "always") def.approval = "always";
  if (b.adapter === "ssh") {
    if (b.host === undefined) throw field("host", "is required for the ssh adapter");
    if (!HOST.test(b.host)) throw field("host", `${JSON.stringify(b.host)} is not a host name`);
    def.host = b.host;
    if (b.user !== undefined) {
      if (!USER.test(b.user)) throw field("user", `${JSON.stringify(b.user)} is not a user name`);
      def.user = b.user;
    }
    if (b.port !== undefined) {
      if (!Number.isInteger(b.port) || b.port < 1 || b.port > 65535) throw field("port", "must be an integer in 1..65535");
      def.port = b.port;
    }
  } else {
    for (const f of ["host", "user", "port"] as const)
      if (b[f] !== undefined) throw field(f, "is only for the ssh adapter");
  }

  // argv: non-empty, fixed program, placeholders well formed and each backed by a parameter.
  if (b.argv.length === 0) throw field("argv", "must not be empty");
  if (b.argv.length > MAX_ARGV) throw field("argv", `has more than ${MAX_ARGV} elements`);
  const used = new Set<string>();
  b.argv.forEach((arg, i) => {
    if (arg.length > MAX_ARG_LENGTH) throw field(`argv[${i}]`, "is too long");
    if (arg.includes("\0")) throw field(`argv[${i}]`, "contains a NUL byte");
    for (const m of arg.matchAll(PLACEHOLDER)) {
      const p = m[1]!;
      if (!PARAM_NAME.test(p)) throw field(`argv[${i}]`, `placeholder {${p}} is not a parameter name`);
      if (i === 0) throw field("argv[0]", "the program must be fixed, not a placeholder");
      used.add(p);
    }
    if (/[{}]/.test(arg.replace(PLACEHOLDER, ""))) throw field(`argv[${i}]`, 'stray "{" or "}" (placeholders are {name})');
  });
  if (b.argv[0] === "") throw field("argv[0]", "the program must not be empty");

  const params = b.params ?? {};
  for (const [pname, pbody] of Object.entries(params)) {
    const pwhere = `params.${pname}`;
    if (!PARAM_NAME.test(pname)) throw field(pwhere, "invalid parameter name", ["use lowercase names such as service"]);
    def.params[pname] = parseParam(pname, pbody, (msg, hints) => field(pwhere, msg, hints));
    if (!used.has(pname)) throw field(pwhere, "no placeholder in argv uses it");
  }
  for (const p of used) if (!(p in def.params)) throw field("argv", `placeholder {${p}} has no parameter`, [`add params.${p} = { enum = [...] }`]);
  return def;
}

function rethrow<T>(fn: () => T, where: string): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof OpenScopeError) throw new OpenScopeError("usage", `${where}: ${e.message}`, { hints: [...e.hints] });
    throw e;
  }
}

type FieldError = (msg: string, hints?: string[]) => OpenScopeError;

function parseParam(name: string, body: unknown, err: FieldError): ParamDef {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw err("must be a table: { enum = [...] }, { int = [min, max] } or { pattern = \"^...$\" }");
  const r = v.safeParse(ParamSchema, body);
  if (!r.success) {
    const t = issueText(r.issues);
    throw err(/unknown field/.test(t) ? `${t} (kinds are enum, int, pattern)` : t);
  }
  const p = r.output;
  const kinds = (["enum", "int", "pattern"] as const).filter((k) => p[k] !== undefined);
  if (kinds.length === 0) throw err("is unconstrained: give it enum, int or pattern", ["every parameter must be constrained"]);
  if (kinds.length > 1) throw err(`has more than one kind (${kinds.join(", ")})`);
  const allow = new Set(p.allow ?? []);

  let constraint: Constraint;
  if (p.enum !== undefined) {
    for (const val of p.enum)
      if (!isPrintableValue(val)) throw err(`enum value ${JSON.stringify(val)} must be 1..256 printable characters`);
    if (new Set(p.enum).size !== p.enum.length) throw err("enum lists a value twice");
    constraint = enumConstraint(p.enum);
  } else if (p.int !== undefined) {
    const [min, max] = p.int;
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max)) throw err("int bounds must be integers");
    if (min > max) throw err(`int = [${min}, ${max}]: minimum is above maximum`);
    if (min < 0 && !allow.has("leading-dash"))
      throw err("a negative range lets a value start with \"-\"", ['add allow = ["leading-dash"] if the command takes it safely']);
    constraint = { kind: "range", min, max };
  } else {
    const src = p.pattern!;
    try {
      validateConstraint({ kind: "pattern", pattern: src }, "pattern");
    } catch (e) {
      throw err((e as Error).message.replace(/^pattern: /, ""), [...(e as OpenScopeError).hints]);
    }
    const can = compilePattern(src).canMatch;
    const risky: [AllowFlag, boolean, string][] = [
      ["slash", can.slash, 'can match "/"'],
      ["dotdot", can.dotdot, 'can match ".."'],
      ["whitespace", can.whitespace, "can match whitespace"],
      ["leading-dash", can.leadingDash, 'can match a leading "-"'],
    ];
    for (const [flag, yes, what] of risky)
      if (yes && !allow.has(flag))
        throw err(`pattern ${src} ${what}`, [`narrow the pattern, or add allow = ["${flag}"] if the command takes it safely`]);
    constraint = { kind: "pattern", pattern: src };
  }

  const def: ParamDef = { name, constraint };
  if (p.default !== undefined) {
    const d = typeof p.default === "number" ? (Number.isSafeInteger(p.default) ? String(p.default) : "") : p.default;
    if (!admits(constraint, d)) throw err(`default ${JSON.stringify(p.default)} is outside the constraint`);
    def.default = d;
  }
  if (allow.size) def.allow = ALLOW_FLAGS.filter((f) => allow.has(f));
  return def;
}
