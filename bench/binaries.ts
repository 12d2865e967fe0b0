// Issue 10 item 6: the compiled binaries in dist/ (built with the release flags when missing):
// size on disk, and cold start of `--version` as the median of 20 runs, against a compiled Bun
// hello world built here with the same flags (the floor any Bun binary pays) and `ssh -V`.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { ENTRIES, RELEASE_FLAGS } from "../scripts/build.ts";
import { ROOT } from "../test/helpers/spawn.ts";
import { median, withRatio, type Row } from "./report.ts";

/** Median wall time in ms of `runs` runs of `cmd` (each must exit 0). */
export async function coldStartMs(cmd: string[], runs: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const p = Bun.spawn(cmd, { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    const code = await p.exited;
    samples.push(performance.now() - t);
    if (code !== 0) throw new Error(`bench: ${cmd.join(" ")} exited ${code}`);
  }
  return median(samples);
}

export async function benchBinaries(runs = 20): Promise<Row[]> {
  for (const { binary } of ENTRIES) {
    if (!existsSync(join(ROOT, "dist", binary))) await $`bun ${join(ROOT, "scripts", "build.ts")} --only ${binary}`.cwd(ROOT).quiet();
  }
  const dir = mkdtempSync(join(tmpdir(), "openscope-bench-hello-"));
  try {
    writeFileSync(join(dir, "hello.ts"), 'console.log("0.0.0");\n');
    const hello = join(dir, "hello");
    await $`bun build ${join(dir, "hello.ts")} ${RELEASE_FLAGS} --outfile ${hello}`.cwd(dir).quiet();
    const helloSize = statSync(hello).size / 1e6;
    const helloStart = await coldStartMs([hello], runs);
    const rows: Row[] = [];
    for (const { binary } of ENTRIES) {
      const path = join(ROOT, "dist", binary);
      rows.push(withRatio({ item: 6, name: `${binary} size`, value: statSync(path).size / 1e6, unit: "MB", baseline: helloSize, baselineName: "compiled Bun hello world" }));
      rows.push(withRatio({ item: 6, name: `${binary} --version cold start, median of ${runs}`, value: await coldStartMs([path, "--version"], runs), unit: "ms", baseline: helloStart, baselineName: "compiled Bun hello world" }));
    }
    if (Bun.which("ssh")) {
      const client = rows.find((r) => r.name.startsWith("openscope-reflect-client --version"));
      if (client) rows.push(withRatio({ ...client, ratio: undefined, baseline: await coldStartMs(["ssh", "-V"], runs), baselineName: "ssh -V" }));
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
