// The restricted regular expressions of `pattern` constraints (SPEC.md §2.3): a small subset of
// JavaScript regex syntax over printable ASCII, compiled to a Thompson NFA and matched in linear
// time, so no value can cause catastrophic backtracking. The NFA also answers exactly whether a
// pattern can match "/", "..", a space or a leading "-" (the catalog's safety rules).
import { usageError } from "../errors.ts";
import { LIMITS } from "./limits.ts";

/** Longest pattern source, longest value we match, and the NFA size cap. */
export const MAX_PATTERN_SOURCE = 512;
export const MAX_VALUE_LENGTH = LIMITS.valueLength;
const MAX_REPEAT = 256;
const MAX_STATES = 20_000;

/** A set of ASCII code points (0..127) as a 128-entry bitmap. */
type CharSet = Uint8Array;

type Node =
  | { t: "set"; set: CharSet }
  | { t: "seq"; items: Node[] }
  | { t: "alt"; options: Node[] }
  | { t: "repeat"; node: Node; min: number; max: number | null };

interface State {
  set: CharSet | null; // a character transition to `next`
  next: number;
  eps: number[]; // epsilon transitions
}

export interface CompiledPattern {
  readonly source: string;
  readonly states: readonly State[];
  readonly start: number;
  readonly accept: number;
  /** What the pattern can match anywhere in a value (exact, from the NFA). */
  readonly canMatch: { slash: boolean; dotdot: boolean; whitespace: boolean; leadingDash: boolean; empty: boolean };
}

const META = new Set("\\^$.|?*+()[]{}");
const FIRST_PRINTABLE = 0x20;
const LAST_PRINTABLE = 0x7e;

function fail(source: string, why: string): never {
  throw usageError(`pattern ${JSON.stringify(source)}: ${why}`, [
    'patterns use a safe subset: literals, [a-z0-9_-] classes, \\d \\w, (?:…|…) groups, ? * + {n,m}, anchored as "^…$"',
  ]);
}

function setOf(...codes: number[]): CharSet {
  const s = new Uint8Array(128);
  for (const c of codes) s[c] = 1;
  return s;
}
function setRange(s: CharSet, lo: number, hi: number): void {
  for (let c = lo; c <= hi; c++) s[c] = 1;
}
const DIGITS = (() => {
  const s = new Uint8Array(128);
  setRange(s, 0x30, 0x39);
  return s;
})();
const WORD = (() => {
  const s = new Uint8Array(128);
  setRange(s, 0x30, 0x39);
  setRange(s, 0x41, 0x5a);
  setRange(s, 0x61, 0x7a);
  s[0x5f] = 1;
  return s;
})();

/** Recursive-descent parser of the subset; positions index into `src` (already stripped of ^ and $). */
class Parser {
  pos = 0;
  constructor(
    readonly src: string,
    readonly whole: string,
  ) {}

  parseAlt(depth: number): Node {
    if (depth > 16) fail(this.whole, "groups nested too deeply");
    const options: Node[] = [this.parseSeq(depth)];
    while (this.src[this.pos] === "|") {
      this.pos++;
      options.push(this.parseSeq(depth));
    }
    return options.length === 1 ? options[0]! : { t: "alt", options };
  }

  parseSeq(depth: number): Node {
    const items: Node[] = [];
    while (this.pos < this.src.length && this.src[this.pos] !== "|" && this.src[this.pos] !== ")") {
      const atom = this.parseAtom(depth);
      items.push(this.parseQuantifier(atom));
    }
    return { t: "seq", items };
  }

  parseAtom(depth: number): Node {
    const c = this.src[this.pos]!;
    if (c === "(") {
      this.pos++;
      if (this.src[this.pos] === "?") {
        if (this.src[this.pos + 1] !== ":") fail(this.whole, "lookarounds and named groups are not allowed");
        this.pos += 2;
      }
      const inner = this.parseAlt(depth + 1);
      if (this.src[this.pos] !== ")") fail(this.whole, "unbalanced parenthesis");
      this.pos++;
      return inner;
    }
    if (c === "[") return { t: "set", set: this.parseClass() };
    if (c === "\\") return { t: "set", set: this.parseEscape() };
    if (c === ".") fail(this.whole, '"." matches any character; use an explicit class such as [a-z0-9]');
    if (c === "^" || c === "$") fail(this.whole, `"${c}" is only allowed at the very start or end`);
    if (META.has(c)) fail(this.whole, `unexpected "${c}"`);
    return { t: "set", set: setOf(this.literal(c)) };
  }

  literal(c: string): number {
    const code = c.charCodeAt(0);
    if (code < FIRST_PRINTABLE || code > LAST_PRINTABLE || c.length !== 1)
      fail(this.whole, "only printable ASCII characters are allowed");
    this.pos++;
    return code;
  }

  parseEscape(): CharSet {
    const c = this.src[this.pos + 1];
    if (c === undefined) fail(this.whole, "trailing backslash");
    this.pos += 2;
    if (c === "d") return DIGITS.slice();
    if (c === "w") return WORD.slice();
    if (META.has(c) || c === "-" || c === "/") return setOf(c.charCodeAt(0));
    return fail(this.whole, `escape "\\${c}" is not allowed (backreferences, \\s, \\b and code escapes are refused)`);
  }

