// The one output helper of all three programs. Rules, as in age's tui.go:
// - human lines go through consola (consola/core: the full entry costs ~45 ms of start-up);
//   info/success to stdout, warn/error to stderr; no colors under NO_COLOR or when not a TTY;
// - errors read `<program>: error: <message>` (lowercase, no period), then `hint: …` lines;
// - `--json` output is printed with `printJson` to stdout only, nothing else goes to stdout then;
// - stack traces only with `--verbose`; exit codes are the ones of lib/errors.ts.
import { createConsola, type ConsolaInstance, type LogObject } from "consola/core";
import { ExitCode, OpenScopeError } from "../lib/errors.ts";

let programName = "openscope";
let verbose = false;
let quietHumans = false;

function colorsFor(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}

const ANSI = { red: 31, yellow: 33, green: 32, cyan: 36, gray: 90, bold: 1, dim: 2 } as const;
export type Color = keyof typeof ANSI;

/** Wraps text in an ANSI color when the stream shows colors. */
export function paint(text: string, color: Color, stream: NodeJS.WriteStream = process.stdout): string {
  return colorsFor(stream) ? `\x1b[${ANSI[color]}m${text}\x1b[0m` : text;
}

function formatArgs(args: unknown[]): string {
  return args.map((a) => (typeof a === "string" ? a : Bun.inspect(a))).join(" ");
}

const reporter = {
  log(obj: LogObject) {
    if (quietHumans) return;
    const toErr = obj.level <= 1; // error (0) and warn (1)
    const stream = toErr ? process.stderr : process.stdout;
    const text = formatArgs(obj.args);
    let line: string;
    switch (obj.type) {
      case "success":
        line = `${paint("✔", "green", stream)} ${text}`;
        break;
      case "warn":
        line = `${programName}: ${paint("warning", "yellow", stream)}: ${text}`;
        break;
      case "error":
      case "fatal":
        line = `${programName}: ${paint("error", "red", stream)}: ${text}`;
        break;
      case "start":
        line = `${paint("•", "cyan", stream)} ${text}`;
        break;
      default:
        line = text;
    }
    stream.write(line + "\n");
  },
};

export const log: ConsolaInstance = createConsola({ reporters: [reporter], level: 3 });

/** Called once by each entry file before anything prints. */
export function configureOutput(opts: { program: string; argv: string[] }): void {
  programName = opts.program;
  verbose = opts.argv.includes("--verbose");
}

/** Silences human lines (used while `--json` owns stdout). */
export function setHumanOutput(enabled: boolean): void {
  quietHumans = !enabled;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

export function printJsonLine(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + "\n");
}

/** A plain text table for listings; columns sized to their widest cell as the eye sees it. */
export function printTable(headers: string[], rows: string[][]): void {
  if (rows.length === 0) return;
  const [head, ...body] = formatTable(headers, rows);
  process.stdout.write(paint(head!, "bold") + "\n");
  for (const line of body) process.stdout.write(line + "\n");
}

/** The table's lines: widths and padding count visible characters, so coloured cells align. */
export function formatTable(headers: string[], rows: string[][]): string[] {
  const width = (cell: string) => stripAnsi(cell).length;
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const fmt = (cells: string[]) => cells.map((c, i) => c + " ".repeat(Math.max(0, widths[i]! - width(c)))).join("  ").trimEnd();
  return [fmt(headers), ...rows.map(fmt)];
}

/**
 * A progress line for anything that waits. On a TTY it spins on stderr; otherwise it prints the
 * text once, so logs and pipes still say what the program is waiting for.
 */
export function spinner(text: string): { update(text: string): void; stop(final?: string): void } {
  const stream = process.stderr;
  if (!stream.isTTY) {
    stream.write(`${text}\n`);
    return { update: () => {}, stop: (final) => final && stream.write(`${final}\n`) };
  }
  const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  let i = 0;
  let current = text;
  const draw = () => stream.write(`\r\x1b[2K${paint(frames[i++ % frames.length]!, "cyan", stream)} ${current}`);
  draw();
  const timer = setInterval(draw, 100);
  return {
    update(t) {
      current = t;
    },
    stop(final) {
      clearInterval(timer);
      stream.write("\r\x1b[2K");
      if (final) stream.write(`${final}\n`);
    },
  };
}

