// The mutation runner's pure parts (scripts/mutants.ts): a mutant's anchors must match exactly
// once, a mutated file that does not parse is caught before any test runs, equivalent mutants
// never raise the score, and the kept list is well formed. The run itself is `bun run mutants`.
import { describe, expect, test } from "bun:test";
import { applyMutant, parseProblem, score } from "../../scripts/mutants.ts";
import { MUTANTS } from "./mutants.ts";

describe("applyMutant", () => {
  const text = "const a = 1;\nconst b = a + 1;\n";
  test("one edit whose anchor occurs once", () => {
    expect(applyMutant(text, { edits: [{ search: "a + 1", replace: "a - 1" }] })).toEqual({ text: "const a = 1;\nconst b = a - 1;\n" });
  });
  test("two edits apply in order", () => {
    expect(applyMutant(text, { edits: [{ search: "= 1;", replace: "= 2;" }, { search: "a + 1", replace: "a" }] })).toEqual({ text: "const a = 2;\nconst b = a;\n" });
  });
  test("a missing, ambiguous or no-op anchor is stale, never skipped", () => {
    expect(applyMutant(text, { edits: [{ search: "c + 1", replace: "c" }] })).toEqual({ stale: 'anchor not found: "c + 1"' });
    expect(applyMutant(text, { edits: [{ search: "const", replace: "let" }] })).toEqual({ stale: 'anchor not unique: "const"' });
    expect(applyMutant(text, { edits: [{ search: "a + 1", replace: "a + 1" }] })).toEqual({ stale: "replacement equals the anchor" });
    expect(applyMutant(text, { edits: [{ search: "a + 1", replace: "a" }, { search: "a + 1", replace: "b" }] })).toEqual({ stale: 'anchor not found: "a + 1"' });
  });
});

describe("parseProblem", () => {
  test("a mutant that breaks the syntax is caught; valid TypeScript passes", () => {
    expect(parseProblem("class A { f() { this.((x).y ??= []).push(1); } }")).toStartWith("does not parse");
    expect(parseProblem("const a: number = 1; export { a };")).toBeUndefined();
  });
});

describe("score", () => {
  const row = (status: "killed" | "survived" | "stale" | "broken" | "equivalent") => ({ id: status, area: "x", file: "f", description: "d", status, by: "", ms: 0 });
  test("equivalent mutants count as not killed; stale and broken ones are not scored", () => {
    expect(score([row("killed"), row("killed"), row("survived"), row("equivalent"), row("stale"), row("broken")])).toEqual({
      killed: 2,
      survived: 1,
      stale: 1,
      broken: 1,
      equivalent: 1,
      scored: 4,
      score: 0.5,
    });
  });
});

describe("the kept list", () => {
  test("ids are unique and every mutant names its file, its own tests and at least one edit", () => {
    expect(new Set(MUTANTS.map((m) => m.id)).size).toBe(MUTANTS.length);
    expect(MUTANTS.length).toBeGreaterThanOrEqual(60);
    for (const m of MUTANTS) {
      expect({ id: m.id, ok: /^lib\/.+\.ts$/.test(m.file) && m.edits.length > 0 && m.tests.length > 0 && m.description.length > 0 }).toEqual({ id: m.id, ok: true });
      for (const t of m.tests) expect({ id: m.id, t, ok: t.startsWith("test/") && !t.includes("/e2e/") && !t.includes("/heavy/") }).toEqual({ id: m.id, t, ok: true });
    }
  });
  test("the ten rows of issue 22's table are all in the list", () => {
    expect(MUTANTS.filter((m) => m.issueRow !== undefined).map((m) => m.issueRow).sort((a, b) => a! - b!)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