  parseClass(): CharSet {
    this.pos++; // [
    if (this.src[this.pos] === "^") fail(this.whole, "negated classes are not allowed; list the allowed characters");
    const set = new Uint8Array(128);
    let any = false;
    while (this.pos < this.src.length && this.src[this.pos] !== "]") {
      const c = this.src[this.pos]!;
      if (c === "[") fail(this.whole, '"[" inside a class must be escaped');
      let lo: number;
      if (c === "\\") {
        const esc = this.parseEscape();
        const members = [...esc.keys()].filter((k) => esc[k]);
        if (members.length !== 1) {
          for (const m of members) set[m] = 1;
          any = true;
          continue;
        }
        lo = members[0]!;
      } else {
        lo = this.literal(c);
      }
      if (this.src[this.pos] === "-" && this.src[this.pos + 1] !== undefined && this.src[this.pos + 1] !== "]") {
        this.pos++;
        const d = this.src[this.pos]!;
        let hi: number;
        if (d === "\\") {
          const esc = this.parseEscape();
          const members = [...esc.keys()].filter((k) => esc[k]);
          if (members.length !== 1) fail(this.whole, "a class range must end in a single character");
          hi = members[0]!;
        } else {
          if (d === "[") fail(this.whole, '"[" inside a class must be escaped');
          hi = this.literal(d);
        }
        if (hi < lo) fail(this.whole, "class range out of order");
        setRange(set, lo, hi);
      } else {
        set[lo] = 1;
      }
      any = true;
    }
    if (this.src[this.pos] !== "]") fail(this.whole, "unterminated character class");
    this.pos++;
    if (!any) fail(this.whole, "empty character class");
    return set;
  }

  parseQuantifier(atom: Node): Node {
    const c = this.src[this.pos];
    let min: number;
    let max: number | null;
    if (c === "?") [min, max] = [0, 1];
    else if (c === "*") [min, max] = [0, null];
    else if (c === "+") [min, max] = [1, null];
    else if (c === "{") {
      const m = /^\{(\d{1,3})(,(\d{0,3}))?\}/.exec(this.src.slice(this.pos));
      if (!m) fail(this.whole, 'a literal "{" must be escaped; counted repeats look like {n}, {n,} or {n,m}');
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? null : Number(m[3]);
      if (min > MAX_REPEAT || (max !== null && (max > MAX_REPEAT || max < min)))
        fail(this.whole, `counted repeat out of range (0 ≤ n ≤ m ≤ ${MAX_REPEAT})`);
      this.pos += m[0].length - 1;
    } else return atom;
    this.pos++;
    const after = this.src[this.pos];
    if (after === "?" || after === "*" || after === "+" || after === "{")
      fail(this.whole, "lazy, possessive or stacked quantifiers are not allowed");
    return { t: "repeat", node: atom, min, max };
  }
}

/** Thompson construction over the AST. */
class Builder {
  states: State[] = [];
  constructor(readonly whole: string) {}

  add(): number {
    if (this.states.length >= MAX_STATES) fail(this.whole, "pattern too large once repeats are expanded");
    this.states.push({ set: null, next: -1, eps: [] });
    return this.states.length - 1;
  }

  /** Builds `node` between fresh states; returns [in, out]. */
  build(node: Node): [number, number] {
    switch (node.t) {
      case "set": {
        const a = this.add();
        const b = this.add();
        this.states[a]!.set = node.set;
        this.states[a]!.next = b;
        return [a, b];
      }
      case "seq": {
        const a = this.add();
        let cur = a;
        for (const item of node.items) {
          const [i, o] = this.build(item);
          this.states[cur]!.eps.push(i);
          cur = o;
        }
        return [a, cur];
      }
      case "alt": {
        const a = this.add();
        const b = this.add();
        for (const opt of node.options) {
          const [i, o] = this.build(opt);
          this.states[a]!.eps.push(i);
          this.states[o]!.eps.push(b);
        }
        return [a, b];
      }
      case "repeat": {
        const a = this.add();
        let cur = a;
        for (let k = 0; k < node.min; k++) {
          const [i, o] = this.build(node.node);
          this.states[cur]!.eps.push(i);
          cur = o;
        }
        if (node.max === null) {
          const [i, o] = this.build(node.node);
          const end = this.add();
          this.states[cur]!.eps.push(i, end);
          this.states[o]!.eps.push(i, end);
          return [a, end];
        }
        const end = this.add();
        for (let k = node.min; k < node.max; k++) {
          const [i, o] = this.build(node.node);
          this.states[cur]!.eps.push(i, end);
          cur = o;
        }
        this.states[cur]!.eps.push(end);
        return [a, end];
      }
    }
  }
}

function closure(states: readonly State[], from: Iterable<number>): Set<number> {
  const seen = new Set<number>();
  const stack = [...from];
  while (stack.length) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    for (const e of states[s]!.eps) stack.push(e);
  }
  return seen;
}

