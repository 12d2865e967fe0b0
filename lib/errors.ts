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
