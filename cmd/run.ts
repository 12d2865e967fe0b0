// Runs a citty command tree as one of our programs: `--help` on any subcommand, `--version`,
// and every thrown error through the output helper with the exit codes of SPEC.md §1.
import { renderUsage, runCommand, type CommandDef } from "citty";
import { closestWord, usageError } from "../lib/errors.ts";
import { helpFooter } from "./help.ts";
import { VERSION } from "../lib/version.ts";
import { configureOutput, reportError, stripAnsi } from "./output.ts";

async function resolve<T>(v: unknown): Promise<T> {
  return (typeof v === "function" ? await (v as () => unknown)() : await v) as T;
}

type OptionType = string | undefined;

/** What argv says once walked down the command tree (see walkArgv). */
interface Walk {
  /** The subcommand words, in order ("share", "open"). */
  path: string[];
  cmd: CommandDef<any>;
  /** argv with the subcommand words first, so global flags may stand anywhere. */
  normalized: string[];
  /** A word where a subcommand was expected but none has that name. */
  stray?: { word: string; candidates: string[] };
  /** Options no command on the path declares. */
  unknown: string[];
}

async function optionsOf(cmd: CommandDef<any>, into: Map<string, OptionType>): Promise<void> {
  const args = (await resolve<Record<string, { type?: string; alias?: string | string[] }> | undefined>(cmd.args)) ?? {};
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    into.set(name, def.type);
    for (const a of ([] as string[]).concat(def.alias ?? [])) into.set(a, def.type);
  }
}

/**
 * Walks argv down the subcommand tree. An option declared on a command already on the path (the
 * program's own global flags, such as `--home`, included) is recognised wherever it stands, with
 * its value, so `openscope --home X fingerprint` names the command `fingerprint`, not `X`. A
 * string option with no value is refused here: `fingerprint --home` must not fall back to the
 * default home. Options no command on the path declares are collected for checkOptions.
 */
async function walkArgv(main: CommandDef<any>, argv: string[]): Promise<Walk> {
  const known = new Map<string, OptionType>([["help", "boolean"], ["version", "boolean"], ["verbose", "boolean"]]);
  await optionsOf(main, known);
  const path: string[] = [];
  // Each word after argv[0], with the option it belongs to and whether the path was complete.
  const rest: Array<{ word: string; option?: string; beforeCommand: boolean }> = [];
  const seen: string[] = [];
  const push = (word: string, option?: string) => rest.push({ word, option, beforeCommand: descending });
  let cmd = main;
  let descending = true;
  let stray: Walk["stray"];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--") {
      for (const w of argv.slice(i)) push(w);
      break;
    }
    if (word.startsWith("--") && word.length > 2) {
      const name = word.slice(2).split("=")[0]!;
      push(word, name);
      seen.push(name);
      const type = known.get(name);
      if ((type === "string" || type === "enum") && !word.includes("=")) {
        const value = argv[i + 1];
        if (value === undefined || (value.startsWith("--") && value.length > 2))
          throw usageError(`--${name} needs a value`, [`e.g. --${name} ${name === "home" ? "/path/to/home" : "VALUE"}`]);
        push(value, name);
        i++;
      }
      continue;
    }
    if (word.startsWith("-") && word !== "-") {
      push(word);
      continue;
    }
    const subs = descending ? await resolve<Record<string, unknown> | undefined>(cmd.subCommands) : undefined;
    if (subs && Object.hasOwn(subs, word)) {
      path.push(word);
      cmd = await resolve<CommandDef<any>>(subs[word]);
      await optionsOf(cmd, known);
      continue;
    }
    if (subs && !cmd.run && stray === undefined) stray = { word, candidates: Object.keys(subs) };
    descending = false; // a positional argument: no more subcommands below
    push(word);
  }
  const unknown = seen.filter((n) => !known.has(n) && !(n.startsWith("no-") && known.get(n.slice(3)) === "boolean"));
  // citty gives a subcommand only the words after its name: an option the command reached
  // declares too (`--home`) moves after the path, so `openscope --home X fingerprint` works. One
  // only the parent declares (the client's `--passport`) stays before it, where citty reads it.
  const own = new Map<string, OptionType>();
  await optionsOf(cmd, own);
  const moves = (t: (typeof rest)[number]) => t.beforeCommand && t.option !== undefined && own.has(t.option) && path.length > 0;
  const normalized = [...rest.filter((t) => t.beforeCommand && !moves(t)).map((t) => t.word), ...path, ...rest.filter(moves).map((t) => t.word), ...rest.filter((t) => !t.beforeCommand).map((t) => t.word)];
  return { path, cmd, normalized, stray, unknown };
}

/** The usage header names the whole path ("openscope share open"), not only the last two words. */
function usageParent(program: string, path: string[]): { meta: { name: string } } | undefined {
  return path.length > 0 ? { meta: { name: [program, ...path.slice(0, -1)].join(" ") } } : undefined;
}

