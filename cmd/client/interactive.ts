// The recipient's interactive prompt: list verbs, call with k=v (tab completion of verb names and
// enum values), output streamed, Ctrl-C cancels the running call on the daemon, a countdown in
// the prompt, plain messages on deny, expiry and revoke. On piped stdin it reads one command a
// line, which makes it scriptable too. The daemon's words (verb names, summaries, values) and the
// verb's output reach the terminal through terminalSafe (verb-output.ts; --raw passes output as is).
import type { Interface } from "node:readline";
import type { ClientSession, SessionEvents } from "../../lib/client/session.ts";
import { formatDuration } from "../../lib/units.ts";
import { ExitCode, OpenScopeError } from "../../lib/errors.ts";
import type { VerbInfo } from "../../lib/wire/rpc.ts";
import { describeOutcome } from "../../lib/wire/outcome.ts";
import { describeRedactions } from "../../lib/redact/stream.ts";
import { paint, reportError, terminalSafe } from "../output.ts";
import { approvalWaitLine, connectToShare, describeParamPlain, hasFlag, parseCallArgs, printPassportCard, timeLeft } from "./_shared.ts";
import { verbOutputWriter } from "./verb-output.ts";
import { shareEndedError } from "../../lib/client/link.ts";

const HELP = `commands:
  list                    the verbs you may call
  <verb> k=v …            call a verb (also: call <verb> k=v …)
  help                    this text
  quit                    disconnect (Ctrl-D, or Ctrl-C on an empty line)
Ctrl-C cancels a running call, or drops the line being typed.`;

/** The prompt's state while the session runs: what the countdown, Ctrl-C and the events read. */
class Prompt {
  readonly tty = Boolean(process.stdin.isTTY);
  readonly warned = new Set<number>();
  rl: Interface | undefined;
  rlClosed = false;
  running: { id: number } | undefined;
  ended: { state: string; message: string } | undefined;
  /** The session's hello is replaced on each reconnect and updated on each extension. */
  left: () => number = () => 0;

  /** Shows the prompt (with the time left) when a person is at it. */
  show(keepLine = false): void {
    if (!this.tty || !this.rl || this.rlClosed) return;
    this.rl.setPrompt(`[${formatDuration(this.left())} left] openscope> `);
    this.rl.prompt(keepLine);
  }

  /** Redraws the prompt line (keeping what was typed) when the person is at it, not mid-call. */
  redraw(): void {
    if (this.running || this.ended) return;
    this.show(true);
  }
}

/** What the prompt prints when the session ends, reconnects or has its expiry changed. */
function sessionEvents(p: Prompt): SessionEvents {
  return {
    onEnded: (state, message) => {
      // Said once, here: a call that was running ends with the same news and stays quiet (runOne).
      if (p.ended) return;
      p.ended = { state, message };
      process.stderr.write(`\n${paint(`share ${terminalSafe(message)}`, "yellow", process.stderr)}; disconnected\n`);
      for (const h of shareEndedError(state, message).hints) process.stderr.write(`hint: ${h}\n`);
      p.rl?.close();
    },
    onReconnecting: (n) => process.stderr.write(`${p.tty ? "\n" : ""}connection lost; reconnecting (attempt ${n})…\n`),
    onReconnected: () => {
      process.stderr.write("reconnected\n");
      p.redraw();
    },
    onExpiry: () => {
      p.warned.clear();
      process.stderr.write(`\nthe operator changed the share's expiry: ${formatDuration(p.left())} left\n`);
      p.redraw();
    },
  };
}

/** Tab completion: verb names (and the prompt's own commands), then k=v words for the verb's params. */
export function verbCompleter(verbs: VerbInfo[]): (line: string) => [string[], string] {
  // readline prints candidates raw: a daemon's word that would need escaping is never offered.
  const printable = (w: string) => terminalSafe(w) === w && !/\s/.test(w);
  const verbNames = verbs.map((v) => v.name).filter(printable);
  return (line) => {
    const words = line.split(/\s+/);
    const verbWordIndex = words[0] === "call" ? 1 : 0;
    if (words.length - 1 === verbWordIndex) {
      const w = words[verbWordIndex] ?? "";
      const options = [...verbNames, ...(verbWordIndex === 0 ? ["list", "help", "quit"] : [])];
      return [finishUnique(options.filter((n) => n.startsWith(w))), w];
    }
    const verb = verbs.find((v) => v.name === words[verbWordIndex]);
    const last = words[words.length - 1] ?? "";
    if (!verb) return [[], last];
    const candidates: string[] = [];
    for (const [name, param] of Object.entries(verb.params)) {
      if (param.constraint.kind === "enum") for (const value of param.constraint.values) candidates.push(`${name}=${value}`);
      else candidates.push(`${name}=`);
    }
    return [finishUnique(candidates.filter((c) => printable(c) && c.startsWith(last))), last];
  };
}

/** The countdown: the prompt ticks each second, and a warning line at 5 minutes and 1 minute left. */
function startCountdown(p: Prompt): ReturnType<typeof setInterval> {
  return setInterval(() => {
    if (dueWarning(p.left(), p.warned)) {
      process.stderr.write(`\n${paint(`${formatDuration(p.left())} left in this share`, "yellow", process.stderr)}\n`);
    }
    p.redraw();
  }, 1000);
}

/** Ctrl-C cancels a running call; else, as in a shell, it drops the line being typed; on an empty line it disconnects. */
function handleInterrupt(p: Prompt, session: ClientSession, rl: Interface): void {
  rl.on("SIGINT", () => {
    if (p.running) {
      session.cancel(p.running.id);
      process.stderr.write("\ncancelling…\n");
    } else if (rl.line) {
      process.stderr.write("^C\n");
      rl.write(null, { ctrl: true, name: "e" });
      rl.write(null, { ctrl: true, name: "u" });
    } else {
      rl.close();
    }
  });
}

