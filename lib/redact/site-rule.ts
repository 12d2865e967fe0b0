// Site rules (`[redact] extra` in verbs.toml, SPEC.md §17.3): an operator's own secret shapes, in
// the safe pattern subset of parameter constraints (lib/capability/pattern.ts), compiled to a
// Thompson NFA and searched by simulating it (one pass, every start at once, the earliest start
// kept per state), so no pattern and no output line can make the search worse than linear.
import { compileSearchPattern, type CompiledPattern } from "../capability/pattern.ts";
import { usageError } from "../errors.ts";
import { BUILTIN_RULES, RULE_ID, type Finding, type Rule } from "./rules.ts";
import { builtinRuleSet, compileRules, type RuleSet } from "./scanner.ts";

export interface SiteRuleDef {
  id: string;
  pattern: string;
}

/** Checks a site rule's id and pattern (a usage error names what is wrong); returns the rule. */
export function compileSiteRule(def: SiteRuleDef): Rule {
  if (!RULE_ID.test(def.id)) throw usageError(`id ${JSON.stringify(def.id)} must be lowercase letters, digits and "-" (at most 64)`);
  const nfa = compileSearchPattern(def.pattern);
  const search = new NfaSearch(nfa);
  const prefix = literalPrefix(nfa);
  return {
    id: def.id,
    keywords: prefix.length >= 3 ? [prefix] : [],
    find(line, base, out) {
      search.findAll(line, base, def.id, out);
    },
  };
}

/**
 * The literal text every match starts with (lowercased; a class of one letter in both cases
 * counts), used as the rule's prefilter keyword. Empty when the pattern starts with a choice.
 */
export function literalPrefix(p: CompiledPattern): string {
  let prefix = "";
  let states = closure(p, p.start);
  while (prefix.length < 32) {
    const charStates = states.filter((s) => p.states[s]!.set !== null);
    if (charStates.length !== 1 || states.includes(p.accept)) break;
    const st = p.states[charStates[0]!]!;
    const members: number[] = [];
    for (let c = 0; c < 128; c++) if (st.set![c] === 1) members.push(c);
    const lower = new Set(members.map((c) => String.fromCharCode(c).toLowerCase()));
    if (lower.size !== 1) break;
    prefix += [...lower][0];
    states = closure(p, st.next);
  }
  return prefix;
}

function closure(p: CompiledPattern, from: number): number[] {
  const seen = new Set<number>();
  const stack = [from];
  while (stack.length) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    for (const e of p.states[s]!.eps) stack.push(e);
  }
  return [...seen];
}

/** NFA simulation over a line; reports the union of all match spans. */
class NfaSearch {
  /** Per state: the character states of its epsilon closure, and whether that reaches accept. */
  private readonly reach: (Int32Array | undefined)[];
  private readonly accepts: (boolean | undefined)[];
  private readonly startReach: Int32Array;
  private cur: Int32Array;
  private next: Int32Array;
  private curStart: Int32Array;
  private nextStart: Int32Array;

  constructor(private readonly p: CompiledPattern) {
    const n = p.states.length;
    this.reach = new Array(n);
    this.accepts = new Array(n);
    this.startReach = this.reachOf(p.start);
    this.cur = new Int32Array(n);
    this.next = new Int32Array(n);
    this.curStart = new Int32Array(n).fill(-1);
    this.nextStart = new Int32Array(n).fill(-1);
  }

  private reachOf(s: number): Int32Array {
    let r = this.reach[s];
    if (r === undefined) {
      const cl = closure(this.p, s);
      r = Int32Array.from(cl.filter((t) => this.p.states[t]!.set !== null));
      this.reach[s] = r;
      this.accepts[s] = cl.includes(this.p.accept);
    }
    return r;
  }

  findAll(text: string, base: number, rule: string, out: Finding[]): void {
    const states = this.p.states;
    let cur = this.cur;
    let next = this.next;
    let curStart = this.curStart;
    let nextStart = this.nextStart;
    let curLen = 0;
    let spanStart = -1;
    let spanEnd = -1;
    const startReach = this.startReach;
    for (let i = 0; i <= text.length; i++) {
      // a new thread at every position: earlier starts already in a state keep it
      for (let k = 0; k < startReach.length; k++) {
        const t = startReach[k]!;
        if (curStart[t] === -1) {
          curStart[t] = i;
          cur[curLen++] = t;
        }
      }
      if (i === text.length) break;
      const c = text.charCodeAt(i);
      let nextLen = 0;
      let acceptFrom = -1;
      for (let k = 0; k < curLen; k++) {
        const t = cur[k]!;
        const st = states[t]!;
        const from = curStart[t]!;
        curStart[t] = -1;
        if (c >= 128 || st.set![c] !== 1) continue;
        const targets = this.reachOf(st.next);
        if (this.accepts[st.next] && (acceptFrom === -1 || from < acceptFrom)) acceptFrom = from;
        for (let j = 0; j < targets.length; j++) {
          const u = targets[j]!;
          const had = nextStart[u]!;
          if (had === -1) {
            nextStart[u] = from;
            next[nextLen++] = u;
          } else if (from < had) nextStart[u] = from;
        }
      }
      if (acceptFrom !== -1) {
        if (spanStart !== -1 && acceptFrom <= spanEnd) {
          spanStart = Math.min(spanStart, acceptFrom);
          spanEnd = i + 1;
        } else {
          if (spanStart !== -1) out.push({ start: base + spanStart, end: base + spanEnd, rule });
          spanStart = acceptFrom;
          spanEnd = i + 1;
        }
      }
      [cur, next] = [next, cur];
      [curStart, nextStart] = [nextStart, curStart];
      curLen = nextLen;
    }
    for (let k = 0; k < curLen; k++) curStart[cur[k]!] = -1;
    this.cur = cur;
    this.next = next;
    this.curStart = curStart;
    this.nextStart = nextStart;
    if (spanStart !== -1) out.push({ start: base + spanStart, end: base + spanEnd, rule });
  }
}

const sets = new WeakMap<readonly SiteRuleDef[], RuleSet>();

/** The built-in rules plus a catalog's site rules, compiled once per catalog. */
export function ruleSetWith(siteRules: readonly SiteRuleDef[] | undefined): RuleSet {
  if (!siteRules || siteRules.length === 0) return builtinRuleSet();
  let set = sets.get(siteRules);
  if (!set) sets.set(siteRules, (set = compileRules([...BUILTIN_RULES, ...siteRules.map(compileSiteRule)])));
  return set;
}
