// The scanner (SPEC.md §17.3): finds the secret spans in a run of text. One combined keyword scan
// (the prefilter) runs over the whole run; only the lines it hits are handed to the rules whose
// keywords they hold. PEM private key blocks are found here too, since they span lines: a block
// is one span from BEGIN through END, and a block whose END has not arrived stays open.
// Pure: text whose char codes are bytes (latin1) in, spans out.
import { BUILTIN_RULES, RULE_ID, type Finding, type Rule } from "./rules.ts";
import { addToBuckets, anyCaseLiteral, literal, SimdPrefilter, type Fingerprint } from "./simd.ts";

export const PRIVATE_KEY_RULE = "private-key";

/** A compiled rule set: the rules and the one prefilter regex built from all their keywords. */
export interface RuleSet {
  readonly rules: readonly Rule[];
  /** The gates: a line none of them hits cannot match any rule. */
  readonly prefilter: RegExp;
  /**
   * The SIMD search for the gates' byte fingerprints, which finds the few lines worth decoding
   * for `prefilter`; absent where WebAssembly SIMD is not available or a rule gates every line.
   */
  readonly bytes?: SimdPrefilter;
  /** Which rules a line's keywords call for, found in one pass (see keywordIndex). */
  readonly keywords: KeywordIndex;
}

/** The rules' keywords as one regex over a lowercased line, and the rules each keyword calls for. */
export interface KeywordIndex {
  /** Every keyword, longest first, in a lookahead: a match at each place one starts. */
  readonly finder: RegExp | null;
  /** For a keyword, the rules (by index) it or a keyword it starts with calls for. */
  readonly rulesFor: ReadonlyMap<string, readonly number[]>;
  /** Rules without keywords: they run on every line the gate lets through. */
  readonly always: readonly number[];
}

/**
 * One pass finds every keyword in a line, where a loop of `includes` per rule and keyword took
 * most of the time on keyword-dense logs. The finder is tried at each position (lastIndex moves
 * one past each match), so keywords inside or after another are found at their own start; of
 * keywords starting at one place the longest matches, and it stands for the shorter ones too.
 */
export function keywordIndex(rules: readonly Rule[]): KeywordIndex {
  const always: number[] = [];
  const byKeyword = new Map<string, Set<number>>();
  rules.forEach((r, i) => {
    if (r.keywords.length === 0) always.push(i);
    for (const k of r.keywords) {
      const key = k.toLowerCase();
      if (!byKeyword.has(key)) byKeyword.set(key, new Set());
      byKeyword.get(key)!.add(i);
    }
  });
  const keys = [...byKeyword.keys()].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  const rulesFor = new Map<string, number[]>();
  for (const k of keys) {
    const called = new Set<number>();
    for (const shorter of keys) if (k.startsWith(shorter)) for (const i of byKeyword.get(shorter)!) called.add(i);
    rulesFor.set(k, [...called].sort((a, b) => a - b));
  }
  const finder = keys.length === 0 ? null : new RegExp(`(?=(${keys.map(escapeRegex).join("|")}))`, "g");
  return { finder, rulesFor, always };
}

/** A PEM block that began and has not ended yet: everything until its END is swallowed. */
export interface PemState {
  open: boolean;
  /** Bytes swallowed so far; past MAX_PEM_BYTES the block is closed (the marker already stands). */
  swallowed: number;
}

/** The longest PEM body swallowed while waiting for its END line (RSA 8192 is ≈ 6.5 KB). */
export const MAX_PEM_BYTES = 64 * 1024;

const PEM_BEGIN = /-----BEGIN[ A-Z0-9]{0,64}PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_END = /-----END[ A-Z0-9]{0,64}PRIVATE KEY(?: BLOCK)?-----/g;

/**
 * The prefilter's gates for the built-in rules: a line no gate hits cannot match any built-in
 * rule (each rule's positive rows in test/redact/rules.test.ts go through this gate). Vendor
 * prefixes are matched case-sensitively, as their rules match them; the words of the
 * case-insensitive rules are spelled as [Xx] classes. Each gate starts at its rarest character
 * (the rest is a lookbehind), and GATE_STARTS, the set of those characters, is tested first:
 * at most positions of a log line one class test rejects the position. On log text this is
 * about twice as fast as one case-insensitive alternation of the keywords, which is what keeps
 * redaction cheap next to encryption (bench item 8).
 */
const BUILTIN_GATES = [
  "A(?:KIA|SIA|BIA|CCA|3T|Iza)",
  "g(?:h[pousr]_|ithub_pat_|l(?:pat|ptt|dt|rt|cbt|ft|imt|agent|oas|soat)-)",
  "x(?:ox[a-z]-|app-)",
  "_live_",
  "(?<=s)k-",
  "(?<=npm)_",
  "(?<=ey)J",
  "(?<=-----)BEGIN",
  "@", // user:password@host (":" and "/" are far more common in logs)
  "(?<=hoo)ks\\.slack",
  `(?<=${anyCase("to")})${anyCase("ken")}`,
  `(?<=${anyCase("se")})${anyCase("cret")}`,
  `(?<=${anyCase("pass")})${anyCase("w")}`,
  `(?<=${anyCase("passp")})${anyCase("hrase")}`,
  anyCase("bearer"),
  `(?<=${anyCase("aut")})${anyCase("horiz")}`,
  `(?<=(?:_|${anyCase("api")}-?))${anyCase("key")}`,
];
/** The first character of every gate above (measured on log text: about 8% of positions). */
const GATE_STARTS = "AgxkJB_@KcCwWhHbB";

