// The one error type every layer throws, and the exit codes of SPEC.md §1.
// A parser prefixes its layer ("handle: …", "passport: …"); the CLI prints the message as
// `<program>: error: <message>` followed by one `hint:` line per hint.

export const ExitCode = {
  ok: 0,
  verbFailed: 1,
  usage: 2,
  denied: 3,
  connection: 4,
  shareOver: 5,
  /** A fault of OpenScope itself, not of the input or the network (EX_SOFTWARE of sysexits.h). */
  internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorKind = Exclude<keyof typeof ExitCode, "ok">;

export class OpenScopeError extends Error {
  override readonly name = "OpenScopeError";
  readonly kind: ErrorKind;
  readonly hints: readonly string[];

  constructor(kind: ErrorKind, message: string, options: { hints?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.hints = options.hints ?? [];
  }

  get exitCode(): ExitCode {
    return ExitCode[this.kind];
  }
}

/** Shorthands so call sites read as the outcome they report. */
export const usageError = (message: string, hints?: string[]) => new OpenScopeError("usage", message, { hints });
export const deniedError = (message: string, hints?: string[]) => new OpenScopeError("denied", message, { hints });
export const connectionError = (message: string, hints?: string[]) =>
  new OpenScopeError("connection", message, { hints });
export const shareOverError = (message: string, hints?: string[]) => new OpenScopeError("shareOver", message, { hints });

/** Edit distance (insert, delete, substitute, swap of neighbours) between two short words. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[a.length]![b.length]!;
}

/**
 * The candidate a mistyped word most likely meant, for a "did you mean …?" hint: the closest one
 * within an edit distance of 2 (1 for words of 4 characters or fewer), or a unique candidate the
 * word is a prefix of. Undefined when nothing is close.
 */
export function closestWord(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const prefixed: string[] = [];
  for (const c of candidates) {
    if (word.length >= 2 && c.startsWith(word)) prefixed.push(c);
    const dist = editDistance(word, c);
    if (dist < bestDistance) [best, bestDistance] = [c, dist];
  }
  const limit = word.length <= 4 ? 1 : 2;
  if (best !== undefined && bestDistance <= limit) return best;
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
