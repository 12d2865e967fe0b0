// Where the client reads the handle from (SPEC.md §13.2): `--passport-file FILE`, `--passport -`
// (stdin), `OPENSCOPE_PASSPORT`, a saved share's name, or `--passport HANDLE` on argv, which every
// local user can read in the process list: a bearer handle given that way draws a warning
// (THREAT-MODEL "What must never happen": a bearer handle must be typed on a command line).
import { readFileSync, statSync } from "node:fs";
import { usageError } from "../../lib/errors.ts";
import { decodeHandle, type Handle } from "../../lib/wire/handle.ts";
import { loadShare } from "../../lib/client/saved-shares.ts";
import { log } from "../output.ts";

export type HandleSource =
  | { kind: "argv"; text: string }
  | { kind: "file"; path: string }
  | { kind: "stdin" }
  | { kind: "env"; text: string }
  | { kind: "saved"; name: string };

export interface GivenHandle {
  /** --passport's value (`-` means stdin). */
  passport?: string | undefined;
  passportFile?: string | undefined;
  /** OPENSCOPE_PASSPORT. */
  env?: string | undefined;
  /** A saved share's name from the command line. */
  saved?: string | undefined;
}

const SAFE_FORMS = "use --passport-file FILE, --passport - (stdin), OPENSCOPE_PASSPORT, or save it: openscope-reflect-client add NAME --passport-file FILE";

/**
 * The one source to read, or undefined when none was given. Pure. Two explicit sources are a
 * usage error (which one was meant?); the environment only counts when nothing explicit was given.
 */
export function chooseHandleSource(given: GivenHandle): HandleSource | undefined {
  const explicit: HandleSource[] = [];
  if (given.passport !== undefined) explicit.push(given.passport === "-" ? { kind: "stdin" } : { kind: "argv", text: given.passport });
  if (given.passportFile !== undefined) explicit.push(given.passportFile === "-" ? { kind: "stdin" } : { kind: "file", path: given.passportFile });
  if (given.saved !== undefined) explicit.push({ kind: "saved", name: given.saved });
  if (explicit.length > 1) throw usageError("the handle is given more than one way", ["give one of --passport, --passport-file or a saved share's name"]);
  if (explicit.length === 1) return explicit[0];
  const env = given.env?.trim();
  return env ? { kind: "env", text: env } : undefined;
}

/** What a source reads as, for messages ("--passport-file handle.txt"). */
export function describeSource(s: HandleSource): string {
  switch (s.kind) {
    case "argv":
      return "--passport";
    case "file":
      return `--passport-file ${s.path}`;
    case "stdin":
      return "--passport -";
    case "env":
      return "OPENSCOPE_PASSPORT";
    case "saved":
      return `saved share ${s.name}`;
  }
}

/**
 * What `--passport -` may do with stdin: `read` it (a person at a terminal pastes one line; a
 * pipe is read to its end), or, when stdin is the command's own input, only ask a person at a
 * terminal for one line (`prompt`: the interactive client) or nothing at all (`never`: MCP).
 */
export type StdinUse = "read" | "prompt" | "never";

async function readStdin(use: StdinUse): Promise<string> {
  if (process.stdin.isTTY && use !== "never") {
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    try {
      return await rl.question("paste the handle the operator sent: ");
    } finally {
      rl.close();
    }
  }
  if (use !== "read") {
    throw usageError(`--passport -: stdin carries this command's own input (${use === "never" ? "the MCP protocol" : "the prompt's commands"})`, [
      "pass --passport-file FILE or OPENSCOPE_PASSPORT, or save the handle: openscope-reflect-client add NAME --passport -",
    ]);
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString("utf8");
}

function readHandleFile(path: string): string {
  try {
    if (statSync(path).size > 64 * 1024) throw usageError(`--passport-file ${path} is too large to be a handle`);
    return readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof Error && "code" in e) throw usageError(`--passport-file ${path}: ${(e as NodeJS.ErrnoException).code}`, ["pass the file holding the handle the operator sent"]);
    throw e;
  }
}

/** The text of the handle at `source` (stdin as `stdin` allows). */
export async function readHandleText(source: HandleSource, configDir: string, stdin: StdinUse = "read"): Promise<string> {
  switch (source.kind) {
    case "argv":
    case "env":
      return source.text;
    case "file":
      return readHandleFile(source.path);
    case "stdin":
      return readStdin(stdin);
    case "saved":
      return loadShare(configDir, source.name);
  }
}

/** Reads and decodes the handle; warns when a bearer handle came on argv. */
export async function readHandle(source: HandleSource, configDir: string, stdin: StdinUse = "read"): Promise<Handle> {
  return decodeGiven(source, await readHandleText(source, configDir, stdin));
}

/** Decodes the text read from `source`; warns when a bearer handle came on argv. */
export function decodeGiven(source: HandleSource, text: string): Handle {
  if (text.trim() === "") throw usageError(`${describeSource(source)}: no handle there`, ["pass the handle the operator sent"]);
  const handle = decodeHandle(text);
  if (source.kind === "argv" && handle.secret.kind === "bearer") {
    log.warn(`--passport puts this bearer handle in the process list, where every local user can read it and use the share; ${SAFE_FORMS}`);
  }
  return handle;
}

/** The usage error for a command that found no handle at all. */
export function noHandleError(): Error {
  return usageError("no handle given", [`pass the handle the operator sent: ${SAFE_FORMS}`]);
}
