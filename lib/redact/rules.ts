// The built-in redaction rules (SPEC.md §17.3): one row per secret shape, each with the literal
// keywords that must appear in a line before its (costlier) pattern runs. Each pattern is
// written to run in linear time: no nested quantifiers, bounded gaps, a literal anchor first.
// A rule finds spans in one line (a string whose char codes are the line's bytes) and says which
// part is the secret: keys and header names stay readable, only the value becomes a marker.

/** A span of a line to replace with `[REDACTED:<rule>]`; offsets are byte offsets into the text. */
export interface Finding {
  start: number;
  end: number;
  rule: string;
  /** The tail of a span already marked in an earlier piece: removed with no new marker or count. */
  silent?: boolean;
}

export interface Rule {
  /** The id in the marker and in the audit counts: lowercase, `^[a-z0-9][a-z0-9-]{0,63}$`. */
  readonly id: string;
  /** Lowercase literals; the rule runs only on a line that holds one of them (the prefilter). */
  readonly keywords: readonly string[];
  /** Appends the rule's spans in `line` (offset `base` added) to `out`. */
  find(line: string, base: number, out: Finding[]): void;
}

export const RULE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Values a log prints in place of a secret, which are not secrets themselves. */
const PLACEHOLDER_VALUE =
  /^(?:\**|x+|X+|\.{3}|-+|true|false|null|nil|none|undefined|empty|redacted|hidden|masked|changeme|<[^<>]*>|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|%[sv]|\{\{[^}]*\}\}|\[REDACTED[^\]]*\]?)$/i;

export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER_VALUE.test(value);
}

/**
 * A rule from one regex (flag g is added). The secret is capture group 1 when the pattern has
 * one (so `Authorization: Bearer` stays and only the token goes), else the whole match.
 */
export function regexRule(id: string, keywords: string[], pattern: RegExp, check?: (secret: string) => boolean): Rule {
  const flags = pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`;
  const re = new RegExp(pattern.source, flags.includes("d") ? flags : `${flags}d`);
  return {
    id,
    keywords,
    find(line, base, out) {
      re.lastIndex = 0;
      for (let m = re.exec(line); m !== null; m = re.exec(line)) {
        const span = m.indices?.[1] ?? m.indices![0]!;
        const secret = m[1] ?? m[0];
        if (span[1] > span[0] && !isPlaceholder(secret) && (!check || check(secret))) out.push({ start: base + span[0], end: base + span[1], rule: id });
        if (m[0].length === 0) re.lastIndex++;
      }
    },
  };
}

// ---- key = value assignments (env files, logs, JSON, YAML, TOML, query strings) ----

const KEY_CHAR = /[A-Za-z0-9_.-]/;
/** After the key: an optional closing quote, a bounded gap, ":" or "=", a bounded gap. */
const SEPARATOR = /["']?[ \t]{0,8}(?::|=|:=)[ \t]{0,8}/y;
/** The value: quoted (may hold spaces) or bare (up to whitespace or a structural character). */
const VALUE = /"((?:[^"\\\n]|\\.)+)"?|'([^'\n]+)'?|([^\s"'`,;&<>(){}[\]]+)/y;

/**
 * `name` = value where the key ends in one of `words` (optionally followed by one of `suffixes`),
 * e.g. DB_PASSWORD=…, "client_secret": "…", api-key: …, ?access_token=….
 */
