// The recipient's interactive prompt: list verbs, call with k=v (tab completion of verb names and
// enum values), output streamed, Ctrl-C cancels the running call on the daemon, a countdown in
// the prompt, plain messages on deny, expiry and revoke. On piped stdin it reads one command a
// line, which makes it scriptable too.
import { createInterface, type Interface } from "node:readline";
import type { ClientSession } from "../../lib/client/session.ts";
import { formatDuration } from "../../lib/units.ts";
import { ExitCode, OpenScopeError } from "../../lib/errors.ts";
import type { VerbInfo } from "../../lib/wire/rpc.ts";
import { describeOutcome } from "../../lib/wire/outcome.ts";
import { paint, reportError } from "../output.ts";
import { connectToShare, describeParamPlain, parseCallArgs, printPassportCard, timeLeft } from "./_shared.ts";

const HELP = `commands:
  list                    the verbs you may call
  <verb> k=v …            call a verb (also: call <verb> k=v …)
  help                    this text
  quit                    disconnect (Ctrl-D, or Ctrl-C on an empty line)
Ctrl-C cancels a running call, or drops the line being typed.`;

export async function runInteractive(): Promise<number> {
  let ended: { state: string; message: string } | undefined;
  let rl: Interface | undefined;
  let running: { id: number } | undefined;
  let rlClosed = false;
  const warned = new Set<number>();
  const tty = Boolean(process.stdin.isTTY);
  // The session's hello is replaced on each reconnect and updated on each extension.
  const left = () => timeLeft(session.hello ?? hello);
  /** Redraws the prompt line (keeping what was typed) when the person is at it. */
  const redraw = () => {
    if (!tty || !rl || rlClosed || running || ended) return;
    rl.setPrompt(`[${formatDuration(left())} left] openscope> `);
    rl.prompt(true);
  };
  const { session, hello } = await connectToShare({
    interactiveConfirm: true,
    events: {
      onEnded: (state, message) => {
        ended = { state, message };
        process.stderr.write(`\n${paint(`share ${message}`, "yellow", process.stderr)}; disconnected\n`);
        rl?.close();
      },
      onReconnecting: (n) => process.stderr.write(`${tty ? "\n" : ""}connection lost; reconnecting (attempt ${n})…\n`),
      onReconnected: () => {
        process.stderr.write("reconnected\n");
        redraw();
      },
      onExpiry: () => {
        warned.clear();
        process.stderr.write(`\nthe operator changed the share's expiry: ${formatDuration(left())} left\n`);
        redraw();
      },
    },
  });
  printPassportCard(hello);
  const verbs = await session.list();
  printVerbs(verbs);
  const verbNames = verbs.map((v) => v.name);

  const completer = (line: string): [string[], string] => {
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
    for (const [name, p] of Object.entries(verb.params)) {
      if (p.constraint.kind === "enum") for (const value of p.constraint.values) candidates.push(`${name}=${value}`);
      else candidates.push(`${name}=`);
    }
    return [finishUnique(candidates.filter((c) => c.startsWith(last))), last];
  };

  rl = createInterface({ input: process.stdin, output: process.stderr, completer, terminal: tty });
  rl.on("close", () => (rlClosed = true)); // a redraw after close would throw
  const prompt = () => {
    if (!tty) return;
    rl!.setPrompt(`[${formatDuration(left())} left] openscope> `);
    rl!.prompt();
  };
  // The countdown: the prompt ticks each second, and a warning line at 5 minutes and 1 minute left.
  const countdown = setInterval(() => {
    if (dueWarning(left(), warned)) {
      process.stderr.write(`\n${paint(`${formatDuration(left())} left in this share`, "yellow", process.stderr)}\n`);
    }
    redraw();
  }, 1000);
  rl.on("SIGINT", () => {
    if (running) {
      session.cancel(running.id);
      process.stderr.write("\ncancelling…\n");
    } else if (rl!.line) {
      // As in a shell: Ctrl-C drops the line being typed; on an empty line it disconnects.
      process.stderr.write("^C\n");
      rl!.write(null, { ctrl: true, name: "e" });
      rl!.write(null, { ctrl: true, name: "u" });
    } else {
      rl!.close();
    }
  });
  prompt();
  let exitCode: number = ExitCode.ok;
  for await (const raw of rl) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) {
      prompt();
      continue;
    }
    const words = line.split(/\s+/);
    if (words[0] === "quit" || words[0] === "exit") break;
    if (words[0] === "help") process.stderr.write(HELP + "\n");
    else if (words[0] === "list" || words[0] === "verbs") printVerbs(verbs);
    else {
      const [verb, ...rest] = words[0] === "call" ? words.slice(1) : words;
      exitCode = await runOne(session, verb ?? "", rest, verbs, (r) => (running = r));
      running = undefined;
      if (ended) break;
    }
    prompt();
  }
  clearInterval(countdown);
  session.close();
  if (ended) return ExitCode.shareOver;
  return tty ? ExitCode.ok : exitCode;
}

async function runOne(session: ClientSession, verb: string, words: string[], verbs: VerbInfo[], setRunning: (r: { id: number }) => void): Promise<number> {
  try {
    const params = parseCallArgs(words);
    if (!verbs.some((v) => v.name === verb)) {
      // The daemon decides and records it; this is only a heads-up.
      process.stderr.write(`note: ${verb} is not in this passport; sending it anyway (the daemon will refuse and record it)\n`);
    }
    const call = session.call(verb, params, (stream, data) => (stream === "stdout" ? process.stdout : process.stderr).write(data));
    setRunning(call);
    const r = await call.done;
    const outcome = describeOutcome(r);
    if (outcome.ok) {
      process.stderr.write(paint(`✔ ${verb} done (${r.bytesOut} bytes, ${r.durationMs} ms)\n`, "green", process.stderr));
      return ExitCode.ok;
    }
    process.stderr.write(paint(`✘ ${verb}: ${outcome.phrase}${r.truncated ? " (output truncated)" : ""}\n`, "red", process.stderr));
    return ExitCode.verbFailed;
  } catch (e) {
    if (e instanceof OpenScopeError) {
      process.stderr.write(`${e.kind === "denied" ? paint("✘ ", "red", process.stderr) : ""}${e.message}\n`);
      for (const h of e.hints) process.stderr.write(`hint: ${h}\n`);
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
    const words = Object.entries(v.params).map(([k, p]) => describeParamPlain(k, p.constraint) + (p.default !== undefined ? ` (default ${p.default})` : ""));
    process.stderr.write(`  ${paint(v.name, "cyan", process.stderr)}${words.length ? ` ${words.join(", ")}` : ""}${v.summary ? `  — ${v.summary}` : ""}\n`);
  }
  process.stderr.write("type help for commands\n");
}
