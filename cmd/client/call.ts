// `call`: one verb call for scripts. The verb's output streams to stdout and stderr (a reader that
// stops reading stops the verb; to a terminal it is escaped unless --raw, to a pipe it is exact), or
// comes back as one JSON object with --json; the exit code is the verb's outcome (SPEC.md §1).
// Ctrl-C cancels the call on the daemon and exits 130, as a shell's interrupted command does.
import { defineCommand } from "citty";
import { OpenScopeError, usageError } from "../../lib/errors.ts";
import { shareNameProblem } from "../../lib/client/saved-shares.ts";
import { describeOutcome } from "../../lib/wire/outcome.ts";
import type { ClientSession } from "../../lib/client/session.ts";
import { printJson, reportError, setHumanOutput } from "../output.ts";
import { handleArgs, outputArgs } from "./args.ts";
import { describeRedactions } from "../../lib/redact/stream.ts";
import { approvalWaitLine, connectToShare, handleFlagGiven, hasFlag, parseCallArgs } from "./_shared.ts";
import { noHandleError } from "./handle-source.ts";
import { verbOutputWriter } from "./verb-output.ts";

/** 128 + SIGINT, what a shell reports for a command ended by Ctrl-C. */
export const EXIT_INTERRUPTED = 130;
/** How long an interrupted call waits for the daemon to confirm the cancel before leaving anyway. */
const CANCEL_GRACE_MS = 5_000;

/**
 * `call [NAME] VERB k=v …`: with no handle flag (or OPENSCOPE_PASSPORT), the first word names a
 * saved share. Pure over its inputs.
 */
export function splitCallWords(words: string[], handleGiven: boolean): { saved?: string; verb: string | undefined; params: string[] } {
  if (handleGiven || words.length === 0) return { verb: words[0], params: words.slice(1) };
  if (shareNameProblem(words[0]!) !== undefined) throw noHandleError();
  return { saved: words[0], verb: words[1], params: words.slice(2) };
}

/** Ctrl-C: cancel the call on the daemon and exit 130 once it confirms (a second Ctrl-C leaves at once). */
function interruptible(): { attach(session: ClientSession, id: number): void; interrupted(): boolean } {
  let current: { session: ClientSession; id: number } | undefined;
  let count = 0;
  process.on("SIGINT", () => {
    count++;
    if (!current || count > 1) process.exit(EXIT_INTERRUPTED); // still connecting, or asked twice
    process.stderr.write("\ncancelling… (Ctrl-C again to leave at once)\n");
    current.session.cancel(current.id);
    setTimeout(() => process.exit(EXIT_INTERRUPTED), CANCEL_GRACE_MS).unref();
  });
  return {
    attach: (session, id) => (current = { session, id }),
    interrupted: () => count > 0,
  };
}

export default defineCommand({
  meta: { name: "call", description: "One-shot call for scripts: call [NAME] VERB k=v … (stdout is the verb's output; NAME is a saved share)" },
  args: {
    verb: { type: "positional", description: "Verb name (after a saved share's NAME when no handle flag is given)", required: false },
    ...handleArgs,
    ...outputArgs,
  },
  async run({ args }) {
    const json = Boolean(args.json) || hasFlag("json");
    if (json) setHumanOutput(false);
    const interrupt = interruptible();
    const { saved, verb, params: words } = splitCallWords(args._.map(String), handleFlagGiven());
    if (!verb) throw usageError("call needs a verb", ["usage: openscope-reflect-client --passport-file FILE --verify CODE call VERB k=v …, or call NAME VERB k=v … for a saved share"]);
    const params = parseCallArgs(words);
    const { session } = await connectToShare({ interactiveConfirm: true, saved });
    const out: Record<"stdout" | "stderr", Uint8Array[]> = { stdout: [], stderr: [] };
    const write = verbOutputWriter(hasFlag("raw"));
    const { id, done } = session.call(verb, params, (stream, data) => {
      if (!json) return write(stream, data);
      out[stream].push(data.slice());
    }, { onPending: (p) => process.stderr.write(`${approvalWaitLine(p)}\n`) });
    interrupt.attach(session, id);
    let result;
    try {
      result = await done;
    } catch (e) {
      if (!interrupt.interrupted()) throw e;
    } finally {
      session.close();
    }
    if (!result) {
      process.exitCode = EXIT_INTERRUPTED; // interrupted before the daemon answered
      return;
    }
    const exitCode = result.exitCode;
    if (json) {
      printJson({
        verb,
        params: result.params,
        exit_code: exitCode,
        signal: result.signal,
        timed_out: result.timedOut,
        cancelled: result.cancelled,
        ...(result.cancelledBy ? { cancelled_by: result.cancelledBy } : {}),
        truncated: result.truncated,
        bytes_out: result.bytesOut,
        duration_ms: result.durationMs,
        redactions: result.redactions,
        stdout: Buffer.concat(out.stdout).toString("utf8"),
        stderr: Buffer.concat(out.stderr).toString("utf8"),
      });
    }
    if (result.truncated) process.stderr.write(`openscope-reflect-client: warning: output truncated at the verb's cap\n`);
    const note = describeRedactions(result.redactions);
    if (note && !json) process.stderr.write(`openscope-reflect-client: note: ${note}\n`);
    const outcome = describeOutcome(result);
    const failed = outcome.ok ? undefined : new OpenScopeError("verbFailed", `${verb} ${outcome.clause}`);
    if (!interrupt.interrupted()) {
      if (failed) throw failed;
      return;
    }
    // Ctrl-C: the outcome is said as usual, and the exit code is the shell's for an interrupt.
    if (failed) reportError(failed);
    process.exitCode = EXIT_INTERRUPTED;
  },
});
