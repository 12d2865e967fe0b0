// Verb packs (SPEC.md §2.7): a pack file is reviewed verbs.toml content with `${key}` settings
// that the operator fixes at `verbs add` time. This module parses a pack, checks each --set value
// against its setting's kind (names, paths, URLs: no shell or option syntax can pass), expands the
// verbs under a prefix and renders them as verbs.toml text. Pure: text and values in, text out.
import * as v from "valibot";
import { parseCatalog, VERB_NAME, type Catalog } from "../../capability/catalog.ts";
import { usageError } from "../../errors.ts";

/** How a setting's value is checked; each kind refuses shell, option and path-escape syntax. */
export const SETTING_KINDS = ["name", "names", "path", "host", "int", "bool", "urls"] as const;
export type SettingKind = (typeof SETTING_KINDS)[number];

export interface Setting {
  key: string;
  kind: SettingKind;
  summary: string;
  /** The documented default: `verbs add PACK` alone uses it. "" for an optional setting left out. */
  default: string | string[];
  example: string | string[];
  optional: boolean;
  range?: [number, number]; // int
  pattern?: RegExp; // a pack's narrower rule for each name
}

export interface Pack {
  name: string;
  version: number;
  summary: string;
  settings: Setting[];
  /** Verb tables as written in the pack, keyed by the short name (`status`). */
  verbs: Record<string, Record<string, unknown>>;
}

const SHORT = /^[a-z][a-z0-9_-]{0,31}$/;
/** `--as` prefix: at most three segments, so prefix.verb stays a catalog verb name. */
export const PREFIX = /^[a-z][a-z0-9_-]{0,31}(\.[a-z][a-z0-9_-]{0,31}){0,2}$/;
const REF = /\$\{([a-z_][a-z0-9_]*)\}/g;

// One value of a name-like setting: becomes an enum value or part of an argument. No "/", no "..",
// no whitespace, no leading "-", no quotes, braces, "$", "=" or shell characters.
const NAME = /^[A-Za-z0-9_@][A-Za-z0-9_@:.+-]{0,127}$/;
// An absolute path with no "..", no "//", nothing but plain file-name characters.
const PATH = /^(\/[A-Za-z0-9_@+][A-Za-z0-9_@:.+-]{0,127}){1,32}\/?$/;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$/;
// http(s) URL: a host (name, IPv4 or [IPv6]), optional port, a plain path and query. No user info,
// no fragment, no spaces, quotes or braces.
const URL_SHAPE = /^https?:\/\/(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?(?:\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,1024})?(?:\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,1024})?$/;
const MAX_LIST = 64;

const SettingSchema = v.strictObject({
  kind: v.picklist(SETTING_KINDS),
  summary: v.pipe(v.string(), v.minLength(1)),
  default: v.union([v.string(), v.number(), v.boolean(), v.array(v.string())]),
  example: v.union([v.string(), v.number(), v.boolean(), v.array(v.string())]),
  optional: v.optional(v.boolean()),
  range: v.optional(v.tuple([v.number(), v.number()])),
  pattern: v.optional(v.string()),
});

const PackSchema = v.strictObject({
  pack: v.strictObject({
    name: v.pipe(v.string(), v.regex(SHORT)),
    version: v.pipe(v.number(), v.integer(), v.minValue(1)),
    summary: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  }),
  set: v.optional(v.record(v.pipe(v.string(), v.regex(/^[a-z_][a-z0-9_]{0,31}$/)), v.unknown())),
  verb: v.record(v.pipe(v.string(), v.regex(SHORT)), v.record(v.string(), v.unknown())),
});

function fail(pack: string, msg: string): never {
  throw usageError(`pack ${pack}: ${msg}`);
}

function scalar(x: string | number | boolean | string[]): string | string[] {
  return Array.isArray(x) ? x : String(x);
}

/** Parses a pack file. A broken pack is a bug in this build: the packs' own tests catch it. */
export function parsePack(text: string): Pack {
  const r = v.safeParse(PackSchema, Bun.TOML.parse(text));
  if (!r.success) {
    const i = r.issues[0]!;
    throw usageError(`pack: ${(i.path ?? []).map((p) => String(p.key)).join(".")}: ${i.message}`);
  }
  const { pack, set = {}, verb } = r.output;
  const settings: Setting[] = [];
  for (const [key, body] of Object.entries(set)) {
    const s = v.safeParse(SettingSchema, body);
    if (!s.success) fail(pack.name, `set.${key}: ${s.issues[0]!.message}`);
    const o = s.output;
    const setting: Setting = {
      key,
      kind: o.kind,
      summary: o.summary,
      default: scalar(o.default),
      example: scalar(o.example),
      optional: o.optional ?? false,
    };
    if (o.range) setting.range = o.range;
    if (o.pattern) setting.pattern = new RegExp(o.pattern);
    if (o.kind === "int" && !o.range) fail(pack.name, `set.${key}: an int setting needs range`);
    checkSetting(setting, setting.default, `pack ${pack.name}: set.${key}: default`);
    checkSetting(setting, setting.example, `pack ${pack.name}: set.${key}: example`);
    settings.push(setting);
  }
  return { name: pack.name, version: pack.version, summary: pack.summary, settings, verbs: verb };
}