/**
 * The gates' byte fingerprints for the SIMD search, in its 8 buckets: every match of a gate above
 * holds one of them (test/redact/simd.test.ts checks each gate's spellings). A bucket matches the
 * product of its fingerprints' nibbles, so the grouping keeps each bucket's letters apart (" li"
 * must not pass for "_li"); it was chosen by measuring the near misses of each pairing on log
 * text: about 60 per MB of the bench's log, 3,000 to 10,000 on package manager logs.
 */
const BUILTIN_BUCKETS: Fingerprint[][] = [
  [literal("AKI"), literal("ASI"), literal("ABI"), literal("ACC"), literal("A3T"), literal("AIz"), literal("BEG")],
  [["g", "hil", "pousrtdcfia"]], // gh[pousr]_, github_pat_, gl…- (GitLab)
  [literal("eyJ"), anyCaseLiteral("ecr")], // JWT, secret
  [literal("@")],
  [anyCaseLiteral("rer"), anyCaseLiteral("riz")], // bearer, authoriz
  [literal("sk-"), literal("pm_"), ["x", "oa", "xp"], ["sS", "sS", "wWpP"]], // sk-, npm_, xox…-, xapp-, passw, passphrase
  [anyCaseLiteral("tok"), anyCaseLiteral("pik")], // token, apikey
  [literal("_li"), ["_-", "kK", "eE"], literal(".sl")], // _live_, _key, -key, hooks.slack
];

/** A literal matched in any letter case, as a case-sensitive regex source ("ab" → "[Aa][Bb]"). */
function anyCase(word: string): string {
  return [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : escapeRegex(c))).join("");
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/** `simd: false` leaves out the SIMD search (the tests compare the two paths). */
export function compileRules(rules: readonly Rule[] = BUILTIN_RULES, opts: { simd?: boolean } = {}): RuleSet {
  const builtin = new Set(BUILTIN_RULES);
  const extra = new Set<string>();
  for (const r of rules) {
    if (!RULE_ID.test(r.id)) throw new Error(`redact: rule id ${JSON.stringify(r.id)} is not a lowercase name`);
    if (!builtin.has(r)) for (const k of r.keywords) extra.add(k.toLowerCase());
  }
  // A rule with no keyword runs on every line: the prefilter then matches every line start.
  const keywords = keywordIndex(rules);
  if (rules.some((r) => !builtin.has(r) && r.keywords.length === 0)) return { rules, prefilter: /^/gm, keywords };
  let starts = GATE_STARTS;
  for (const k of extra) starts += k[0]!.toUpperCase() + k[0]!.toLowerCase();
  const gates = [...BUILTIN_GATES, ...[...extra].map(anyCase)];
  const prefilter = new RegExp(`(?=[${escapeRegex(starts)}])(?:${gates.join("|")})`, "g");
  if (opts.simd === false) return { rules, prefilter, keywords };
  const bytes = SimdPrefilter.create(addToBuckets(BUILTIN_BUCKETS, [...extra].map(anyCaseLiteral)));
  return bytes ? { rules, prefilter, bytes, keywords } : { rules, prefilter, keywords };
}

let defaultSet: RuleSet | undefined;
/** The built-in rules, compiled once. */
export function builtinRuleSet(): RuleSet {
  return (defaultSet ??= compileRules(BUILTIN_RULES));
}

/** The spans of `line` (which holds no "\n") found by the rules whose keywords it contains. */
export function scanLine(set: RuleSet, line: string, base: number, out: Finding[]): void {
  const { finder, rulesFor, always } = set.keywords;
  const called = new Uint8Array(set.rules.length);
  for (const i of always) called[i] = 1;
  if (finder !== null) {
    const lower = line.toLowerCase();
    finder.lastIndex = 0;
    for (let m = finder.exec(lower); m !== null; m = finder.exec(lower)) {
      for (const i of rulesFor.get(m[1]!)!) called[i] = 1;
      finder.lastIndex = m.index + 1;
    }
  }
  // in table order: on an exact tie of spans the earlier rule names it
  for (let i = 0; i < called.length; i++) if (called[i] === 1) set.rules[i]!.find(line, base, out);
}

/**
 * The spans of a run of text that holds complete lines (or one cut piece of a long line), given
 * the PEM state before it; returns the PEM state after it. Spans are merged: sorted, disjoint.
 */