export function assignmentRule(id: string, words: string[], suffixes: string[] = [""], valueCheck?: (v: string) => boolean): Rule {
  const alternatives = words.map((w) => w.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&")).join("|");
  const finder = new RegExp(`(?:${alternatives})`, "gi");
  const suffixSet = new Set(suffixes.map((s) => s.toLowerCase()));
  return {
    id,
    keywords: words.map((w) => w.toLowerCase()),
    find(line, base, out) {
      finder.lastIndex = 0;
      for (let m = finder.exec(line); m !== null; m = finder.exec(line)) {
        // the key: the keyword plus whatever key characters surround it
        let keyEnd = m.index + m[0].length;
        while (keyEnd < line.length && KEY_CHAR.test(line[keyEnd]!) && keyEnd - m.index < 96) keyEnd++;
        const suffix = line.slice(m.index + m[0].length, keyEnd).toLowerCase();
        if (!suffixSet.has(suffix)) continue;
        let keyStart = m.index;
        while (keyStart > 0 && KEY_CHAR.test(line[keyStart - 1]!) && m.index - keyStart < 96) keyStart--;
        if (line.startsWith("://", keyStart - 3)) continue; // user:password@ in a URL: url-password's
        if (line[keyStart - 1] === "$" || line.startsWith("${", keyStart - 2)) continue; // ${VAR:-default} reads a variable
        SEPARATOR.lastIndex = keyEnd;
        if (!SEPARATOR.exec(line)) continue;
        const valueAt = SEPARATOR.lastIndex;
        // "key: {" or "key: [" opens a structure, not a value; "key==" compares
        if (line[valueAt] === "=" || line[valueAt] === ">") continue;
        // a reference to a secret, not one: ${VAR}, $(cmd), {{ template }}
        if (/^["']?(?:\$[{(]|\{\{)/.test(line.slice(valueAt, valueAt + 3))) continue;
        VALUE.lastIndex = valueAt;
        const v = VALUE.exec(line);
        if (!v) continue;
        const value = v[1] ?? v[2] ?? v[3]!;
        const start = v[3] !== undefined ? valueAt : valueAt + 1;
        if (isPlaceholder(value) || (valueCheck && !valueCheck(value))) continue;
        out.push({ start: base + start, end: base + start + value.length, rule: id });
        finder.lastIndex = VALUE.lastIndex;
      }
    },
  };
}

/** Not a secret: a number, a boolean-ish word, or a single ordinary word in a sentence. */
function looksLikeSecretToken(value: string): boolean {
  if (/^\d{1,9}$/.test(value)) return false; // token_count: 42, tokens=5
  if (/^(?:valid|invalid|expired|missing|required|refreshed|revoked|ok|yes|no|on|off|bearer|basic)$/i.test(value)) return false;
  return value.length >= 3;
}

// ---- the table ----

const B64URL = "A-Za-z0-9_-";

/** Built-in rules, most specific first: on an exact tie of spans the earlier rule names it. */
export const BUILTIN_RULES: readonly Rule[] = [
  regexRule("aws-access-key-id", ["akia", "asia", "abia", "acca", "a3t"], /(?<![A-Za-z0-9])((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})(?![A-Za-z0-9])/),
  assignmentRule("aws-secret-access-key", ["secret_access_key", "secretaccesskey", "secret-access-key", "aws_secret_key"], [""], (v) => /^[A-Za-z0-9/+]{40}$/.test(v)),
  regexRule("github-token", ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], /(?<![A-Za-z0-9_])(gh[pousr]_[A-Za-z0-9]{36,})(?![A-Za-z0-9_])/),
  regexRule("github-fine-grained-pat", ["github_pat_"], /(?<![A-Za-z0-9_])(github_pat_[A-Za-z0-9_]{60,})(?![A-Za-z0-9_])/),
  regexRule(
    "gitlab-token",
    ["glpat-", "glptt-", "gldt-", "glrt-", "glcbt-", "glft-", "glimt-", "glagent-", "gloas-", "glsoat-"],
    /(?<![A-Za-z0-9_-])((?:glpat|glptt|gldt|glrt|glcbt|glft|glimt|glagent|gloas|glsoat)-[A-Za-z0-9_.-]{20,})(?![A-Za-z0-9_-])/,
  ),
  regexRule("slack-webhook", ["hooks.slack.com"], /(https?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_\/+-]{16,})/),
  regexRule("slack-token", ["xox", "xapp-"], /(?<![A-Za-z0-9_-])((?:xox[abeoprs]-[A-Za-z0-9-]{10,})|(?:xapp-\d-[A-Z0-9]{4,}-\d{4,}-[a-f0-9]{16,}))(?![A-Za-z0-9_-])/),
  regexRule("stripe-live-key", ["sk_live_", "rk_live_"], /(?<![A-Za-z0-9_])((?:sk|rk)_live_[A-Za-z0-9]{16,})(?![A-Za-z0-9_])/),
  regexRule("google-api-key", ["aiza"], /(?<![A-Za-z0-9_-])(AIza[A-Za-z0-9_-]{35})(?![A-Za-z0-9_-])/),
  regexRule("anthropic-api-key", ["sk-ant-"], /(?<![A-Za-z0-9_-])(sk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_-]{32,})(?![A-Za-z0-9_-])/),
  regexRule(
    "openai-api-key",
    ["sk-"],
    /(?<![A-Za-z0-9_-])(sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{32,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|[A-Za-z0-9]{48}))(?![A-Za-z0-9_-])/,
  ),
  regexRule("npm-token", ["npm_"], /(?<![A-Za-z0-9_])(npm_[A-Za-z0-9]{36})(?![A-Za-z0-9_])/),
  regexRule("jwt", ["eyj"], new RegExp(`(?<![${B64URL}])(eyJ[${B64URL}]{8,}\\.eyJ[${B64URL}]{8,}\\.[${B64URL}]*)(?![${B64URL}])`)),
  regexRule("authorization-bearer", ["bearer"], /\bbearer[ \t]{1,8}([A-Za-z0-9._~+\/-]{8,}=*)/i, (t) => /[0-9]/.test(t) || t.length >= 20),
  regexRule("authorization-basic", ["basic"], /\bauthorization["']?[ \t]{0,8}[:=][ \t]{0,8}["']?basic[ \t]{1,8}([A-Za-z0-9+\/]{4,}={0,2})/i),
  regexRule("url-password", ["://"], /\b[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s:\/?#@"'<>]{0,256}:([^\s\/?#@"'<>]{1,})@[A-Za-z0-9[]/),
  assignmentRule("password-assignment", ["password", "passwd", "passphrase"], ["", "_value"]),
  assignmentRule("secret-assignment", ["secret"], ["", "_key", "-key", "key", "_key_base", "_value", "_access_key"]),
  assignmentRule("token-assignment", ["token"], ["", "_value", "_secret"], looksLikeSecretToken),
  assignmentRule("api-key-assignment", ["api_key", "api-key", "apikey", "access_key", "private_key", "auth_key"], ["", "_value", "_secret"]),
];
