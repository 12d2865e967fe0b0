// `call`: one verb call for scripts. The verb's output streams to stdout and stderr (a reader that
// stops reading stops the verb), or comes back as one JSON object with --json; the exit code is the
// verb's outcome (SPEC.md §1). Ctrl-C cancels the call on the daemon.
import { defineCommand } from "citty";
import { OpenScopeError, usageError } from "../../lib/errors.ts";
import { describeOutcome } from "../../lib/wire/outcome.ts";
import { printJson, setHumanOutput } from "../output.ts";
import { describeRedactions } from "../../lib/redact/stream.ts";
import { approvalWaitLine, connectToShare, hasFlag, parseCallArgs } from "./_shared.ts";

export default defineCommand({
  meta: { name: "call", description: "One-shot call for scripts: call VERB k=v … (stdout is the verb's output)" },
  args: {
    verb: { type: "positional", description: "Verb name", required: false },
    json: { type: "boolean", description: "Print a JSON result object on stdout" },
  },
  async run({ args }) {
    const json = Boolean(args.json) || hasFlag("json");
    if (json) setHumanOutput(false);
    const verb = args.verb;
    if (!verb) throw usageError("call needs a verb", ["usage: openscope-reflect-client --passport H --verify CODE call VERB k=v …"]);
    const params = parseCallArgs(args._.slice(1));
    const { session } = await connectToShare({ interactiveConfirm: true });
    const out: Record<"stdout" | "stderr", Uint8Array[]> = { stdout: [], stderr: [] };
    const { id, done } = session.call(verb, params, (stream, data) => {
      if (json) {
        out[stream].push(data.slice());
        return;
      }
      // Resolve once the bytes are handed on: a reader that stops reading stops the verb.
      return new Promise<void>((resolve) => (stream === "stdout" ? process.stdout : process.stderr).write(data, () => resolve()));
    }, { onPending: (p) => process.stderr.write(`${approvalWaitLine(p)}\n`) });
    process.once("SIGINT", () => session.cancel(id));
    let result;
    try {
      result = await done;
    } finally {
      session.close();
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
    if (!outcome.ok) throw new OpenScopeError("verbFailed", `${verb} ${outcome.clause}`);
  },
});