function analyse(states: readonly State[], start: number, accept: number): CompiledPattern["canMatch"] {
  // Reachable from start, and co-reachable to accept (reverse graph).
  const reach = new Set<number>([start]);
  const stack = [start];
  while (stack.length) {
    const s = stack.pop()!;
    const st = states[s]!;
    const nexts = st.set ? [...st.eps, st.next] : st.eps;
    for (const n of nexts) if (!reach.has(n)) (reach.add(n), stack.push(n));
  }
  const rev: number[][] = states.map(() => []);
  states.forEach((st, s) => {
    for (const e of st.eps) rev[e]!.push(s);
    if (st.set) rev[st.next]!.push(s);
  });
  const coreach = new Set<number>([accept]);
  stack.push(accept);
  while (stack.length) {
    const s = stack.pop()!;
    for (const p of rev[s]!) if (!coreach.has(p)) (coreach.add(p), stack.push(p));
  }
  const live = (s: number) => reach.has(s) && states[s]!.set !== null && coreach.has(states[s]!.next);
  const has = (s: number, ch: string) => states[s]!.set![ch.charCodeAt(0)] === 1;
  let slash = false;
  let whitespace = false;
  let dotdot = false;
  for (let s = 0; s < states.length; s++) {
    if (!live(s)) continue;
    if (has(s, "/")) slash = true;
    if (has(s, " ")) whitespace = true;
    if (has(s, ".") && !dotdot) {
      for (const u of closure(states, [states[s]!.next])) if (live(u) && has(u, ".")) dotdot = true;
    }
  }
  const startClosure = closure(states, [start]);
  let leadingDash = false;
  for (const s of startClosure) if (live(s) && has(s, "-")) leadingDash = true;
  return { slash, dotdot, whitespace, leadingDash, empty: startClosure.has(accept) };
}

const cache = new Map<string, CompiledPattern>();

/** Parses and compiles an anchored pattern; throws usage "pattern "…": …" on anything outside the subset. */
export function compilePattern(source: string): CompiledPattern {
  const hit = cache.get(source);
  if (hit) return hit;
  if (typeof source !== "string" || source.length > MAX_PATTERN_SOURCE)
    fail(String(source).slice(0, 40), `longer than ${MAX_PATTERN_SOURCE} characters`);
  if (!source.startsWith("^") || !source.endsWith("$") || source.endsWith("\\$") || source.length < 2)
    fail(source, 'must be anchored: start with "^" and end with "$"');
  const compiled = buildPattern(source.slice(1, -1), source, true);
  if (cache.size > 1000) cache.clear();
  cache.set(source, compiled);
  return compiled;
}

function buildPattern(body: string, source: string, anchored: boolean): CompiledPattern {
  const p = new Parser(body, source);
  const ast = p.parseAlt(0);
  if (p.pos !== body.length) fail(source, p.src[p.pos] === ")" ? "unbalanced parenthesis" : `unexpected "${p.src[p.pos]}"`);
  if (anchored && ast.t === "alt") fail(source, 'top-level "|" is ambiguous with anchors; wrap it: ^(?:a|b)$');
  const b = new Builder(source);
  const [start, accept] = b.build(ast);
  return { source, states: b.states, start, accept, canMatch: analyse(b.states, start, accept) };
}

/** The NFA size cap of a search pattern: it runs on every output line, not on one short value. */
const MAX_SEARCH_STATES = 4_000;

/**
 * An unanchored pattern in the same safe subset, for searching text (redaction site rules,
 * SPEC.md §17.3): no "^" or "$", and it must not match the empty string. The caller runs the NFA
 * (lib/redact/site-rule.ts), in time linear in the text.
 */
export function compileSearchPattern(source: string): CompiledPattern {
  if (typeof source !== "string" || source.length > MAX_PATTERN_SOURCE)
    fail(String(source).slice(0, 40), `longer than ${MAX_PATTERN_SOURCE} characters`);
  if (source.length === 0) fail(source, "must not be empty");
  if (source.startsWith("^") || (source.endsWith("$") && !source.endsWith("\\$")))
    fail(source, 'a search pattern is unanchored: drop "^" and "$"');
  const compiled = buildPattern(source, source, false);
  if (compiled.canMatch.empty) fail(source, "must not match the empty string");
  if (compiled.states.length > MAX_SEARCH_STATES) fail(source, "pattern too large once repeats are expanded");
  return compiled;
}

/** True if the whole value matches. Values over MAX_VALUE_LENGTH never match. Linear time. */
export function matchPattern(p: CompiledPattern, value: string): boolean {
  if (value.length > MAX_VALUE_LENGTH) return false;
  let current = closure(p.states, [p.start]);
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 128) return false;
    const next: number[] = [];
    for (const s of current) {
      const st = p.states[s]!;
      if (st.set && st.set[code] === 1) next.push(st.next);
    }
    if (next.length === 0) return false;
    current = closure(p.states, next);
  }
  return current.has(p.accept);
}
