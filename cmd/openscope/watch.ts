// `openscope share watch [ID] [--json]`: the operator's live view of one share (or every live
// share). On a terminal: a header, each call and decision as it happens, the running call's output
// (escaped), a status line, and keys k a d x e q (d asks for a one-line reason). Otherwise (or with --json): one JSON object per
// line per event, exactly as the daemon sent it (SPEC.md §17.1).
import { defineCommand } from "citty";
import { openWatchStream } from "../../lib/control/client.ts";
import { connectionError, OpenScopeError, usageError } from "../../lib/errors.ts";
import { parseWatchLine, type WatchEvent } from "../../lib/share/watch.ts";
import type { HomePaths } from "../../lib/host/home.ts";
import { homeArg, jsonArg } from "../args.ts";
import { exitWhenStdoutCloses, paint, printJsonLine, setHumanOutput } from "../output.ts";
import { homeFrom } from "./_shared.ts";
import { WatchView } from "./watch-view.ts";
import { keyHandler } from "./watch-keys.ts";

const SHARE_ID = /^[0-9a-f]{12}$/;

/** The stream's events, one per line; a damaged line is skipped (and said once on stderr). */
async function* events(reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> }): AsyncGenerator<WatchEvent> {
  const decoder = new TextDecoder();
  let buf = "";
  let warned = false;
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      buf += decoder.decode(r.value!, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line) continue;
        try {
          yield parseWatchLine(line);
        } catch (e) {
          if (!warned) process.stderr.write(`openscope: warning: ${(e as Error).message}\n`);
          warned = true;
        }
      }
    }
  } catch {
    throw connectionError("the daemon ended the watch (it stopped or restarted)");
  }
}

/**
 * Why a watch stream ended: a watch of one share ends when the share is over (exit 0); any other
 * end means the daemon went away (exit 4), so a script can tell the two apart.
 */
class WatchEnding {
  private over = false;

  constructor(private readonly shareId: string | undefined) {}

  see(ev: WatchEvent): void {
    if (this.shareId === undefined || ev.shareId !== this.shareId) return;
    const state = ev.kind === "share.state" ? (ev.share as { state?: string } | undefined)?.state : ev.kind === "watch.started" ? (ev.shares as Array<{ state?: string }> | undefined)?.[0]?.state : undefined;
    if (state !== undefined) this.over = state !== "live";
  }

  check(): void {
    if (!this.over) throw WatchEnding.daemonGone();
  }

  static daemonGone(): OpenScopeError {
    return connectionError("the daemon ended the watch (it stopped or restarted)", ["start it again, then: openscope share watch"]);
  }
}

export default defineCommand({
  meta: { name: "watch", description: "Live view of a share (or all live shares): calls, decisions, output; keys k a d x e q" },
  args: {
    ...homeArg,
    ...jsonArg,
    id: { type: "positional", description: "Share id (default: every live share)", required: false },
  },
  async run({ args }) {
    const paths = homeFrom(args);
    const id = args.id as string | undefined;
    if (id !== undefined && !SHARE_ID.test(id)) throw usageError(`"${id}" is not a share id`, ["see the ids with: openscope share list"]);
    const body = await openWatchStream(paths.socket, id);
    if (args.json || !process.stdout.isTTY) {
      setHumanOutput(false);
      // `share watch --json | head -1`: end once the reader has gone, even while nothing happens.
      const stopPolling = await exitWhenStdoutCloses();
      const ending = new WatchEnding(id);
      for await (const ev of events(body.getReader())) {
        ending.see(ev);
        printJsonLine(ev);
      }
      stopPolling();
      ending.check();
      return;
    }
    await liveView(paths, id, body);
  },
});

async function liveView(paths: HomePaths, filter: string | undefined, body: ReadableStream<Uint8Array>): Promise<void> {
  const view = new WatchView(filter);
  const out = process.stdout;
  let statusShown = false;
  // A line being typed (the reason of a deny) replaces the status line until it is sent or cancelled.
  let promptLine: string | undefined;
  const clearStatus = () => {
    if (statusShown) out.write("\r\x1b[2K");
    statusShown = false;
  };
  const drawStatus = () => {
    clearStatus();
    const cols = out.columns || 120;
    if (promptLine !== undefined) {
      // The end of the line (what is being typed) stays in sight on a narrow terminal.
      out.write(promptLine.length > cols - 1 ? `…${promptLine.slice(promptLine.length - cols + 2)}` : promptLine);
      statusShown = true;
      return;
    }
    const s = view.status(Date.now());
    out.write(paint(s.length > cols - 1 ? `${s.slice(0, cols - 2)}…` : s, "cyan"));
    statusShown = true;
  };
  const print = (lines: string[]) => {
    if (lines.length === 0) return;
    clearStatus();
    out.write(lines.join("\n") + "\n");
    drawStatus();
  };
  const say = (text: string) => print([`${new Date().toISOString().slice(11, 19)} ${text}`]);

  let quit: () => void = () => {};
  const quitting = new Promise<void>((r) => (quit = r));
  // Actions in flight: the view waits for their answers before it ends (a revoke ends the stream).
  const inflight = new Set<Promise<void>>();
  const act = (fn: () => Promise<string>) => {
    const p = (async () => {
      try {
        say(await fn());
      } catch (e) {
        say(paint(`✘ ${e instanceof OpenScopeError ? e.message : String(e)}`, "red"));
      }
    })();
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  const prompt = (text: string | undefined) => {
    promptLine = text;
    drawStatus();
  };
  const onKey = keyHandler({ socket: paths.socket, view, say, act, quit, prompt });

  const stdin = process.stdin;
  const keys = stdin.isTTY === true;
  const onData = (d: Buffer) => {
    for (const ch of d.toString("utf8")) onKey(ch);
  };
  if (keys) {
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  }
  const ticker = setInterval(() => {
    print(view.flush());
    drawStatus();
  }, 1000);
  const reader = body.getReader();
  const pump = (async () => {
    for await (const ev of events(reader)) {
      print(view.apply(ev));
      onKey.pendingChanged();
    }
  })();
  let failure: unknown;
  try {
    await Promise.race([
      quitting,
      pump.then(
        async () => {
          await Promise.all([...inflight]);
          const state = filter ? view.shares.get(filter)?.state : undefined;
          if (state !== undefined && state !== "live") say(`share ${filter} is over and nothing of it runs; the watch ends`);
          else failure = WatchEnding.daemonGone();
        },
        (e) => (failure = e),
      ),
    ]);
  } finally {
    clearInterval(ticker);
    if (keys) {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
    }
    void reader.cancel().catch(() => {});
    clearStatus();
    print(view.flush());
    clearStatus();
  }
  if (failure) throw failure;
}