/** Reads commands until quit, end of input or the share's end; returns the last call's exit code. */
async function readCommands(p: Prompt, rl: Interface, session: ClientSession, verbs: VerbInfo[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  p.show();
  for await (const raw of rl) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) {
      p.show();
      continue;
    }
    const words = line.split(/\s+/);
    if (words[0] === "quit" || words[0] === "exit") break;
    if (words[0] === "help") process.stderr.write(HELP + "\n");
    else if (words[0] === "list" || words[0] === "verbs") printVerbs(verbs);
    else {
      const [verb, ...rest] = words[0] === "call" ? words.slice(1) : words;
      exitCode = await runOne(p, session, verb ?? "", rest, verbs);
      p.running = undefined;
      if (p.ended) break;
    }
    p.show();
  }
  return exitCode;
}

/** The prompt over the share named on the command line (a handle flag, or `saved`, a saved share's name). */
export async function runInteractive(saved?: string): Promise<number> {
  const p = new Prompt();
  const { session, hello } = await connectToShare({ interactiveConfirm: true, saved, stdin: "prompt", events: sessionEvents(p) });
  p.left = () => timeLeft(session.hello ?? hello);
  printPassportCard(hello);
  const verbs = await session.list();
  printVerbs(verbs);

  // loaded here, not at the top: a static builtin import costs every start of the binary
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: process.stdin, output: process.stderr, completer: verbCompleter(verbs), terminal: p.tty });
  p.rl = rl;
  rl.on("close", () => (p.rlClosed = true)); // a redraw after close would throw
  const countdown = startCountdown(p);
  handleInterrupt(p, session, rl);
  const exitCode = await readCommands(p, rl, session, verbs);
  clearInterval(countdown);
  session.close();
  if (p.ended) return ExitCode.shareOver;
  return p.tty ? ExitCode.ok : exitCode;
}

async function runOne(p: Prompt, session: ClientSession, verb: string, words: string[], verbs: VerbInfo[]): Promise<number> {
  try {
    const params = parseCallArgs(words);
    if (!verbs.some((v) => v.name === verb)) {
      // The daemon decides and records it; this is only a heads-up.
      process.stderr.write(`note: ${terminalSafe(verb)} is not in this passport; sending it anyway (the daemon will refuse and record it)\n`);
    }
    const call = session.call(
      verb,
      params,
      verbOutputWriter(hasFlag("raw")),
      { onPending: (pending) => process.stderr.write(`${approvalWaitLine(pending).replace(/^openscope-reflect-client: /, "")} (Ctrl-C withdraws it)\n`) },
    );
    p.running = call;
    const r = await call.done;
    const outcome = describeOutcome(r);
    const note = describeRedactions(r.redactions); // rule ids are schema-checked [a-z0-9-]: safe to print
    if (note) process.stderr.write(paint(`${note}\n`, "dim", process.stderr));
    if (outcome.ok) {
      process.stderr.write(paint(`✔ ${terminalSafe(verb)} done (${r.bytesOut} bytes, ${r.durationMs} ms)\n`, "green", process.stderr));
      return ExitCode.ok;
    }
    process.stderr.write(paint(`✘ ${terminalSafe(verb)}: ${outcome.phrase}${r.truncated ? " (output truncated)" : ""}\n`, "red", process.stderr));
    return ExitCode.verbFailed;
  } catch (e) {
    if (e instanceof OpenScopeError) {
      if (e.kind === "shareOver" && p.ended) return e.exitCode; // the session event said it already
      process.stderr.write(`${e.kind === "denied" ? paint("✘ ", "red", process.stderr) : ""}${terminalSafe(e.message)}\n`);
      for (const h of e.hints) process.stderr.write(`hint: ${terminalSafe(h)}\n`);
      return e.exitCode;
    }
    return reportError(e);
  }
}

export const WARN_AT_MS = [5 * 60_000, 60_000] as const;

/**
 * Whether a "time left" warning is due: once per threshold that `leftMs` has reached, and only
 * the nearest one (a share opened with 3 minutes warns at 1 minute, not at once for 5).
 * Marks what it passed in `warned`; clear it when the expiry changes.
 */
export function dueWarning(leftMs: number, warned: Set<number>): boolean {
  if (leftMs <= 0) return false;
  let due = false;
  for (const at of WARN_AT_MS) {
    if (leftMs > at || warned.has(at)) continue;
    warned.add(at);
    // Fresh if we crossed it within the last tick or so; a threshold long passed is only marked.
    if (at - leftMs < 2_000) due = true;
  }
  return due;
}

/** One complete word (a verb, or k=value): add the space, as a shell does, so typing goes on. */
function finishUnique(hits: string[]): string[] {
  return hits.length === 1 && !hits[0]!.endsWith("=") ? [`${hits[0]} `] : hits;
}

function printVerbs(verbs: VerbInfo[]): void {
  process.stderr.write("verbs you may call:\n");
  for (const v of verbs) {
    // The daemon chose every word here: escaped.
    const words = Object.entries(v.params).map(([k, p]) => describeParamPlain(k, p.constraint) + (p.default !== undefined ? ` (default ${p.default})` : ""));
    process.stderr.write(`  ${paint(terminalSafe(v.name), "cyan", process.stderr)}${terminalSafe(`${words.length ? ` ${words.join(", ")}` : ""}${v.summary ? `  — ${v.summary}` : ""}`)}\n`);
  }
  process.stderr.write("type help for commands\n");
}
