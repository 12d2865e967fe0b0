import { defineCommand } from "citty";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fingerprint, verificationCode } from "../../lib/crypto/fingerprint.ts";
import { ensurePrivateDir } from "../../lib/host/home.ts";
import { generateDaemonIdentity, readDaemonIdentity, writeDaemonIdentity } from "../../lib/host/keyfile.ts";
import { sampleCatalog } from "../../lib/host/sample-catalog.ts";
import { homeArg, jsonArg } from "../args.ts";
import { log, printJson } from "../output.ts";
import { homeFrom, withStore } from "./_shared.ts";

const CONFIG_TEMPLATE = `# OpenScope daemon configuration (flags --relay/--relay-token win over these)
# relay = "wss://relay.example.com"
# relay_token = "the deployment token the relay operator gave you"
`;

export default defineCommand({
  meta: { name: "init", description: "Create the daemon identity keys, the database and a sample verb catalog; print the fingerprint" },
  args: { ...homeArg, ...jsonArg },
  async run({ args }) {
    const paths = homeFrom(args);
    const created: string[] = [];
    ensurePrivateDir(paths.stateDir);
    if (!existsSync(paths.configDir)) mkdirSync(paths.configDir, { recursive: true, mode: 0o755 });
    if (!existsSync(paths.identity)) {
      writeDaemonIdentity(paths.identity, generateDaemonIdentity());
      created.push(paths.identity);
    }
    const identity = readDaemonIdentity(paths.identity); // never overwritten: keys are read back
    const dbExisted = existsSync(paths.database);
    await withStore(paths, () => {});
    if (!dbExisted) created.push(paths.database);
    if (!existsSync(paths.catalog)) {
      const sampleDir = join(paths.stateDir, "sample");
      for (const d of ["logs", "run"]) mkdirSync(join(sampleDir, d), { recursive: true, mode: 0o755 });
      for (const svc of ["web", "api"]) {
        const f = join(sampleDir, "logs", `${svc}.log`);
        if (!existsSync(f)) {
          const lines = Array.from({ length: 200 }, (_, i) => `${new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()} ${svc} request ${i + 1} ok`);
          writeFileSync(f, lines.join("\n") + "\n", { mode: 0o644 });
        }
      }
      writeFileSync(paths.catalog, sampleCatalog(sampleDir), { mode: 0o644 });
      created.push(paths.catalog);
    }
    if (!existsSync(paths.config)) {
      writeFileSync(paths.config, CONFIG_TEMPLATE, { mode: 0o600 });
      created.push(paths.config);
    }
    const fp = fingerprint(identity.noisePublic, identity.signPublic);
    const code = verificationCode(identity.noisePublic, identity.signPublic);
    if (args.json) {
      printJson({ fingerprint: fp, code, home: paths.stateDir, created });
      return;
    }
    for (const c of created) log.success(`created ${c}`);
    if (created.length === 0) log.info("everything was already there; nothing overwritten");
    log.info(`daemon fingerprint: ${fp}`);
    log.info(`verification code: ${code}`);
  },
});
