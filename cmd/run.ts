// Runs a citty command tree as one of our programs: `--help` on any subcommand, `--version`,
// and every thrown error through the output helper with the exit codes of SPEC.md §1.
import { renderUsage, runCommand, type CommandDef } from "citty";
import { usageError } from "../lib/errors.ts";
import { VERSION } from "../lib/version.ts";
import { configureOutput, reportError, stripAnsi } from "./output.ts";

async function resolve<T>(v: unknown): Promise<T> {
  return (typeof v === "function" ? await (v as () => unknown)() : await v) as T;
}

/** Walks the leading words of argv down the subcommand tree (for `--help` of a subcommand). */
async function commandFor(
  program: string,
  main: CommandDef<any>,
  argv: string[],
): Promise<[CommandDef<any>, CommandDef<any> | undefined]> {
  let cmd = main;
  const path: string[] = [];
  for (const word of argv) {
    if (word.startsWith("-")) continue;
    const subs = await resolve<Record<string, unknown> | undefined>(cmd.subCommands);
    if (!subs || !(word in subs)) break;
    path.push(word);
    cmd = await resolve<CommandDef<any>>(subs[word]);
  }
  // Usage lines show the whole path ("openscope share open"), not only the last two words.
  const parent = path.length > 0 ? { meta: { name: [program, ...path.slice(0, -1)].join(" ") } } : undefined;
  return [cmd, parent];
}

/** The first word of argv that names no subcommand where one is expected, if any. */
async function strayWord(main: CommandDef<any>, argv: string[]): Promise<string | undefined> {
  let cmd = main;
  for (const word of argv) {
    if (word.startsWith("-")) continue;
    const subs = await resolve<Record<string, unknown> | undefined>(cmd.subCommands);
    if (!subs || !(word in subs)) return word;
    cmd = await resolve<CommandDef<any>>(subs[word]);
  }
  return undefined;
}

/**
 * Refuses an option no command on the path declares. citty ignores unknown flags, so a typo such
 * as `--tll 5m` would silently open a share with the default 30-minute TTL.
 */
async function checkOptions(program: string, main: CommandDef<any>, argv: string[]): Promise<void> {
  const known = new Map<string, string | undefined>([["help", "boolean"], ["version", "boolean"], ["verbose", "boolean"]]);
  const learn = async (cmd: CommandDef<any>) => {
    const args = (await resolve<Record<string, { type?: string; alias?: string | string[] }> | undefined>(cmd.args)) ?? {};
    for (const [name, def] of Object.entries(args)) {
      if (def.type === "positional") continue;
      known.set(name, def.type);
      for (const a of ([] as string[]).concat(def.alias ?? [])) known.set(a, def.type);
    }
  };
  let cmd = main;
  let descending = true;
  const path: string[] = [];
  await learn(cmd);
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--") break;
    if (word.startsWith("--")) {
      const name = word.slice(2).split("=")[0]!;
      const type = known.has(name) ? known.get(name) : name.startsWith("no-") && known.get(name.slice(3)) === "boolean" ? "boolean" : null;
      if (type === null) throw usageError(`unknown option --${name}`, [`run "${[program, ...path, "--help"].join(" ")}" for the options`]);
      if ((type === "string" || type === "enum") && !word.includes("=")) i++; // its value
      continue;
    }
    if (!descending) continue;
    const subs = await resolve<Record<string, unknown> | undefined>(cmd.subCommands);
    if (subs && word in subs) {
      path.push(word);
      cmd = await resolve<CommandDef<any>>(subs[word]);
      await learn(cmd);
    } else {
      descending = false; // a positional argument: no more subcommands below
    }
  }
}

export async function runCli(program: string, main: CommandDef<any>, argv = process.argv.slice(2)): Promise<never> {
  configureOutput({ program, argv });
  let code = 0;
  try {
    if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
      process.stdout.write(`${VERSION}\n`);
    } else if (argv.includes("--help") || argv.includes("-h")) {
      const [cmd, parent] = await commandFor(program, main, argv);
      const text = await renderUsage(cmd, parent);
      process.stdout.write((process.stdout.isTTY && !process.env.NO_COLOR ? text : stripAnsi(text)) + "\n");
    } else {
      const [cmd] = await commandFor(program, main, argv);
      if (cmd.subCommands && !cmd.run) {
        const stray = await strayWord(main, argv);
        if (stray !== undefined) {
          throw usageError(`unknown command "${stray}"`, [`run "${program} --help" for the commands`]);
        }
        const [, parent] = await commandFor(program, main, argv);
        const text = stripAnsi(await renderUsage(cmd, parent));
        process.stderr.write(text + "\n");
        throw usageError("missing command", [`run "${program} --help" for the commands`]);
      }
      await checkOptions(program, main, argv);
      await runCommand(main, { rawArgs: argv });
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
{
  const out = process.stdout as unknown as { write: (...a: unknown[]) => boolean };
  const write = out.write.bind(out);
  out.write = (chunk: unknown, enc?: unknown, cb?: unknown) => {
    const done = typeof enc === "function" ? enc : cb;
    pendingWrites++;
    return write(chunk, typeof enc === "string" ? enc : undefined, (err?: Error | null) => {
      pendingWrites--;
      if (pendingWrites === 0) onFlushed?.();
      if (typeof done === "function") (done as (e?: Error | null) => void)(err);
    });
  };
}

function stdoutFlushed(): Promise<void> {
  return pendingWrites === 0 ? Promise.resolve() : new Promise<void>((r) => (onFlushed = r));
}

/** What an unfinished subcommand does: say so plainly, exit 2, never a silent success. */
export function notImplemented(name: string): never {
  throw usageError(`${name} is not implemented yet in this build`, ["see the project's open issues"]);
}