/** The listed value(s) of a setting; throws usage naming the key when one is not of its kind. */
function checkSetting(s: Setting, value: string | string[], where: string): string | string[] {
  const isList = s.kind === "names" || s.kind === "urls";
  if (isList !== Array.isArray(value)) throw usageError(`${where}: must be ${isList ? "a list" : "one value"}`);
  if (Array.isArray(value)) {
    if (value.length === 0) throw usageError(`${where}: must list at least one value`);
    if (value.length > MAX_LIST) throw usageError(`${where}: lists more than ${MAX_LIST} values`);
    if (new Set(value).size !== value.length) throw usageError(`${where}: lists a value twice`);
    for (const item of value) checkOne(s, item, where);
    return value;
  }
  if (value === "" && s.optional) return value;
  checkOne(s, value, where);
  return value;
}

function checkOne(s: Setting, value: string, where: string): void {
  const bad = (why: string, hint: string): never => {
    throw usageError(`${where}: ${JSON.stringify(value.slice(0, 80))} ${why}`, [hint]);
  };
  switch (s.kind) {
    case "name":
    case "names":
      if (!NAME.test(value) || value.includes(".."))
        bad("is not a plain name", "names are 1-128 letters, digits and _ @ : . + - (no \"..\"), not starting with - . : or +");
      if (s.pattern && !s.pattern.test(value)) bad(`does not match ${s.pattern.source}`, `this pack's ${s.key} must match ${s.pattern.source}`);
      return;
    case "path":
      if (!PATH.test(value) || /(^|\/)\.\.?(\/|$)/.test(value))
        bad("is not a plain absolute path", "give an absolute path of letters, digits and _ @ : . + - without \"..\" or \"//\"");
      return;
    case "host":
      if (!(HOSTNAME.test(value) || (PATH.test(value) && !/(^|\/)\.\.?(\/|$)/.test(value))))
        bad("is neither a host name nor an absolute socket folder", "e.g. db.internal, 10.0.0.5 or /var/run/postgresql");
      return;
    case "int": {
      const [min, max] = s.range!;
      if (!/^(0|[1-9][0-9]{0,15})$/.test(value) || Number(value) < min || Number(value) > max)
        bad("is not an integer in range", `give an integer in ${min}..${max}`);
      return;
    }
    case "bool":
      if (value !== "true" && value !== "false") bad("is not true or false", "give true or false");
      return;
    case "urls":
      if (value.length > 2048 || !URL_SHAPE.test(value) || /\/\.\.?(\/|\?|$)/.test(value))
        bad("is not a plain http(s) URL", "e.g. http://127.0.0.1:8080/healthz (no user info, fragment, spaces or \"..\")");
      return;
  }
}

/** Parses `--set key=value` flags against the pack's settings; lists are comma-separated. */
export function parseSets(pack: Pack, flags: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    if (eq <= 0) throw usageError(`--set ${JSON.stringify(flag.slice(0, 80))}: expected key=value`, [`keys of pack ${pack.name}: ${keysOf(pack)}`]);
    const key = flag.slice(0, eq);
    const raw = flag.slice(eq + 1);
    const s = pack.settings.find((x) => x.key === key);
    if (!s) throw usageError(`--set: pack ${pack.name} has no setting ${JSON.stringify(key.slice(0, 40))}`, [`keys of pack ${pack.name}: ${keysOf(pack)}`]);
    if (Object.hasOwn(out, key)) throw usageError(`--set: ${key} is given twice`, ["give a list as one comma-separated value: key=a,b"]);
    const value = s.kind === "names" || s.kind === "urls" ? raw.split(",") : raw;
    out[key] = checkSetting(s, value, `--set ${key}`);
  }
  return out;
}

function keysOf(pack: Pack): string {
  return pack.settings.map((s) => s.key).join(", ") || "(none)";
}

export interface Expanded {
  /** verb name (prefixed) → the verb table, settings substituted. */
  verbs: Record<string, Record<string, unknown>>;
  values: Record<string, string | string[]>;
}

