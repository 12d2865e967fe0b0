// node:crypto, loaded on first use. A static import of a builtin is hoisted to the top of a
// compiled binary and costs every start, `--version` included (≈ 6 ms for node:crypto here);
// modules that need it only while working take it from here instead.
let loaded: typeof import("node:crypto") | undefined;

export function nodeCrypto(): typeof import("node:crypto") {
  return (loaded ??= process.getBuiltinModule("node:crypto") as typeof import("node:crypto"));
}