/**
 * Refuses an option no command on the path declares. citty ignores unknown flags, so a typo such
 * as `--tll 5m` would silently open a share with the default 30-minute TTL.
 */
async function checkOptions(program: string, walk: Walk): Promise<void> {
  const name = walk.unknown[0];
  if (name === undefined) return;
  const known = new Map<string, OptionType>([["help", "boolean"], ["verbose", "boolean"]]);
  // The options of the command reached, for the suggestion.
  await optionsOf(walk.cmd, known);
  const guess = closestWord(name, known.keys());
  throw usageError(`unknown option --${name}`, [
    ...(guess ? [`did you mean --${guess}?`] : []),
    `run "${[program, ...walk.path, "--help"].join(" ")}" for the options`,
  ]);
}

export async function runCli(program: string, main: CommandDef<any>, argv = process.argv.slice(2)): Promise<never> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    // The fast path: no stdout stream object (creating process.stdout costs several ms at start).
    await Bun.write(Bun.stdout, `${VERSION}\n`);
    process.exit(0);
  }
  trackStdout();
  configureOutput({ program, argv });
  let code = 0;
  try {
    if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
      process.stdout.write(`${VERSION}\n`);
    } else if (argv.includes("--help") || argv.includes("-h")) {
      const walk = await walkArgv(main, argv.filter((a) => a !== "--help" && a !== "-h"));
      const text = `${await renderUsage(walk.cmd, usageParent(program, walk.path))}\n${helpFooter(program, walk.path)}`;
      process.stdout.write((process.stdout.isTTY && !process.env.NO_COLOR ? text : stripAnsi(text)) + "\n");
    } else {
      const walk = await walkArgv(main, argv);
      if (walk.stray) {
        const guess = closestWord(walk.stray.word, walk.stray.candidates);
        const where = [program, ...walk.path].join(" ");
        throw usageError(`unknown command "${walk.stray.word}"`, [
          ...(guess ? [`did you mean "${where} ${guess}"?`] : []),
          `run "${where} --help" for the commands`,
        ]);
      }
      if (walk.cmd.subCommands && !walk.cmd.run) {
        const subs = Object.keys((await resolve<Record<string, unknown>>(walk.cmd.subCommands)) ?? {});
        const text = stripAnsi(await renderUsage(walk.cmd, usageParent(program, walk.path)));
        process.stderr.write(text + "\n");
        const where = [program, ...walk.path].join(" ");
        throw usageError(`"${where}" needs a command: ${subs.join(", ")}`, [`e.g. ${where} ${subs[0] ?? ""}`.trimEnd(), `run "${where} --help" for details`]);
      }
      await checkOptions(program, walk);
      await runCommand(main, { rawArgs: walk.normalized });
    }
  } catch (err) {
    code = reportError(err);
  }
  // Flush stdout before exiting so piped output is never cut short.
  await stdoutFlushed();
  process.exit(code || Number(process.exitCode ?? 0));
}

/**
 * Counts stdout writes still in progress. Bun reports writableLength 0 for a pipe write that is
 * still being handed to the OS, so `process.exit` cut piped output at 64 KiB when the reader was
 * slow; a write's callback fires once its bytes are out, so the count is reliable.
 */
let pendingWrites = 0;
let onFlushed: (() => void) | undefined;
let tracking = false;
/** Installed by runCli, not at import: touching process.stdout creates its stream (a cost every start paid). */
function trackStdout(): void {
  if (tracking) return;
  tracking = true;
  const out = process.stdout as unknown as { write: (...a: unknown[]) => boolean };
  const write = out.write.bind(out);
  out.write = (chunk: unknown, enc?: unknown, cb?: unknown) => {
    const done = typeof enc === "function" ? enc : cb;
    pendingWrites++;
    try {
      return write(chunk, typeof enc === "string" ? enc : undefined, (err?: Error | null) => {
        pendingWrites--;
        if (err && isClosedPipe(err)) exitOnClosedPipe();
        if (pendingWrites === 0) onFlushed?.();
        if (typeof done === "function") (done as (e?: Error | null) => void)(err);
      });
    } catch (err) {
      if (isClosedPipe(err)) exitOnClosedPipe();
      throw err;
    }
  };
  process.stdout.on("error", (err) => {
    if (isClosedPipe(err)) exitOnClosedPipe();
  });
}

function isClosedPipe(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === "EPIPE";
}

/** The reader went away (`audit --follow | head -1`): nothing more to say, exit quietly. */
function exitOnClosedPipe(): never {
  process.exit(0);
}

function stdoutFlushed(): Promise<void> {
  return pendingWrites === 0 ? Promise.resolve() : new Promise<void>((r) => (onFlushed = r));
}