/** Substitutes settings (given, else defaults) into every verb and names them `prefix.verb`. */
export function expandPack(pack: Pack, opts: { prefix?: string; sets?: Record<string, string | string[]> } = {}): Expanded {
  const prefix = opts.prefix ?? pack.name;
  if (!PREFIX.test(prefix))
    throw usageError(`--as ${JSON.stringify(prefix.slice(0, 80))}: not a verb prefix`, ["use lowercase dotted words such as pg or pg.app (at most three)"]);
  const values: Record<string, string | string[]> = {};
  for (const s of pack.settings) values[s.key] = opts.sets && Object.hasOwn(opts.sets, s.key) ? opts.sets[s.key]! : s.default;
  const verbs: Record<string, Record<string, unknown>> = {};
  for (const [short, body] of Object.entries(pack.verbs)) {
    const name = `${prefix}.${short}`;
    if (!VERB_NAME.test(name)) fail(pack.name, `verb ${name} is not a verb name`);
    verbs[name] = substituteVerb(pack.name, short, body, values);
  }
  return { verbs, values };
}

function substituteVerb(pack: string, short: string, body: Record<string, unknown>, values: Record<string, string | string[]>): Record<string, unknown> {
  const where = `verb ${short}`;
  const str = (s: string, field: string): string =>
    s.replace(REF, (_, key: string) => {
      const val = values[key];
      if (val === undefined) fail(pack, `${where}: ${field}: unknown setting \${${key}}`);
      if (Array.isArray(val)) fail(pack, `${where}: ${field}: list setting \${${key}} used inside a string`);
      return val;
    });
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(body)) {
    if (field === "argv") {
      // An element naming an optional setting left empty is left out (`--directory=${dir}`).
      const argv = (value as string[]).filter((el) => ![...el.matchAll(REF)].some((m) => values[m[1]!] === ""));
      out.argv = argv.map((el, i) => str(el, `argv[${i}]`));
    } else if (field === "params") {
      const params: Record<string, unknown> = {};
      for (const [p, def] of Object.entries(value as Record<string, Record<string, unknown>>)) {
        const d: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(def)) {
          const whole = typeof x === "string" ? /^\$\{([a-z_][a-z0-9_]*)\}$/.exec(x) : null;
          if (whole && Array.isArray(values[whole[1]!])) d[k] = values[whole[1]!];
          else d[k] = typeof x === "string" ? str(x, `params.${p}.${k}`) : x;
        }
        params[p] = d;
      }
      out.params = params;
    } else {
      out[field] = typeof value === "string" ? str(value, field) : value;
    }
  }
  return out;
}

/** A value as TOML: strings as basic strings (JSON escapes are valid TOML), arrays inline. */
function tomlValue(x: unknown): string {
  if (typeof x === "string") return JSON.stringify(x);
  if (typeof x === "number" || typeof x === "boolean") return String(x);
  if (Array.isArray(x)) return `[${x.map(tomlValue).join(", ")}]`;
  if (x && typeof x === "object")
    return `{ ${Object.entries(x).map(([k, val]) => `${k} = ${tomlValue(val)}`).join(", ")} }`;
  throw usageError(`pack: cannot write ${typeof x} as TOML`);
}

/** The verbs.toml text of an expanded pack, opened by a comment naming the pack and its version. */
export function renderPackToml(pack: Pack, expanded: Expanded, command: string): string {
  const lines = [`# pack ${pack.name} version ${pack.version}: ${command}`];
  for (const [name, body] of Object.entries(expanded.verbs)) {
    lines.push("", `[verb.${JSON.stringify(name)}]`);
    for (const [field, value] of Object.entries(body)) {
      if (field === "params") continue;
      lines.push(`${field} = ${tomlValue(value)}`);
    }
    for (const [p, def] of Object.entries((body.params ?? {}) as Record<string, unknown>)) lines.push(`params.${p} = ${tomlValue(def)}`);
  }
  return lines.join("\n") + "\n";
}

/** The `verbs add` line that reproduces an expansion (for the comment above the verbs). */
export function addCommand(pack: Pack, prefix: string | undefined, sets: Record<string, string | string[]>): string {
  const parts = ["openscope verbs add", pack.name];
  if (prefix !== undefined && prefix !== pack.name) parts.push("--as", prefix);
  for (const [k, val] of Object.entries(sets)) parts.push("--set", `${k}=${Array.isArray(val) ? val.join(",") : val}`);
  return parts.join(" ");
}

/** Expands and renders a pack, then checks the result with the catalog loader itself. */
export function buildPackToml(
  pack: Pack,
  opts: { prefix?: string; setFlags?: readonly string[] } = {},
): { toml: string; catalog: Catalog; values: Record<string, string | string[]> } {
  const sets = parseSets(pack, opts.setFlags ?? []);
  const expanded = expandPack(pack, { prefix: opts.prefix, sets });
  const toml = renderPackToml(pack, expanded, addCommand(pack, opts.prefix, sets));
  const catalog = parseCatalog(toml, `pack ${pack.name}`);
  return { toml, catalog, values: expanded.values };
}
