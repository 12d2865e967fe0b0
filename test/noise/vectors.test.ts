// Runs the shared cacophony Noise vectors through lib/noise (the same runner as
// `bun run noise-vectors`) on both suites (noble and the platform's), and checks the runner itself
// notices a damaged vector.
import { describe, expect, test } from "bun:test";
import { DEFAULT_VECTORS, runVector, runVectorFile, SUITES } from "../../scripts/noise-vectors.ts";

describe.each(SUITES.map((s) => [s.name, s] as const))("noise vectors on %s", (_name, suite) => {
  test("every shared vector passes, none skipped", async () => {
    const outcomes = await runVectorFile(DEFAULT_VECTORS, suite);
    expect(outcomes.length).toBe(118);
    expect(outcomes.filter((o) => o.result !== "passed")).toEqual([]);
  });

  test("the required patterns are all present and pass, with both hashes", async () => {
    const outcomes = await runVectorFile(DEFAULT_VECTORS, suite);
    const names = new Set(outcomes.filter((o) => o.result === "passed").map((o) => o.name));
    for (const p of ["NN", "NK", "KK", "IK", "XX", "IN", "IX", "XK", "KN", "KX", "NX", "XN", "IKpsk2", "NKpsk2"])
      for (const h of ["BLAKE2s", "SHA256"]) expect(names.has(`Noise_${p}_25519_ChaChaPoly_${h}`)).toBe(true);
  });

  test("a damaged ciphertext, handshake hash or psk is reported as failed", async () => {
    const data = (await Bun.file(DEFAULT_VECTORS).json()) as { vectors: any[] };
    const v = data.vectors.find((x) => x.protocol_name === "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s");
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "0" ? "1" : "0") + s.slice(i + 1);
    const badCt = structuredClone(v);
    badCt.messages[3].ciphertext = flip(badCt.messages[3].ciphertext, 4);
    expect((await runVector(badCt, suite)).result).toBe("failed");
    const badHash = structuredClone(v);
    badHash.handshake_hash = flip(badHash.handshake_hash, 0);
    expect((await runVector(badHash, suite)).result).toBe("failed");
    const badPsk = structuredClone(v);
    badPsk.resp_psks[0] = flip(badPsk.resp_psks[0], 10);
    expect((await runVector(badPsk, suite)).result).toBe("failed");
    expect((await runVector({ ...v, protocol_name: "Noise_IK_448_ChaChaPoly_BLAKE2s" }, suite)).result).toBe("skipped");
  });
});
