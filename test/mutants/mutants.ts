// The mutants of `bun run mutants` (scripts/mutants.ts): realistic one-line bugs in the security
// core, each found by content (file + exact text, which must occur exactly once) so the list
// survives file moves and refactors: an anchor that no longer matches is reported "stale" and
// fails the run, to be re-anchored by hand. `tests` are run first (fast); the quick tier after.
// `issueRow` marks the ten rows of issue 22's table; `equivalent` explains a mutant no test can kill.

export interface Edit {
  /** Exact text in `file`; must occur once. */
  search: string;
  replace: string;
}

export interface Mutant {
  id: string;
  area: "capability" | "wire" | "noise" | "crypto" | "share" | "audit" | "exec" | "relay" | "daemon";
  file: string;
  description: string;
  /** Usually one edit; a bug that lives in two places (a buffer and its flush) has two. */
  edits: Edit[];
  /** Quick-tier test files of the mutant's own area, run before the whole quick tier. */
  tests: string[];
  issueRow?: number;
  equivalent?: string;
}

export const MUTANTS: Mutant[] = [
  // ---- capability
  {
    id: "constraint-range-admits-max-plus-one",
    area: "capability",
    file: "lib/capability/constraint.ts",
    description: "a range admits one above its maximum",
    edits: [
      { search: "return n !== undefined && n >= c.min && n <= c.max;", replace: "return n !== undefined && n >= c.min && n <= c.max + 1;" },
    ],
    tests: ["test/capability/constraint.test.ts"],
  },
  {
    id: "constraint-range-refuses-min",
    area: "capability",
    file: "lib/capability/constraint.ts",
    description: "a range refuses its own minimum (exclusive lower bound)",
    edits: [
      { search: "return n !== undefined && n >= c.min && n <= c.max;", replace: "return n !== undefined && n > c.min && n <= c.max;" },
    ],
    tests: ["test/capability/constraint.test.ts"],
  },
  {
    id: "constraint-enum-prefix",
    area: "capability",
    file: "lib/capability/constraint.ts",
    description: "an enum admits a prefix of an allowed value",
    issueRow: 2,
    edits: [
      { search: "return c.values.includes(value);", replace: "return c.values.some((x) => x.startsWith(value));" },
    ],
    tests: ["test/capability/constraint.test.ts"],
  },
  {
    id: "constraint-subset-range-max",
    area: "capability",
    file: "lib/capability/constraint.ts",
    description: "attenuation accepts a range one above the grant's max",
    issueRow: 1,
    edits: [
      { search: "return inner.min >= outer.min && inner.max <= outer.max;", replace: "return inner.min >= outer.min && inner.max <= outer.max + 1;" },
    ],
    tests: ["test/capability/constraint.test.ts"],
  },
  {
    id: "constraint-subset-range-min",
    area: "capability",
    file: "lib/capability/constraint.ts",
    description: "attenuation accepts a range one below the grant's min",
    edits: [
      { search: "return inner.min >= outer.min && inner.max <= outer.max;", replace: "return inner.min >= outer.min - 1 && inner.max <= outer.max;" },
    ],
    tests: ["test/capability/constraint.test.ts"],
  },
  {
    id: "constraint-subset-enum-some",
    area: "capability",
    file: "lib/capability/constraint.ts",
    description: "an enum is a subset when any one of its values is admitted",
    edits: [
      { search: "return inner.values.every((v) => admits(outer, v));", replace: "return inner.values.some((v) => admits(outer, v));" },
    ],
    tests: ["test/capability/constraint.test.ts"],
  },
  {
    id: "constraint-subset-pattern-any",
    area: "capability",
    file: "lib/capability/constraint.ts",
    description: "any pattern is a subset of any other pattern",
    edits: [
      { search: "return outer.kind === \"pattern\" && outer.pattern === inner.pattern;", replace: "return outer.kind === \"pattern\";" },
    ],
    tests: ["test/capability/constraint.test.ts"],
  },
  {
    id: "constraint-subset-range-in-enum-unchecked",
    area: "capability",
    file: "lib/capability/constraint.ts",
    description: "a small range is a subset of an enum or pattern without checking its values",
    edits: [
      { search: "for (let n = inner.min; n <= inner.max; n++) if (!admits(outer, String(n))) return false;", replace: "for (let n = inner.min; n < inner.max; n++) if (!admits(outer, String(n))) return false;" },
    ],
    tests: ["test/capability/constraint.test.ts"],
  },
  {
    id: "constraint-int-leading-zeros",
    area: "capability",
    file: "lib/capability/constraint.ts",
    description: "non-canonical integers (leading zeros) are admitted by a range",
    edits: [
      { search: "const CANONICAL_INT = /^(0|-?[1-9][0-9]{0,15})$/;", replace: "const CANONICAL_INT = /^(-?[0-9]{1,16})$/;" },
    ],
    tests: ["test/capability/constraint.test.ts"],
  },
  {
    id: "constraint-unsafe-pattern-admits",
    area: "capability",
    file: "lib/capability/constraint.ts",
    description: "a pattern outside the safe subset admits everything",
    edits: [
      { search: "return false; // a pattern outside the safe subset admits nothing", replace: "return true; // a pattern outside the safe subset admits nothing" },
    ],
    tests: ["test/capability/constraint.test.ts"],
  },
  {
    id: "constraint-unknown-kind-admits",
    area: "capability",
    file: "lib/capability/constraint.ts",
    description: "an unknown constraint kind admits (fails open)",
    edits: [
      { search: "return false; // fail closed on anything unknown", replace: "return true; // fail closed on anything unknown" },
    ],
    tests: ["test/capability/constraint.test.ts"],
  },
  {
    id: "constraint-empty-enum-value",
    area: "capability",
    file: "lib/capability/constraint.ts",
    description: "an empty string is a valid enum value",
    edits: [
      { search: "return v.length >= 1 && v.length <= MAX_VALUE_LENGTH", replace: "return v.length >= 0 && v.length <= MAX_VALUE_LENGTH" },
    ],
    tests: ["test/capability/constraint.test.ts", "test/capability/catalog.test.ts"],
  },
  {
    id: "policy-no-ttl-recheck",
    area: "capability",
    file: "lib/capability/policy.ts",
    description: "decide stops re-checking the 30-minute cap",
    issueRow: 3,
    edits: [
      { search: "if (passport.v !== 1 || !lifetimeWithinCap(passport.issuedAt, passport.expiresAt))", replace: "if (passport.v !== 1)" },
    ],
    tests: ["test/capability/policy.test.ts"],
  },
  {
    id: "policy-unconstrained-param-passes",
    area: "capability",
    file: "lib/capability/policy.ts",
    description: "a parameter the passport leaves unconstrained is let through",
    issueRow: 4,
    edits: [
      { search: "if (pc === undefined) return deny(\"malformed\", `this share's passport does not constrain ${callVerb} ${name}`);", replace: "if (pc === undefined) continue;" },
    ],
    tests: ["test/capability/policy.test.ts"],
  },
  {
    id: "policy-any-key-holder",
    area: "capability",
    file: "lib/capability/policy.ts",
    description: "a --to share admits any caller that has a key",
    edits: [
      { search: "if (passport.recipient.kind === \"key\" && callerKey !== passport.recipient.publicKey)", replace: "if (passport.recipient.kind === \"key\" && callerKey === null)" },
    ],
    tests: ["test/capability/policy.test.ts"],
  },
  {
    id: "policy-share-expiry-inclusive",
    area: "capability",
    file: "lib/capability/policy.ts",
    description: "a share is still live at the millisecond it expires",
    edits: [
      { search: "now >= share.expiresAt ||", replace: "now > share.expiresAt ||" },
    ],
    tests: ["test/capability/policy.test.ts"],
  },
  {
    id: "policy-ignores-passport-expiry",
    area: "capability",
    file: "lib/capability/policy.ts",
    description: "the passport's own expiry is not checked (only the share row's)",
    edits: [
      { search: "if (share.state !== \"live\" || now >= share.expiresAt || now >= passport.expiresAt)", replace: "if (share.state !== \"live\" || now >= share.expiresAt)" },
    ],
    tests: ["test/capability/policy.test.ts"],
  },
  {
    id: "policy-forgets-current-grant",
    area: "capability",
    file: "lib/capability/policy.ts",
    description: "a value the current grant no longer admits is allowed",
    edits: [
      { search: "if (gc === undefined || !admits(gc, value) || !admits(def.params[name]!.constraint, value))", replace: "if (gc === undefined || !admits(def.params[name]!.constraint, value))" },
    ],
    tests: ["test/capability/policy.test.ts"],
  },
  {
    id: "policy-forgets-catalog",
    area: "capability",
    file: "lib/capability/policy.ts",
    description: "a value the catalog no longer admits is allowed",
    edits: [
      { search: "if (gc === undefined || !admits(gc, value) || !admits(def.params[name]!.constraint, value))", replace: "if (gc === undefined || !admits(gc, value))" },
    ],
    tests: ["test/capability/policy.test.ts"],
  },
  {
    id: "policy-revoked-grant-falls-back",
    area: "capability",
    file: "lib/capability/policy.ts",
    description: "a verb whose grant was revoked falls back to the passport's constraints",
    edits: [
      { search: "const gverb = currentGrant !== undefined && Object.hasOwn(currentGrant, callVerb) ? currentGrant[callVerb] : undefined;", replace: "const gverb = (currentGrant !== undefined && Object.hasOwn(currentGrant, callVerb) ? currentGrant[callVerb] : undefined) ?? pverb;" },
    ],
    tests: ["test/capability/policy.test.ts"],
  },
  {
    id: "policy-unknown-param-ignored",
    area: "capability",
    file: "lib/capability/policy.ts",
    description: "parameters the verb does not take are silently ignored",
    edits: [
      { search: "    if (!Object.hasOwn(def.params, key)) {", replace: "    if (false) {" },
    ],
    tests: ["test/capability/policy.test.ts"],
  },
  {
    id: "policy-inherited-verb-name",
    area: "capability",
    file: "lib/capability/policy.ts",
    description: "verb lookup in the passport reads inherited properties (toString)",
    edits: [
      { search: "const pverb = Object.hasOwn(passport.verbs, callVerb) ? passport.verbs[callVerb] : undefined;", replace: "const pverb = passport.verbs[callVerb];" },
    ],
    tests: ["test/capability/policy.test.ts"],
  },
  {
    id: "policy-pin-overrides-given",
    area: "capability",
    file: "lib/capability/policy.ts",
    description: "a pinned value silently replaces the caller's value instead of denying it",
    edits: [
      { search: "const value = given ?? pinnedValue(pc) ?? def.params[name]!.default;", replace: "const value = pinnedValue(pc) ?? given ?? def.params[name]!.default;" },
    ],
    tests: ["test/capability/policy.test.ts"],
  },
  {
    id: "policy-default-unchecked",
    area: "capability",
    file: "lib/capability/policy.ts",
    description: "a default value is not checked against the passport",
    edits: [
      { search: "if (!admits(pc, value)) return deny(\"param_outside_passport\"", replace: "if (given !== undefined && !admits(pc, value)) return deny(\"param_outside_passport\"" },
    ],
    tests: ["test/capability/policy.test.ts"],
  },
  {
    id: "policy-dropped-keys-pass",
    area: "capability",
    file: "lib/capability/policy.ts",
    description: "parameter names valibot silently drops (constructor) are let through",
    edits: [
      { search: "if (rawKeys.length !== Object.keys(call.params).length || rawKeys.some((k) => !PARAM_NAME.test(k)))", replace: "if (rawKeys.some((k) => !PARAM_NAME.test(k)))" },
    ],
    tests: ["test/capability/policy.test.ts"],
  },
  {
    id: "passport-canonical-length-only",
    area: "capability",
    file: "lib/capability/passport.ts",
    description: "a re-ordered passport of the same length counts as canonical",
    edits: [
      { search: "if (again.length !== payload.length || again.some((b, i) => b !== payload[i])) throw damaged(\"not in canonical form\");", replace: "if (again.length !== payload.length) throw damaged(\"not in canonical form\");" },
    ],
    tests: ["test/capability/passport.test.ts", "test/capability/policy.test.ts"],
  },
  {
    id: "passport-no-lifetime-check",
    area: "capability",
    file: "lib/capability/passport.ts",
    description: "verification accepts a lifetime over 30 minutes",
    edits: [
      { search: "  if (!lifetimeWithinCap(p.issuedAt, p.expiresAt)) throw damaged(\"lifetime over 30 minutes\");\n", replace: "" },
    ],
    tests: ["test/capability/passport.test.ts", "test/capability/policy.test.ts"],
  },
  {
    id: "passport-context-no-nul",
    area: "capability",
    file: "lib/capability/passport.ts",
    description: "the signature's domain-separation tag loses its terminator",
    edits: [
      { search: "new TextEncoder().encode(\"openscope passport v1\\0\")", replace: "new TextEncoder().encode(\"openscope passport v1\")" },
    ],
    tests: ["test/capability/passport.test.ts", "test/capability/policy.test.ts"],
  },
  {
    id: "passport-verify-throw-is-ok",
    area: "capability",
    file: "lib/capability/passport.ts",
    description: "a signature check that throws counts as verified",
    edits: [
      { search: "  } catch {\n    return false;\n  }\n};", replace: "  } catch {\n    return true;\n  }\n};" },
    ],
    tests: ["test/capability/passport.test.ts", "test/capability/policy.test.ts"],
  },
  {
    id: "passport-no-verbs-ok",
    area: "capability",
    file: "lib/capability/passport.ts",
    description: "a passport naming no verbs verifies",
    edits: [
      { search: "  if (verbs.length === 0) throw damaged(\"names no verbs\");\n", replace: "" },
    ],
    tests: ["test/capability/passport.test.ts", "test/capability/policy.test.ts"],
  },
  {
    id: "limits-cap-minute-grace",
    area: "capability",
    file: "lib/capability/limits.ts",
    description: "the lifetime cap allows a minute of grace",
    edits: [
      { search: "return expiresAt > issuedAt && expiresAt - issuedAt <= LIMITS.shareTtlMaxMs;", replace: "return expiresAt > issuedAt && expiresAt - issuedAt <= LIMITS.shareTtlMaxMs + 60_000;" },
    ],
    tests: ["test/capability/limits.test.ts", "test/capability/policy.test.ts", "test/capability/passport.test.ts"],
  },
  {
    id: "limits-ttl-parse-cap",
    area: "capability",
    file: "lib/capability/limits.ts",
    description: "--ttl accepts up to an hour",
    edits: [
      { search: "if (ms > LIMITS.shareTtlMaxMs)", replace: "if (ms > 2 * LIMITS.shareTtlMaxMs)" },
    ],
    tests: ["test/capability/limits.test.ts", "test/capability/policy.test.ts", "test/capability/passport.test.ts"],
  },
  {
    id: "grant-pin-not-subset",
    area: "capability",
    file: "lib/capability/grant.ts",
    description: "a share's pin is not checked against the grant (attenuation can widen)",
    edits: [
      { search: "    if (!isSubset(inner, outer)) throw outside(key, pin, outer);\n", replace: "" },
    ],
    tests: ["test/capability/grant.test.ts"],
  },
  {
    id: "grant-stale-grant-trusted",
    area: "capability",
    file: "lib/capability/grant.ts",
    description: "a grant wider than a since-narrowed catalog is trusted",
    edits: [
      { search: "if (g === undefined || !isSubset(g, c))", replace: "if (g === undefined)" },
    ],
    tests: ["test/capability/grant.test.ts"],
  },
  {
    id: "grant-unheld-verb-open",
    area: "capability",
    file: "lib/capability/grant.ts",
    description: "a verb outside the grant is shared with the catalog's constraints",
    edits: [
      { search: "const held = Object.hasOwn(grant, spec.verb) ? grant[spec.verb] : undefined;", replace: "const held = Object.hasOwn(grant, spec.verb) ? grant[spec.verb] : catalog.has(spec.verb) ? {} : undefined;" },
    ],
    tests: ["test/capability/grant.test.ts"],
  },
  {
    id: "pattern-prefix-match",
    area: "capability",
    file: "lib/capability/pattern.ts",
    description: "a pattern matches any value its NFA has not rejected yet (prefixes)",
    edits: [
      { search: "  return current.has(p.accept);\n}", replace: "  return current.size > 0;\n}" },
    ],
    tests: ["test/capability/pattern.test.ts", "test/capability/catalog.test.ts"],
  },
  {
    id: "pattern-slash-unseen",
    area: "capability",
    file: "lib/capability/pattern.ts",
    description: "the catalog's analysis misses patterns that can match \"/\"",
    edits: [
      { search: "    if (has(s, \"/\")) slash = true;\n", replace: "" },
    ],
    tests: ["test/capability/pattern.test.ts", "test/capability/catalog.test.ts"],
  },
  {
    id: "pattern-leading-dash-unseen",
    area: "capability",
    file: "lib/capability/pattern.ts",
    description: "the catalog's analysis misses patterns that can start with \"-\"",
    edits: [
      { search: "for (const s of startClosure) if (live(s) && has(s, \"-\")) leadingDash = true;", replace: "" },
    ],
    tests: ["test/capability/pattern.test.ts", "test/capability/catalog.test.ts"],
  },
  {
    id: "catalog-placeholder-program",
    area: "capability",
    file: "lib/capability/catalog.ts",
    description: "argv[0] may be a placeholder (the caller picks the program)",
    edits: [
      { search: "      if (i === 0) throw field(\"argv[0]\", \"the program must be fixed, not a placeholder\");\n", replace: "" },
    ],
    tests: ["test/capability/catalog.test.ts"],
  },
  {
    id: "catalog-negative-range-ok",
    area: "capability",
    file: "lib/capability/catalog.ts",
    description: "a range down to -1 is allowed without allow = [\"leading-dash\"]",
    edits: [
      { search: "if (min < 0 && !allow.has(\"leading-dash\"))", replace: "if (min < -1 && !allow.has(\"leading-dash\"))" },
    ],
    tests: ["test/capability/catalog.test.ts"],
  },
  {
    id: "catalog-default-outside",
    area: "capability",
    file: "lib/capability/catalog.ts",
    description: "a default outside its parameter's constraint is accepted",
    edits: [
      { search: "    if (!admits(constraint, d)) throw err(`default ${JSON.stringify(p.default)} is outside the constraint`);\n", replace: "" },
    ],
    tests: ["test/capability/catalog.test.ts"],
  },
  // ---- exec
  {
    id: "argv-quote-unescaped",
    area: "exec",
    file: "lib/exec/argv.ts",
    description: "ssh quoting does not escape single quotes (remote injection)",
    edits: [
      { search: "return `'${arg.replaceAll(\"'\", `'\\\\''`)}'`;", replace: "return `'${arg}'`;" },
    ],
    tests: ["test/exec/argv.test.ts"],
  },
  {
    id: "argv-no-recheck",
    area: "exec",
    file: "lib/exec/argv.ts",
    description: "argv rendering trusts the decided values without re-checking them",
    edits: [
      { search: "    if (!admits(def.constraint, value)) throw usageError(`argv: ${verb.name}: ${name}=${displayValue(value)} is outside its constraint`);\n", replace: "" },
    ],
    tests: ["test/exec/argv.test.ts"],
  },
  {
    id: "argv-host-dash",
    area: "exec",
    file: "lib/exec/argv.ts",
    description: "an ssh host starting with \"-\" is passed to ssh",
    edits: [
      { search: "  if (verb.host.startsWith(\"-\")) throw usageError(`argv: ${verb.name}: host must not start with \"-\"`);\n", replace: "" },
    ],
    tests: ["test/exec/argv.test.ts"],
  },
  {
    id: "argv-no-double-dash",
    area: "exec",
    file: "lib/exec/argv.ts",
    description: "ssh's argv has no \"--\" before the host",
    edits: [
      { search: "out.push(\"--\", verb.host, remote);", replace: "out.push(verb.host, remote);" },
    ],
    tests: ["test/exec/argv.test.ts"],
  },
  {
    id: "argv-no-host-key-check",
    area: "exec",
    file: "lib/exec/argv.ts",
    description: "ssh runs with StrictHostKeyChecking=no",
    edits: [
      { search: "\"-o\", \"StrictHostKeyChecking=yes\"]", replace: "\"-o\", \"StrictHostKeyChecking=no\"]" },
    ],
    tests: ["test/exec/argv.test.ts"],
  },
  {
    id: "process-inherits-env",
    area: "exec",
    file: "lib/exec/process.ts",
    description: "a verb inherits the daemon's environment (secrets)",
    edits: [
      { search: "const env = { ...(req.env ?? DEFAULT_ENV) };", replace: "const env = { ...(process.env as Record<string, string>), ...(req.env ?? DEFAULT_ENV) };" },
    ],
    tests: ["test/exec/process.test.ts"],
  },
  {
    id: "process-cap-off-by-one",
    area: "exec",
    file: "lib/exec/process.ts",
    description: "the output cap lets one byte more through",
    edits: [
      { search: "const room = this.req.maxOutputBytes - this.bytesOut;", replace: "const room = this.req.maxOutputBytes - this.bytesOut + 1;" },
    ],
    tests: ["test/exec/process.test.ts"],
  },
  {
    id: "process-timeout-no-kill",
    area: "exec",
    file: "lib/exec/process.ts",
    description: "the timeout stops forwarding but does not kill the verb",
    edits: [
      { search: "    timedOut = true;\n    output.close();\n    group.kill();\n", replace: "    timedOut = true;\n    output.close();\n" },
    ],
    tests: ["test/exec/process.test.ts"],
  },
  {
    id: "process-kill-pid-not-group",
    area: "exec",
    file: "lib/exec/process.ts",
    description: "signals go to the verb's pid, not its process group (grandchildren survive)",
    edits: [
      { search: "process.kill(-this.proc.pid, signal);", replace: "process.kill(this.proc.pid, signal);" },
    ],
    tests: ["test/exec/process.test.ts"],
  },
  {
    id: "process-cancel-no-kill",
    area: "exec",
    file: "lib/exec/process.ts",
    description: "cancel stops forwarding but leaves the verb running",
    edits: [
      { search: "      cancelled = true;\n      output.stop();\n      group.kill();\n    },", replace: "      cancelled = true;\n      output.stop();\n    }," },
    ],
    tests: ["test/exec/process.test.ts"],
  },
  {
    id: "process-output-not-redacted",
    area: "exec",
    file: "lib/exec/process.ts",
    description: "verb output leaves the adapter without redaction (SPEC.md §17.3)",
    edits: [{ search: "pieces: r ? r.push(chunk) : [chunk]", replace: "pieces: [chunk]" }],
    tests: ["test/exec/process.test.ts"],
  },
  {
    id: "redact-pem-end-kept-open",
    area: "exec",
    file: "lib/redact/scanner.ts",
    description: "a private key block that ended is not closed: its END line is sent",
    edits: [{ search: "    found.push({ start: blockStart, end, rule: PRIVATE_KEY_RULE });", replace: "    found.push({ start: blockStart, end: end - 5, rule: PRIVATE_KEY_RULE });" }],
    tests: ["test/redact/rules.test.ts", "test/redact/stream.test.ts"],
  },
  {
    id: "redact-split-line-emitted-early",
    area: "exec",
    file: "lib/redact/stream.ts",
    description: "an unterminated line is sent as it arrives, so a secret split across reads is never seen whole",
    edits: [{ search: "    const lastNewline = buf.lastIndexOf(0x0a);", replace: "    const lastNewline = buf.length - 1;" }],
    tests: ["test/redact/stream.test.ts"],
  },
  {
    id: "redact-simd-no-lookahead",
    area: "exec",
    file: "lib/redact/simd.ts",
    description: "the SIMD window is copied without the 2 bytes after it: a keyword across a window edge is missed",
    edits: [{ search: "wasm.memory.set(bytes.subarray(at, Math.min(end, windowEnd + 2)), DATA);", replace: "wasm.memory.set(bytes.subarray(at, windowEnd), DATA);" }],
    tests: ["test/redact/simd.test.ts"],
  },
  {
    id: "redact-simd-nibble-table",
    area: "exec",
    file: "lib/redact/simd.ts",
    description: "the high-nibble table is indexed wrongly: fingerprints are missed",
    edits: [{ search: "tables[32 * k + 16 + (byte >> 4)]! |= bit;", replace: "tables[32 * k + 16 + (byte >> 3 & 15)]! |= bit;" }],
    tests: ["test/redact/simd.test.ts"],
  },
  {
    id: "redact-simd-end-off-by-one",
    area: "exec",
    file: "lib/redact/simd.ts",
    description: "a fingerprint that ends exactly at the end of the region is not checked",
    edits: [{ search: "      if (pos + n > end) continue;", replace: "      if (pos + n >= end) continue;" }],
    tests: ["test/redact/simd.test.ts"],
  },
  {
    id: "redact-simd-stale-window",
    area: "exec",
    file: "lib/redact/simd.ts",
    description: "a search resumed after another one searches the other one's bytes",
    edits: [{ search: "if (wasm.owner !== owner || at < windowStart", replace: "if (at < windowStart" }],
    tests: ["test/redact/simd.test.ts"],
  },
  {
    id: "redact-keyword-prefix-lost",
    area: "exec",
    file: "lib/redact/scanner.ts",
    description: "a keyword that starts a longer one (sk- in sk-ant-) no longer calls its rule",
    edits: [{ search: "    for (const shorter of keys) if (k.startsWith(shorter)) for (const i of byKeyword.get(shorter)!) called.add(i);", replace: "    for (const i of byKeyword.get(k)!) called.add(i);" }],
    tests: ["test/redact/scanner.test.ts"],
  },
  {
    id: "redact-keyword-inside-skipped",
    area: "exec",
    file: "lib/redact/scanner.ts",
    description: "the keyword search skips past each match, missing keywords that start inside it",
    edits: [{ search: "      finder.lastIndex = m.index + 1;", replace: "      finder.lastIndex = m.index + m[1]!.length;" }],
    tests: ["test/redact/scanner.test.ts"],
  },
  {
    id: "redact-bytes-skip-matches",
    area: "exec",
    file: "lib/redact/scanner.ts",
    description: "the byte path skips the lines whose fingerprints matched exactly (and scans the near misses)",
    edits: [{ search: "    if (!search.matchesAt(bytes, c, b)) continue;", replace: "    if (search.matchesAt(bytes, c, b)) continue;" }],
    tests: ["test/redact/simd.test.ts", "test/redact/rules.test.ts"],
  },
  {
    id: "process-cwd-daemon",
    area: "exec",
    file: "lib/exec/process.ts",
    description: "a verb runs in the daemon's working directory",
    edits: [
      { search: "export const DEFAULT_CWD = \"/\";", replace: "export const DEFAULT_CWD = process.cwd();" },
    ],
    tests: ["test/exec/process.test.ts"],
  },
  // ---- noise
  {
    id: "noise-nonce-big-endian",
    area: "noise",
    file: "lib/noise/crypto.ts",
    description: "the ChaChaPoly nonce counter is big-endian",
    edits: [
      { search: "view.setUint32(4, n >>> 0, true);", replace: "view.setUint32(4, n >>> 0, false);" },
    ],
    tests: ["test/noise/vectors.test.ts", "test/wire/channel.test.ts"],
  },
  {
    id: "noise-hkdf-output2",
    area: "noise",
    file: "lib/noise/crypto.ts",
    description: "HKDF's second output does not chain the first",
    edits: [
      { search: "const out2 = h.hmac(tempKey, concat(out1, Uint8Array.of(2)));", replace: "const out2 = h.hmac(tempKey, Uint8Array.of(2));" },
    ],
    tests: ["test/noise/vectors.test.ts", "test/wire/channel.test.ts"],
  },
  {
    id: "noise-nonce-not-advanced",
    area: "noise",
    file: "lib/noise/cipher-state.ts",
    description: "encryption does not advance the nonce (nonce reuse)",
    edits: [
      { search: "    const out = this.suite.encrypt(this.k, this.n, ad, plaintext);\n    this.n++;\n", replace: "    const out = this.suite.encrypt(this.k, this.n, ad, plaintext);\n" },
    ],
    tests: ["test/noise/vectors.test.ts", "test/wire/channel.test.ts"],
  },
  {
    id: "noise-bulk-nonce-not-advanced",
    area: "noise",
    file: "lib/noise/cipher-state.ts",
    description: "a bulk record is sealed without advancing the nonce (nonce reuse)",
    edits: [
      { search: "return bulk.encrypt(chachaNonce(this.n++), ad, plaintext);", replace: "return bulk.encrypt(chachaNonce(this.n), ad, plaintext);" },
    ],
    tests: ["test/noise/vectors.test.ts", "test/wire/channel.test.ts"],
  },
  {
    id: "noise-nonce-limit-inclusive",
    area: "noise",
    file: "lib/noise/cipher-state.ts",
    description: "the nonce limit itself may still be used",
    edits: [
      { search: "if (this.n >= this.nonceLimit)", replace: "if (this.n > this.nonceLimit)" },
    ],
    tests: ["test/noise/vectors.test.ts", "test/wire/channel.test.ts"],
  },
  {
    id: "noise-hash-plaintext",
    area: "noise",
    file: "lib/noise/symmetric-state.ts",
    description: "DecryptAndHash hashes the plaintext instead of the ciphertext",
    edits: [
      { search: "    this.mixHash(ciphertext);\n", replace: "    this.mixHash(pt);\n" },
    ],
    tests: ["test/noise/vectors.test.ts", "test/wire/channel.test.ts"],
  },
  {
    id: "noise-prologue-unbound",
    area: "noise",
    file: "lib/noise/handshake-state.ts",
    description: "the prologue is not mixed into the handshake hash",
    edits: [
      { search: "    this.ss.mixHash(opts.prologue);\n", replace: "" },
    ],
    tests: ["test/noise/vectors.test.ts", "test/wire/channel.test.ts"],
  },
  {
    id: "noise-psk-e-write",
    area: "noise",
    file: "lib/noise/handshake-state.ts",
    description: "the writer skips MixKey(e) of psk patterns",
    edits: [
      { search: "        if (this.protocol.pattern.psk) this.ss.mixKey(this.e.publicKey);\n", replace: "" },
    ],
    tests: ["test/noise/vectors.test.ts", "test/wire/channel.test.ts"],
  },
  {
    id: "noise-psk-e-read",
    area: "noise",
    file: "lib/noise/handshake-state.ts",
    description: "the reader skips MixKey(re) of psk patterns",
    edits: [
      { search: "        if (this.protocol.pattern.psk) this.ss.mixKey(this.reKey);\n", replace: "" },
    ],
    tests: ["test/noise/vectors.test.ts", "test/wire/channel.test.ts"],
  },
  {
    id: "channel-same-key-both-ways",
    area: "noise",
    file: "lib/wire/channel.ts",
    description: "the responder uses the initiator's send key for its own sends (reflection)",
    edits: [
      { search: "return { message2, channel: new Channel(r2i, i2r, hs.handshakeHash, opts.channel) };", replace: "return { message2, channel: new Channel(i2r, i2r, hs.handshakeHash, opts.channel) };" },
    ],
    tests: ["test/wire/channel.test.ts"],
  },
  // ---- wire
  {
    id: "channel-credit-unchecked",
    area: "wire",
    file: "lib/wire/channel.ts",
    description: "a peer may send past the window it was granted",
    edits: [
      { search: "        if (wire.length > this.recvAllowance) throw new Error(\"credit exceeded\");\n", replace: "" },
    ],
    tests: ["test/wire/channel.test.ts"],
  },
  {
    id: "channel-message-size-unchecked",
    area: "wire",
    file: "lib/wire/channel.ts",
    description: "reassembly has no size limit",
    edits: [
      { search: "        if (this.fragmentBytes > this.maxMessageBytes) throw new Error(\"message too large\");\n", replace: "" },
    ],
    tests: ["test/wire/channel.test.ts"],
  },
  {
    id: "channel-zero-grant",
    area: "wire",
    file: "lib/wire/channel.ts",
    description: "a zero credit grant is accepted",
    edits: [
      { search: "if (grant === 0 || this.sendCredit + grant > MAX_CREDIT)", replace: "if (this.sendCredit + grant > MAX_CREDIT)" },
    ],
    tests: ["test/wire/channel.test.ts"],
  },
  {
    id: "channel-not-dead-after-reject",
    area: "wire",
    file: "lib/wire/channel.ts",
    description: "a channel keeps receiving after it rejected a record",
    edits: [
      { search: "    if (this.dead) return;\n    this.dead = true;\n    this.queue.length = 0;\n", replace: "    if (this.dead) return;\n    this.queue.length = 0;\n" },
    ],
    tests: ["test/wire/channel.test.ts"],
  },
  {
    id: "channel-prologue-no-rid",
    area: "wire",
    file: "lib/wire/channel.ts",
    description: "the prologue does not bind the rendezvous id",
    edits: [
      { search: "return concat(PROLOGUE_LABEL, Uint8Array.of(0), len(r.length), r, len(h.length), h);", replace: "return concat(PROLOGUE_LABEL, Uint8Array.of(0), len(h.length), h);" },
    ],
    tests: ["test/wire/channel.test.ts"],
  },
  {
    id: "channel-short-psk",
    area: "wire",
    file: "lib/wire/channel.ts",
    description: "the responder accepts a psk that is not 32 bytes",
    edits: [
      { search: "        if (psk.length !== 32) throw new Error(\"psk must be 32 bytes\");\n", replace: "" },
    ],
    tests: ["test/wire/channel.test.ts"],
  },
  {
    id: "handle-trailing-bytes",
    area: "wire",
    file: "lib/wire/handle.ts",
    description: "trailing bytes after a handle are accepted",
    issueRow: 6,
    edits: [
      { search: "if (body.length - off !== secretLen) throw damaged(", replace: "if (body.length - off < secretLen) throw damaged(" },
    ],
    tests: ["test/wire/handle.test.ts"],
  },
  {
    id: "handle-psk-read-past-end",
    area: "wire",
    file: "lib/wire/handle.ts",
    description: "a truncated field is read past its end",
    issueRow: 5,
    edits: [
      { search: "    if (off + n > body.length) throw damaged(\"truncated field\");\n", replace: "" },
    ],
    tests: ["test/wire/handle.test.ts"],
  },
  {
    id: "handle-expiry-zero",
    area: "wire",
    file: "lib/wire/handle.ts",
    description: "an expiry of 0 decodes",
    edits: [
      { search: "if (expires < 1n || expires > BigInt(MAX_EXPIRES_AT)) throw damaged(\"expiry out of range\");", replace: "if (expires > BigInt(MAX_EXPIRES_AT)) throw damaged(\"expiry out of range\");" },
    ],
    tests: ["test/wire/handle.test.ts"],
  },
  {
    id: "handle-no-checksum",
    area: "wire",
    file: "lib/wire/handle.ts",
    description: "the handle checksum is not checked",
    edits: [
      { search: "  if (!equalBytes(raw.subarray(raw.length - CHECKSUM_LEN), checksum(body))) throw damaged(\"checksum mismatch\");\n", replace: "" },
    ],
    tests: ["test/wire/handle.test.ts"],
  },
  {
    id: "handle-expiry-unbounded",
    area: "wire",
    file: "lib/wire/handle.ts",
    description: "an expiry past 2^53 decodes (and loses precision)",
    edits: [
      { search: "if (expires < 1n || expires > BigInt(MAX_EXPIRES_AT)) throw damaged(\"expiry out of range\");", replace: "if (expires < 1n) throw damaged(\"expiry out of range\");" },
    ],
    tests: ["test/wire/handle.test.ts"],
  },
  {
    id: "handle-short-rid",
    area: "wire",
    file: "lib/wire/handle.ts",
    description: "a rendezvous id under 16 bytes decodes",
    edits: [
      { search: "if (ridLen < MIN_RID_LEN || ridLen > MAX_RID_LEN) throw damaged(\"rendezvous id length\");", replace: "if (ridLen > MAX_RID_LEN) throw damaged(\"rendezvous id length\");" },
    ],
    tests: ["test/wire/handle.test.ts"],
  },
  {
    id: "handle-url-unchecked",
    area: "wire",
    file: "lib/wire/handle.ts",
    description: "the decoded relay URL is not checked (http:// or garbage accepted)",
    edits: [
      { search: "  if (typeof url === \"string\") throw damaged(url);\n", replace: "" },
    ],
    tests: ["test/wire/handle.test.ts"],
  },
  {
    id: "handle-unknown-kind",
    area: "wire",
    file: "lib/wire/handle.ts",
    description: "an unknown secret kind decodes as sealed",
    edits: [
      { search: "  if (kind !== KIND_BEARER && kind !== KIND_SEALED) throw damaged(\"unknown secret kind\");\n", replace: "" },
    ],
    tests: ["test/wire/handle.test.ts"],
  },
  // ---- crypto
  {
    id: "sealed-kdf-no-recipient",
    area: "crypto",
    file: "lib/crypto/hpke.ts",
    description: "the sealed box KDF forgets the recipient key (HPKE kem_context without pkR, both sides)",
    issueRow: 7,
    edits: [
      { search: "return { sharedSecret: extractAndExpand(dh, concat(encapsulated, recipientPublic)), enc: encapsulated };", replace: "return { sharedSecret: extractAndExpand(dh, encapsulated), enc: encapsulated };" },
      { search: "return extractAndExpand(dh, concat(encapsulated, suite.publicKey(recipientPrivate)));", replace: "return extractAndExpand(dh, encapsulated);" },
    ],
    tests: ["test/crypto/sealedbox.test.ts", "test/crypto/hpke.test.ts"],
  },
  {
    id: "sealed-kdf-no-ephemeral",
    area: "crypto",
    file: "lib/crypto/hpke.ts",
    description: "the sealed box KDF forgets the ephemeral key (HPKE kem_context without enc, both sides)",
    edits: [
      { search: "return { sharedSecret: extractAndExpand(dh, concat(encapsulated, recipientPublic)), enc: encapsulated };", replace: "return { sharedSecret: extractAndExpand(dh, recipientPublic), enc: encapsulated };" },
      { search: "return extractAndExpand(dh, concat(encapsulated, suite.publicKey(recipientPrivate)));", replace: "return extractAndExpand(dh, suite.publicKey(recipientPrivate));" },
    ],
    tests: ["test/crypto/sealedbox.test.ts", "test/crypto/hpke.test.ts"],
  },
  {
    id: "sealed-handle-unbound",
    area: "crypto",
    file: "lib/crypto/sealedbox.ts",
    description: "the sealed secret is not bound to its handle (HPKE info without the handle context)",
    edits: [
      { search: "return concat(INFO_LABEL, Uint8Array.of(0), handleContext);", replace: "return concat(INFO_LABEL, Uint8Array.of(0));" },
    ],
    tests: ["test/crypto/sealedbox.test.ts"],
  },
  {
    id: "hpke-info-ignored",
    area: "crypto",
    file: "lib/crypto/hpke.ts",
    description: "HPKE's key schedule ignores info (the handle context)",
    edits: [
      { search: "const infoHash = labeledExtract(HPKE_SUITE_ID, EMPTY, \"info_hash\", info);", replace: "const infoHash = labeledExtract(HPKE_SUITE_ID, EMPTY, \"info_hash\", EMPTY);" },
    ],
    tests: ["test/crypto/hpke.test.ts", "test/crypto/sealedbox.test.ts"],
  },
  {
    id: "fingerprint-noise-key-only",
    area: "crypto",
    file: "lib/crypto/fingerprint.ts",
    description: "the fingerprint covers the Noise key only, not the passport-signing key",
    edits: [
      { search: "return sha256(concat(DOMAIN, noisePublicKey, signPublicKey));", replace: "return sha256(concat(DOMAIN, noisePublicKey));" },
    ],
    tests: ["test/crypto/fingerprint.test.ts"],
  },
  {
    id: "fingerprint-code-64-bits",
    area: "crypto",
    file: "lib/crypto/fingerprint.ts",
    description: "the speakable code carries 64 bits (grindable offline)",
    edits: [
      { search: "export const CODE_BYTES = 16;", replace: "export const CODE_BYTES = 8;" },
    ],
    tests: ["test/crypto/fingerprint.test.ts"],
  },
  {
    id: "keys-no-checksum",
    area: "crypto",
    file: "lib/crypto/keys.ts",
    description: "a public key's checksum is not checked",
    edits: [
      { search: "  if (!equalBytes(raw.subarray(32), checksum(key))) throw bad();\n", replace: "" },
    ],
    tests: ["test/crypto/keys.test.ts", "test/crypto/fingerprint.test.ts"],
  },
  {
    id: "fingerprint-prefix-match",
    area: "crypto",
    file: "lib/crypto/fingerprint.ts",
    description: "a typed fingerprint matches when it is a prefix of the real one",
    edits: [
      { search: "return given.length === expected.length && equalBytes(given, expected);", replace: "return equalBytes(given, expected.subarray(0, given.length));" },
    ],
    tests: ["test/crypto/keys.test.ts", "test/crypto/fingerprint.test.ts"],
  },
  // ---- audit
  {
    id: "audit-verify-ignores-head",
    area: "audit",
    file: "lib/store/audit.ts",
    description: "audit verify ignores the chain head",
    issueRow: 8,
    edits: [
      { search: "      if ((head?.hash ?? GENESIS_HASH) !== prevHash) return fail(rows, `row ${rows} does not match the chain head`);\n", replace: "" },
    ],
    tests: ["test/store/audit.test.ts"],
  },
  {
    id: "audit-deferred-transaction",
    area: "audit",
    file: "lib/store/audit.ts",
    description: "an append reads the chain head outside a write lock (deferred transaction)",
    edits: [
      { search: "    }).immediate();", replace: "    })();" },
    ],
    tests: ["test/store/audit.test.ts"],
  },
  {
    id: "audit-verify-no-link-check",
    area: "audit",
    file: "lib/store/audit.ts",
    description: "verify does not compare prev_hash with the previous row's hash",
    edits: [
      { search: "        if (r.prev_hash !== prevHash) return fail(r.seq, `row ${r.seq} does not link to row ${r.seq - 1} (prev_hash differs)`);\n", replace: "" },
    ],
    tests: ["test/store/audit.test.ts"],
  },
  {
    id: "audit-verify-no-hash-check",
    area: "audit",
    file: "lib/store/audit.ts",
    description: "verify does not recompute a row's hash",
    edits: [
      { search: "        if (chainHash(r.prev_hash, r.body) !== r.hash) return fail(r.seq, `row ${r.seq} was altered (its hash does not match its contents)`);\n", replace: "" },
    ],
    tests: ["test/store/audit.test.ts"],
  },
  {
    id: "audit-verify-share-column",
    area: "audit",
    file: "lib/store/audit.ts",
    description: "verify does not compare the share_id column with the hashed body",
    edits: [
      { search: "body.kind !== r.kind || (body.shareId ?? null) !== r.share_id)", replace: "body.kind !== r.kind)" },
    ],
    tests: ["test/store/audit.test.ts"],
  },
  {
    id: "audit-hash-no-separator",
    area: "audit",
    file: "lib/store/audit.ts",
    description: "the chain hash drops the newline between prev_hash and body",
    edits: [
      { search: "`${prevHash}\\n${body}`", replace: "`${prevHash}${body}`" },
    ],
    tests: ["test/store/audit.test.ts"],
  },
  {
    id: "audit-head-seq-unchecked",
    area: "audit",
    file: "lib/store/audit.ts",
    description: "verify does not compare the row count with the chain head's seq",
    edits: [
      { search: "      const headSeq = head?.seq ?? 0;", replace: "      const headSeq = rows;" },
    ],
    tests: ["test/store/audit.test.ts"],
  },
  {
    id: "audit-params-unsorted",
    area: "audit",
    file: "lib/store/audit.ts",
    description: "params are hashed in the order the event was built",
    edits: [
      { search: "if (\"params\" in event && event.params) source.params = sorted(event.params);", replace: "if (\"params\" in event && event.params) source.params = event.params;" },
    ],
    tests: ["test/store/audit.test.ts"],
  },
  // ---- relay
  {
    id: "relay-buffers-unpaired",
    area: "relay",
    file: "lib/relay/server.ts",
    description: "the relay buffers frames for an absent leg and flushes them on pairing",
    issueRow: 9,
    edits: [
      { search: "this.state.counters.droppedUnpaired++; // never buffered for an absent leg", replace: "((ws.data as unknown as { early?: Buffer[] }).early ??= []).push(msg as Buffer); // buffered for an absent leg" },
      { search: "        d.send(PAIRED);\n        c.send(PAIRED);\n", replace: "        d.send(PAIRED);\n        c.send(PAIRED);\n        for (const m of (d.data as unknown as { early?: Buffer[] }).early ?? []) c.send(m);\n" },
    ],
    tests: ["test/relay/server.test.ts"],
  },
  {
    id: "relay-unpaired-not-counted",
    area: "relay",
    file: "lib/relay/server.ts",
    description: "frames dropped for an absent leg are not counted",
    edits: [
      { search: "this.state.counters.droppedUnpaired++; // never buffered for an absent leg", replace: "// never buffered for an absent leg" },
    ],
    tests: ["test/relay/server.test.ts"],
  },
  {
    id: "relay-any-bearer-token",
    area: "relay",
    file: "lib/relay/server.ts",
    description: "any bearer token opens a daemon leg",
    edits: [
      { search: "const tokenKey = token === null ? null : this.tokens.check(token);", replace: "const tokenKey = token === null ? null : (this.tokens.check(token) ?? \"any\");" },
    ],
    tests: ["test/relay/server.test.ts"],
  },
  {
    id: "relay-forwards-text",
    area: "relay",
    file: "lib/relay/server.ts",
    description: "text messages from a leg are forwarded to its peer",
    edits: [
      { search: "    this.state.counters.ignoredText++;\n", replace: "    ws.data.peer?.send(text);\n" },
    ],
    tests: ["test/relay/server.test.ts"],
  },
  {
    id: "relay-rid-unchecked",
    area: "relay",
    file: "lib/relay/server.ts",
    description: "a malformed rid is not refused",
    edits: [
      { search: "    if (!isValidRid(rid)) return { kind: \"refuse\", refusal: \"bad_rid\" };\n", replace: "" },
    ],
    tests: ["test/relay/server.test.ts"],
  },
  {
    id: "relay-message-limit-raised",
    area: "relay",
    file: "lib/relay/server.ts",
    description: "the relay accepts WebSocket messages 16 times over the limit",
    edits: [
      { search: "maxPayloadLength: o.maxMessageBytes,", replace: "maxPayloadLength: o.maxMessageBytes * 16," },
    ],
    tests: ["test/relay/server.test.ts"],
  },
  {
    id: "relay-rid-hijack",
    area: "relay",
    file: "lib/relay/state.ts",
    description: "a daemon with another token takes over a rid",
    edits: [
      { search: "      if (r && r.tokenKey !== null && r.tokenKey !== tokenKey) return \"taken\";\n", replace: "" },
    ],
    tests: ["test/relay/state.test.ts", "test/relay/server.test.ts"],
  },
  {
    id: "relay-second-client",
    area: "relay",
    file: "lib/relay/state.ts",
    description: "a second client leg replaces the first on a rid",
    edits: [
      { search: "    if (r?.client) return \"taken\";\n", replace: "" },
    ],
    tests: ["test/relay/state.test.ts", "test/relay/server.test.ts"],
  },
  {
    id: "relay-legs-per-token-off-by-one",
    area: "relay",
    file: "lib/relay/state.ts",
    description: "a token may hold one leg more than its limit",
    edits: [
      { search: "if (held - (r?.daemon ? 1 : 0) >= this.limits.maxLegsPerToken) return \"too_many_legs\";", replace: "if (held - (r?.daemon ? 1 : 0) > this.limits.maxLegsPerToken) return \"too_many_legs\";" },
    ],
    tests: ["test/relay/state.test.ts", "test/relay/server.test.ts"],
  },
  {
    id: "relay-no-peer-gone",
    area: "relay",
    file: "lib/relay/state.ts",
    description: "the remaining leg is not told its peer left",
    edits: [
      { search: "        effects.push({ kind: \"peerGone\", leg: peer.id });\n", replace: "" },
    ],
    tests: ["test/relay/state.test.ts", "test/relay/server.test.ts"],
  },
  {
    id: "relay-revoke-no-close",
    area: "relay",
    file: "lib/relay/state.ts",
    description: "a reload that drops a token leaves its daemon legs open",
    edits: [
      { search: "      if (l.role === \"daemon\" && !l.ending && !stillValid(l.tokenKey!)) effects.push(...this.end(l, \"revoked\", now));", replace: "      if (l.role === \"daemon\" && !l.ending && !stillValid(l.tokenKey!)) void now;" },
    ],
    tests: ["test/relay/state.test.ts", "test/relay/cli.test.ts"],
  },
  {
    id: "relay-rate-extra",
    area: "relay",
    file: "lib/relay/ratelimit.ts",
    description: "the rate limiter lets one connection more through per source",
    edits: [
      { search: "if (b.tokens < 1) return false;", replace: "if (b.tokens < 0) return false;" },
    ],
    tests: ["test/relay/tokens.test.ts"],
  },
  // ---- daemon
  {
    id: "session-intent-after-start",
    area: "daemon",
    file: "lib/daemon/session.ts",
    description: "the intent row is written after the verb starts",
    issueRow: 10,
    edits: [
      { search: "    try {\n      this.host.audit(event);\n    } catch (e) {\n      return failed(e);\n    }\n    next();\n", replace: "    next();\n    try {\n      this.host.audit(event);\n    } catch (e) {\n      return failed(e);\n    }\n" },
    ],
    tests: ["test/daemon/session.test.ts"],
  },
  {
    id: "session-intent-not-awaited",
    area: "daemon",
    file: "lib/daemon/session.ts",
    description: "with group commit, the verb starts before its intent's batch is durable",
    edits: [
      { search: "      this.host.auditDurable(event).then(next, failed);\n", replace: "      this.host.auditDurable(event).catch(failed);\n      next();\n" },
    ],
    tests: ["test/daemon/session.test.ts"],
  },
  {
    id: "session-denial-unaudited",
    area: "daemon",
    file: "lib/daemon/session.ts",
    description: "a denied call is not audited",
    edits: [
      {
        search:
          "    this.recordCall(\n      { kind: \"call.denied\", shareId: this.host.shareId, agent: this.host.agent, ...about, reason: refusal(why).reason, message },\n      () => this.answerRefusal(id, why, message),\n      () => this.answerUnrecorded(id),\n    );\n",
        replace: "    this.answerRefusal(id, why, message);\n",
      },
    ],
    tests: ["test/daemon/session.test.ts"],
  },
  // ---- share
  {
    id: "share-to-handle-psk-in-clear",
    area: "share",
    file: "lib/share/issue.ts",
    description: "a --to share's handle carries the session secret in clear",
    edits: [
      { search: "secret: recipientKey ? { kind: \"sealed\", sealed: sealToRecipient(recipientKey, psk, sealContext(context), ctx.random) } : { kind: \"bearer\", psk },", replace: "secret: { kind: \"bearer\", psk }," },
    ],
    tests: ["test/share/issue.test.ts"],
  },
  {
    id: "share-to-passport-bearer",
    area: "share",
    file: "lib/share/issue.ts",
    description: "a --to share's passport names no recipient key (any holder may call)",
    edits: [
      { search: "recipient: recipientKey ? { kind: \"key\", publicKey: toBase64url(recipientKey) } : { kind: \"bearer\" },", replace: "recipient: { kind: \"bearer\" }," },
    ],
    tests: ["test/share/issue.test.ts"],
  },
  {
    id: "share-to-and-bearer",
    area: "share",
    file: "lib/share/issue.ts",
    description: "--to and --bearer together are accepted",
    edits: [
      { search: "if (Boolean(req.to) === Boolean(req.bearer))", replace: "if (!req.to && !req.bearer)" },
    ],
    tests: ["test/share/issue.test.ts"],
  },
  {
    id: "share-pins-dropped",
    area: "share",
    file: "lib/share/issue.ts",
    description: "the request's pins are dropped: each verb is shared with the whole grant",
    edits: [
      { search: "const verbs = attenuate(catalog, grant.verbs, specs);", replace: "const verbs = attenuate(catalog, grant.verbs, specs.map((s) => ({ ...s, pins: {} })));" },
    ],
    tests: ["test/share/issue.test.ts"],
  },
  {
    id: "share-live-at-expiry",
    area: "share",
    file: "lib/share/lifetime.ts",
    description: "a share is still live at the millisecond it expires",
    edits: [
      { search: "if (row.state === \"live\" && row.expiresAt <= now) return { state: \"expired\", expiresAt: row.expiresAt };", replace: "if (row.state === \"live\" && row.expiresAt < now) return { state: \"expired\", expiresAt: row.expiresAt };" },
    ],
    tests: ["test/share/lifetime.test.ts"],
  },
  {
    id: "share-restart-revives",
    area: "share",
    file: "lib/share/lifetime.ts",
    description: "a share that expired while the daemon was down comes back live",
    edits: [
      { search: "const expire = row.state === \"live\" && row.expiresAt <= now;", replace: "const expire = false && row.expiresAt <= now;" },
    ],
    tests: ["test/share/lifetime.test.ts"],
  },
  {
    id: "share-linger-forever",
    area: "share",
    file: "lib/share/lifetime.ts",
    description: "an ended share's relay leg is attached again after its linger",
    edits: [
      { search: "return { expire, attach: until === null || until > now };", replace: "return { expire, attach: true };" },
    ],
    tests: ["test/share/lifetime.test.ts"],
  },
  {
    id: "approval-passport-ignored",
    area: "share",
    file: "lib/share/approval.ts",
    description: "a verb the passport marks for approval runs without it",
    edits: [
      { search: "return catalogApproval === \"always\" || (passportApprovals ?? []).includes(verb);", replace: "return catalogApproval === \"always\";" },
    ],
    tests: ["test/share/approval.test.ts"],
  },
  {
    id: "approval-answer-twice",
    area: "share",
    file: "lib/share/approval.ts",
    description: "an approval answer can be given twice",
    edits: [
      { search: "    if (r) this.pending.delete(id);\n", replace: "" },
    ],
    tests: ["test/share/approval.test.ts"],
  },
  {
    id: "approval-params-mutable",
    area: "share",
    file: "lib/share/approval.ts",
    description: "a pending request's parameters can change after it was shown",
    edits: [
      { search: "params: Object.freeze({ ...input.params }),", replace: "params: input.params," },
    ],
    tests: ["test/share/approval.test.ts"],
  },
  // ---- exec
  {
    id: "redact-flush-unredacted",
    area: "exec",
    file: "lib/redact/stream.ts",
    description: "the unterminated last line goes out unredacted",
    edits: [
      { search: "    if (from < buf.length) this.emitRegion(buf, from, buf.length, out);\n    this.pem = { open: false, swallowed: 0 };", replace: "    if (from < buf.length) out.push(buf.subarray(from));\n    this.pem = { open: false, swallowed: 0 };" },
    ],
    tests: ["test/redact/stream.test.ts", "test/redact/rules.test.ts"],
  },
  {
    id: "redact-chunks-alone",
    area: "exec",
    file: "lib/redact/stream.ts",
    description: "each chunk is scanned alone, so a secret split across chunks leaks",
    edits: [
      { search: "    this.pending = from < buf.length ? buf.slice(from) : EMPTY;", replace: "    if (from < buf.length) this.emitRegion(buf, from, buf.length, out);\n    this.pending = EMPTY;" },
    ],
    tests: ["test/redact/stream.test.ts", "test/redact/rules.test.ts"],
  },
  {
    id: "redact-cut-inside-secret",
    area: "exec",
    file: "lib/redact/stream.ts",
    description: "an over-long line may be cut inside a secret",
    edits: [
      { search: "      for (const f of findings) if (f.start < cut && f.end > cut) cut = f.end; // never cut inside a secret\n", replace: "" },
    ],
    tests: ["test/redact/stream.test.ts", "test/redact/rules.test.ts"],
  },
  {
    id: "redact-bearer-case",
    area: "exec",
    file: "lib/redact/rules.ts",
    description: "\"Authorization: Bearer …\" is found only in lower case",
    edits: [
      { search: "/\\bbearer[ \\t]{1,8}([A-Za-z0-9._~+\\/-]{8,}=*)/i,", replace: "/\\bbearer[ \\t]{1,8}([A-Za-z0-9._~+\\/-]{8,}=*)/," },
    ],
    tests: ["test/redact/stream.test.ts", "test/redact/rules.test.ts"],
  },
  // ---- issue 14 (hardening): each defence's own mutant
  {
    id: "policy-grant-id-unchecked",
    area: "capability",
    file: "lib/capability/policy.ts",
    description: "a passport from a replaced grant (revoke --all, then add) is honoured",
    edits: [{ search: "  if (currentGrant !== undefined && currentGrantId !== passport.grantId)\n", replace: "  if (false)\n" }],
    tests: ["test/capability/policy.test.ts"],
  },
  {
    id: "extend-resigns-unverified",
    area: "share",
    file: "lib/share/lifetime.ts",
    description: "share extend re-signs a stored passport whose signature it never checked",
    edits: [{ search: "    stored = verifyPassport(row.passport, keys.signPublicKey, keys.check);", replace: "    stored = verifyPassport(row.passport, keys.signPublicKey, () => true);" }],
    tests: ["test/share/lifetime.test.ts"],
  },
  {
    id: "session-reassembly-uncapped",
    area: "daemon",
    file: "lib/daemon/session.ts",
    description: "the daemon reassembles a recipient message up to the channel's 64 MiB default",
    edits: [{ search: "maxMessageBytes: MAX_CONTROL_MESSAGE_BYTES };", replace: "maxMessageBytes: 64 << 20 };" }],
    tests: ["test/daemon/session.test.ts"],
  },
  {
    id: "session-grant-change-ignored",
    area: "daemon",
    file: "lib/daemon/session.ts",
    description: "a grant change leaves the running calls it no longer admits running",
    edits: [{ search: "      if (again.allow) continue;\n", replace: "      if (again.allow || !again.allow) continue;\n" }],
    tests: ["test/daemon/session.test.ts"],
  },
  {
    id: "audit-lock-blocks",
    area: "audit",
    file: "lib/store/store.ts",
    description: "the daemon's audit commits busy-wait on another process's lock",
    edits: [{ search: 'this.db.run("PRAGMA busy_timeout = 0");', replace: "this.db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);" }],
    tests: ["test/store/audit-lock.test.ts"],
  },
  {
    id: "ssh-watchdog-never-kills",
    area: "exec",
    file: "lib/exec/argv.ts",
    description: "the remote watchdog never ends the command when the connection ends",
    edits: [{ search: 'kill -TERM -"$c" "$c"; sleep 1; kill -KILL -"$c" "$c"', replace: ":" }],
    tests: ["test/exec/ssh.test.ts"],
  },
];
