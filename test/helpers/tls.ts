// Certificates for TLS failure tests, made with the openssl CLI in a temp folder: a self-signed
// certificate for 127.0.0.1 and localhost (an unknown CA unless trusted with NODE_EXTRA_CA_CERTS),
// one that names another host, and one that expired in 2020 (signed with `openssl ca`, since
// `openssl req` cannot backdate).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface CertPair {
  cert: string;
  key: string;
}

function run(cmd: string[], cwd: string): void {
  const r = Bun.spawnSync(cmd, { cwd, stderr: "pipe", stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
}

function selfSigned(dir: string, name: string, cn: string, san: string): CertPair {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", `/CN=${cn}`, "-addext", `subjectAltName=${san}`, "-keyout", key, "-out", cert], dir);
  return { cert, key };
}

/** Three pairs in `dir`: `good` (127.0.0.1, localhost), `otherName` (other.invalid), `expired`. */
export function makeCerts(dir: string): { good: CertPair; otherName: CertPair; expired: CertPair } {
  mkdirSync(dir, { recursive: true });
  const good = selfSigned(dir, "good", "localhost", "DNS:localhost,IP:127.0.0.1");
  const otherName = selfSigned(dir, "other", "other.invalid", "DNS:other.invalid");
  const ca = join(dir, "ca");
  mkdirSync(ca, { recursive: true });
  writeFileSync(join(ca, "index.txt"), "");
  writeFileSync(join(ca, "serial"), "01\n");
  writeFileSync(
    join(ca, "ca.cnf"),
    "[ca]\ndefault_ca=d\n[d]\ndir=.\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\n[p]\ncommonName=supplied\n",
  );
  const expired = { cert: join(dir, "expired.crt"), key: good.key };
  run(["openssl", "req", "-new", "-key", good.key, "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-out", join(ca, "r.csr")], ca);
  run(["openssl", "ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", good.key, "-in", "r.csr", "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-out", expired.cert], ca);
  return { good, otherName, expired };
}