/** Prints an error as the output rules say and returns the exit code to use. */
export function reportError(err: unknown): number {
  const stream = process.stderr;
  const head = `${programName}: ${paint("error", "red", stream)}: `;
  if (err instanceof OpenScopeError) {
    // A message may carry a daemon's or a recipient's words (a denial, a verb name): escaped.
    stream.write(head + terminalSafe(err.message) + "\n");
    for (const h of err.hints) stream.write(`hint: ${terminalSafe(h)}\n`);
    if (verbose && err.stack) stream.write(err.stack + "\n");
    return err.exitCode;
  }
  const e = err as { name?: string; code?: string; message?: string; stack?: string };
  if (e?.name === "CLIError") {
    // citty's own argument errors: a usage problem.
    stream.write(head + lowerFirst(stripAnsi(e.message ?? "bad arguments")) + "\n");
    stream.write(`hint: run "${programName} --help" for usage\n`);
    return ExitCode.usage;
  }
  stream.write(head + `internal error: ${e?.message ?? String(err)}\n`);
  stream.write(verbose && e?.stack ? e.stack + "\n" : "hint: run again with --verbose for details\n");
  return ExitCode.internal;
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1).replace(/\.$/, "") : s;
}

export function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}

/**
 * For commands that follow a stream until interrupted (`audit --follow`, `share watch`): exit
 * quietly once the reader of a piped stdout has gone (`… --follow | head -1`), even while there is
 * nothing new to write. A write would fail with EPIPE, but a quiet stream never writes; poll(2)
 * reports POLLERR on a pipe's write end once the read end is closed. Returns a stop function.
 */
export async function exitWhenStdoutCloses(intervalMs = 250): Promise<() => void> {
  try {
    const { fstatSync } = await import("node:fs");
    if (!fstatSync(1).isFIFO() && !fstatSync(1).isSocket()) return () => {};
    const { dlopen, FFIType, ptr } = await import("bun:ffi");
    const libc = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", {
      poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    });
    const pollfd = new Uint8Array(8); // struct pollfd { int fd; short events; short revents; }
    const view = new DataView(pollfd.buffer);
    view.setInt32(0, 1, true);
    const POLLERR = 0x8;
    const POLLHUP = 0x10;
    const timer = setInterval(() => {
      view.setInt16(6, 0, true);
      if (libc.symbols.poll(ptr(pollfd), 1, 0) > 0 && (view.getInt16(6, true) & (POLLERR | POLLHUP)) !== 0) process.exit(0);
    }, intervalMs);
    timer.unref?.();
    return () => clearInterval(timer);
  } catch {
    return () => {}; // no poll(2) here: a write's EPIPE still ends the program (cmd/run.ts)
  }
}

// Characters that move the cursor, start an escape sequence, reorder text or end a line. A
// recipient chooses verb names and values; a daemon chooses its name and error messages; a verb
// chooses its output: none of it may repaint an operator's or a recipient's terminal.
const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const TERMINAL_UNSAFE_KEEP_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  switch (c) {
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    case "\x1b":
      return "\\e";
    default:
      return `\\u{${c.codePointAt(0)!.toString(16)}}`;
  }
}

/**
 * The one escaping function for outsider- or daemon-supplied text on a terminal (THREAT-MODEL
 * "What must never happen"): control characters, ESC, C1 codes, line separators and bidi
 * overrides become visible escapes (`\e`, `\n`, `\u{202e}`), so such text can neither forge a
 * row nor recolour, retitle or hide anything. `keepLines` keeps newline and tab (verb output).
 * `--json` output never goes through it: scripts get the exact values.
 */
export function terminalSafe(text: string, opts: { keepLines?: boolean } = {}): string {
  return text.replace(opts.keepLines ? TERMINAL_UNSAFE_KEEP_LINES : TERMINAL_UNSAFE, escapeChar);
}
