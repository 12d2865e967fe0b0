// The daemon's adapter switch: a catalog entry and the params the chokepoint decided become an
// argv (run here, or through the system ssh client on the entry's host), started by exec/ and
// recorded in running.json while it runs, so a restart can end what a killed daemon left.
import type { Catalog } from "../capability/catalog.ts";
import { OpenScopeError } from "../errors.ts";
import { renderArgv, renderSshArgv } from "../exec/argv.ts";
import { startVerb, type OnOutput, type RunningVerb } from "../exec/process.ts";
import { ruleSetWith } from "../redact/site-rule.ts";
import type { RunningVerbs } from "./running-verbs.ts";

export type OutputSink = OnOutput;

export interface VerbRunnerOptions {
  catalog: () => Catalog;
  ssh: { knownHostsFile?: string; identityFile?: string };
  runningVerbs?: RunningVerbs;
}

/** Starts `verb` with already-decided params; throws when the verb left the catalog. */
export function runVerb(opts: VerbRunnerOptions, verb: string, params: Record<string, string>, onOutput: OutputSink): RunningVerb {
  const def = opts.catalog().get(verb);
  if (!def) throw new OpenScopeError("usage", `verb ${verb} is no longer in the catalog`);
  const argv =
    def.adapter === "ssh"
      ? renderSshArgv(def, params, {
          knownHostsFile: opts.ssh.knownHostsFile,
          identityFile: opts.ssh.identityFile,
          // Only the operator's known_hosts and key count, not whatever root's ssh config adds.
          extraOptions: ["IdentitiesOnly=yes", "GlobalKnownHostsFile=/dev/null"],
        })
      : renderArgv(def, params);
  // Output is redacted before it is framed and encrypted (SPEC.md §17.3), unless the verb opts out.
  const redact = def.redact === false ? null : ruleSetWith(def.siteRules);
  // ssh: stdin held open, so the remote command ends when the connection does (SPEC.md §7).
  const holdStdin = def.adapter === "ssh";
  const running = startVerb({ argv, timeoutMs: def.timeoutMs, maxOutputBytes: def.maxOutputBytes, redact, holdStdin }, onOutput);
  opts.runningVerbs?.add(running.pid);
  void running.done.finally(() => opts.runningVerbs?.remove(running.pid));
  return running;
}
