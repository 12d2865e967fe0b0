// `bun run build`: compiles the three entries into dist/ for this machine with the release flags
// of Bun's compile docs (no .env / bunfig autoload in the binaries; minified; bytecode needs esm).
// Usage: bun scripts/build.ts [--only openscope|openscope-relay|openscope-reflect-client]
import { $ } from "bun";

export const ENTRIES = [
  { entry: "daemon.ts", binary: "openscope" },
  { entry: "relay.ts", binary: "openscope-relay" },
  { entry: "client.ts", binary: "openscope-reflect-client" },
] as const;

export const RELEASE_FLAGS = [
  "--compile",
  "--minify",
  "--bytecode",
  "--format=esm",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
];

if (import.meta.main) {
  const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
  const root = new URL("..", import.meta.url).pathname;
  for (const { entry, binary } of ENTRIES) {
    if (only && only !== binary) continue;
    const started = performance.now();
    await $`bun build ${entry} ${RELEASE_FLAGS} --outfile dist/${binary}`.cwd(root).quiet();
    const size = Bun.file(`${root}/dist/${binary}`).size;
    console.log(`built dist/${binary} (${(size / 1e6).toFixed(1)} MB, ${Math.round(performance.now() - started)} ms)`);
  }
}
