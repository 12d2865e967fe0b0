// Properties over every parameter of every pack verb (with the packs' example settings): whatever
// string a caller sends, a value the constraint admits renders into argv without bringing a
// shell or option character, "/", "..", whitespace, a newline or a brace with it, unless the
// value is one the operator fixed at `verbs add` (an enum from a setting, such as an http URL).
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { admits } from "../../lib/capability/constraint.ts";
import { renderArgv } from "../../lib/exec/argv.ts";
import { buildPackToml } from "../../lib/host/packs/pack.ts";
import { allPacks } from "../../lib/host/packs/registry.ts";

const HOSTILE_CHARS = [..." \t\n\r/.-;|&$`'\"\\<>(){}[]*?~!#%=,:@+"].concat(["\u0000", "\u007f", "é", "\u2028"]);
const value = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.array(fc.constantFrom(...HOSTILE_CHARS, "a", "b", "0", "9", "web", "shop", "1"), { maxLength: 20 }).map((a) => a.join("")),
  fc.integer({ min: -100000, max: 100000 }).map(String),
);

const SAFE_VALUE = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/; // what a caller-chosen value may look like

for (const pack of allPacks()) {
  const sets = pack.settings.map((s) => `${s.key}=${Array.isArray(s.example) ? s.example.join(",") : s.example}`);
  const { catalog } = buildPackToml(pack, { setFlags: sets });
  const fixed = (c: { kind: string; values?: string[] }) => (c.kind === "enum" ? new Set(c.values) : new Set<string>());

  describe(`pack ${pack.name}: properties`, () => {
    test("an admitted value is either operator-fixed or a plain word, and renders in place", () => {
      for (const verb of catalog.values()) {
        const base: Record<string, string> = {};
        for (const [k, p] of Object.entries(verb.params)) base[k] = p.default ?? (p.constraint.kind === "enum" ? p.constraint.values[0]! : "web-1");
        const plain = renderArgv(verb, base);
        for (const [name, p] of Object.entries(verb.params)) {
          fc.assert(
            fc.property(value, (v) => {
              if (!admits(p.constraint, v)) {
                expect(() => renderArgv(verb, { ...base, [name]: v })).toThrow();
                return;
              }
              if (!fixed(p.constraint).has(v)) expect(v).toMatch(SAFE_VALUE);
              const argv = renderArgv(verb, { ...base, [name]: v });
              expect(argv.length).toBe(plain.length); // one element per element, always
              expect(argv[0]).toBe(plain[0]);
            }),
            { numRuns: 200 },
          );
        }
      }
    });
  });
}