export function scanRegion(set: RuleSet, text: string, pemBefore: PemState): { findings: Finding[]; pem: PemState } {
  const found: Finding[] = [];
  let pem = { ...pemBefore };
  let pos = 0;
  if (pem.open) {
    const end = findPemEnd(text, 0);
    if (end < 0) {
      pem.swallowed += text.length;
      if (pem.swallowed > MAX_PEM_BYTES) pem = { open: false, swallowed: 0 };
      return { findings: [{ start: 0, end: text.length, rule: PRIVATE_KEY_RULE, silent: true }], pem };
    }
    found.push({ start: 0, end, rule: PRIVATE_KEY_RULE, silent: true });
    pem = { open: false, swallowed: 0 };
    pos = end;
  }
  const pf = set.prefilter;
  pf.lastIndex = pos;
  while (pos < text.length) {
    const hit = pf.exec(text);
    if (hit === null) break;
    const lineStart = Math.max(pos, text.lastIndexOf("\n", hit.index - 1) + 1);
    let lineEnd = text.indexOf("\n", hit.index);
    if (lineEnd < 0) lineEnd = text.length;
    const line = text.slice(lineStart, lineEnd);
    PEM_BEGIN.lastIndex = 0;
    const begin = line.includes("-----BEGIN") ? PEM_BEGIN.exec(line) : null;
    if (begin === null) {
      scanLine(set, line, lineStart, found);
      pos = lineEnd + 1;
      pf.lastIndex = pos;
      continue;
    }
    // A private key starts on this line: the rules see what precedes it, the block is one span.
    const blockStart = lineStart + begin.index;
    scanLine(set, line.slice(0, begin.index), lineStart, found);
    const end = findPemEnd(text, blockStart + begin[0].length);
    if (end < 0) {
      found.push({ start: blockStart, end: text.length, rule: PRIVATE_KEY_RULE });
      pem = { open: true, swallowed: text.length - blockStart };
      break;
    }
    found.push({ start: blockStart, end, rule: PRIVATE_KEY_RULE });
    pos = end; // the rest of the END line is scanned like a line of its own
    pf.lastIndex = pos;
  }
  return { findings: mergeFindings(found), pem };
}

// windows-1252 as WHATWG defines "latin1": one char per byte, so offsets are byte offsets.
const byteText = new TextDecoder("latin1");

/** Decodes bytes[a, b) one char per byte. */
export function latin1(bytes: Uint8Array, a: number, b: number): string {
  return byteText.decode(bytes.subarray(a, b));
}

/**
 * scanRegion over bytes[a, b) (findings relative to a). With a SIMD search in the set, only the
 * lines holding an exact fingerprint are decoded and given to the gates and rules; a line where a
 * private key begins hands the rest of the region to scanRegion, which follows PEM blocks.
 */
export function scanBytes(set: RuleSet, bytes: Uint8Array, a: number, b: number, pemBefore: PemState): { findings: Finding[]; pem: PemState } {
  const search = set.bytes;
  if (search === undefined || pemBefore.open) return scanRegion(set, latin1(bytes, a, b), pemBefore);
  const found: Finding[] = [];
  const next = search.search(bytes, a, b);
  let lineFloor = a; // the start of the first line not yet scanned
  for (let c = next(a); c >= 0; c = next(Math.max(c + 1, lineFloor))) {
    if (!search.matchesAt(bytes, c, b)) continue;
    const lineStart = c > lineFloor ? Math.max(lineFloor, bytes.lastIndexOf(0x0a, c - 1) + 1) : lineFloor;
    let lineEnd = bytes.indexOf(0x0a, c);
    if (lineEnd < 0 || lineEnd > b) lineEnd = b;
    const line = latin1(bytes, lineStart, lineEnd);
    lineFloor = lineEnd + 1;
    set.prefilter.lastIndex = 0;
    if (!set.prefilter.test(line)) continue;
    if (line.includes("-----BEGIN")) {
      const rest = scanRegion(set, latin1(bytes, lineStart, b), pemBefore);
      for (const f of rest.findings) found.push({ ...f, start: f.start + lineStart - a, end: f.end + lineStart - a });
      return { findings: mergeFindings(found), pem: rest.pem };
    }
    scanLine(set, line, lineStart - a, found);
  }
  return { findings: mergeFindings(found), pem: pemBefore }; // closed before, closed after
}

/** Offset just past the first private-key END marker at or after `from`, or -1. */
function findPemEnd(text: string, from: number): number {
  PEM_END.lastIndex = from;
  const m = PEM_END.exec(text);
  return m === null ? -1 : m.index + m[0].length;
}

/**
 * Overlapping spans become one (named by the earliest, then longest, then first-listed rule), so
 * every byte any rule found is covered and each secret is counted once.
 */
export function mergeFindings(found: Finding[]): Finding[] {
  if (found.length <= 1) return found;
  const sorted = found.map((f, i) => ({ f, i })).sort((a, b) => a.f.start - b.f.start || b.f.end - a.f.end || a.i - b.i);
  const out: Finding[] = [];
  for (const { f } of sorted) {
    const last = out[out.length - 1];
    if (last && f.start < last.end) {
      if (f.end > last.end) out[out.length - 1] = { ...last, end: f.end };
    } else out.push({ ...f });
  }
  return out;
}
