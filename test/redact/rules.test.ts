// The built-in redaction rules (lib/redact/rules.ts), one row per rule: lines it must redact (with
// the exact output) and look-alike lines it must leave alone. Every rule id in the table has rows,
// so a rule added without examples fails here.
import { describe, expect, test } from "bun:test";
import { BUILTIN_RULES } from "../../lib/redact/rules.ts";
import { builtinRuleSet, PRIVATE_KEY_RULE } from "../../lib/redact/scanner.ts";
import { redactText } from "../../lib/redact/stream.ts";
import { ANTHROPIC, AWS_ID, AWS_SECRET, GH_CLASSIC, GH_FINE, GITLAB, GOOGLE, JWT, NPM, OPENAI, OPENAI_LEGACY, PEM_BODY, SLACK_BOT, SLACK_HOOK, STRIPE } from "./corpus/secrets.ts";

const R = (id: string) => `[REDACTED:${id}]`;

/** [rule id, [input line, expected output][], lines that must pass unchanged] */
const TABLE: [string, [string, string][], string[]][] = [
  ["aws-access-key-id",
    [[`AWS_ACCESS_KEY_ID=${AWS_ID}`, `AWS_ACCESS_KEY_ID=${R("aws-access-key-id")}`], [`"AccessKeyId": "ASIAY34FZKBOKMUTVV7A"`, `"AccessKeyId": "${R("aws-access-key-id")}"`]],
    ["AKIA is a prefix", "XAKIAIOSFODNN7EXAMPLE1 (embedded in a longer word)", "akiaiosfodnn7example"]],
  ["aws-secret-access-key",
    [[`aws_secret_access_key = ${AWS_SECRET}`, `aws_secret_access_key = ${R("aws-secret-access-key")}`], [`AWS_SECRET_ACCESS_KEY="${AWS_SECRET}"`, `AWS_SECRET_ACCESS_KEY="${R("aws-secret-access-key")}"`]],
    ["aws_secret_access_key is read from the environment", "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}"]],
  ["github-token",
    [[`GITHUB_TOKEN=${GH_CLASSIC}`, `GITHUB_TOKEN=${R("github-token")}`], [`git clone https://x-access-token:${GH_CLASSIC.replace("ghp_", "ghs_")}@github.com/o/r`, `git clone https://x-access-token:${R("github-token")}@github.com/o/r`]],
    ["ghp_short is not a token", "see https://github.com/org/repo/blob/main/README.md"]],
  ["github-fine-grained-pat", [[`pat ${GH_FINE} used`, `pat ${R("github-fine-grained-pat")} used`]], ["github_pat_ is the prefix of fine-grained tokens"]],
  ["gitlab-token", [[`PRIVATE-TOKEN: ${GITLAB}`, `PRIVATE-TOKEN: ${R("gitlab-token")}`]], ["glpat- tokens expire", "gitlab runner registered"]],
  ["slack-token", [[`slack token ${SLACK_BOT}`, `slack token ${R("slack-token")}`]], ["xoxo, gossip girl", "the xox- prefix"]],
  ["slack-webhook", [[`posting to ${SLACK_HOOK}`, `posting to ${R("slack-webhook")}`]], ["see https://hooks.slack.com/ for docs", "https://api.slack.com/methods/chat.postMessage"]],
  ["stripe-live-key", [[`STRIPE_KEY=${STRIPE}`, `STRIPE_KEY=${R("stripe-live-key")}`]], ["sk_test_4eC39HqLyjWDarjtT1zdp7dc is a test key", "pk_live_4eC39HqLyjWDarjtT1zdp7dc is publishable"]],
  ["google-api-key", [[`key=${GOOGLE}&q=x`, `key=${R("google-api-key")}&q=x`]], ["AIza is how Google keys start", "AIzaSyShort"]],
  ["openai-api-key", [[`OPENAI_API_KEY=${OPENAI}`, `OPENAI_API_KEY=${R("openai-api-key")}`], [`using ${OPENAI_LEGACY}`, `using ${R("openai-api-key")}`]], ["disk-usage 93%", "task-runner started", "sk-learn 1.5"]],
  ["anthropic-api-key", [[`ANTHROPIC_API_KEY=${ANTHROPIC}`, `ANTHROPIC_API_KEY=${R("anthropic-api-key")}`]], ["sk-ant- keys are long"]],
  ["npm-token", [[`//registry.npmjs.org/:_authToken=${NPM}`, `//registry.npmjs.org/:_authToken=${R("npm-token")}`]], ["npm_config_cache=/tmp/npm", "npm_lifecycle_event=test"]],
  ["jwt", [[`id_token ${JWT} issued`, `id_token ${R("jwt")} issued`], [`Authorization: Bearer ${JWT}`, `Authorization: Bearer ${R("jwt")}`]], ["eyJ alone", "eyJhbGciOiJIUzI1NiJ9 (a header without a payload)"]],
  ["authorization-bearer", [["Authorization: Bearer 4f9c2b1a8e7d6c5b4a39281706f5e4d3", `Authorization: Bearer ${R("authorization-bearer")}`], ["auth bearer abcdefghijklmnopqrstuvwx", `auth bearer ${R("authorization-bearer")}`]], ["Bearer authentication enabled", "WWW-Authenticate: Bearer realm=\"api\""]],
  ["authorization-basic", [["Authorization: Basic dXNlcjpwYXNzd29yZA==", `Authorization: Basic ${R("authorization-basic")}`], ["proxy-authorization: basic YWxhZGRpbjpvcGVuc2VzYW1l", `proxy-authorization: basic ${R("authorization-basic")}`]], ["basic configuration complete", "Basic auth disabled"]],
  ["url-password", [["DATABASE_URL=postgres://app:s3cr3t-Pa55@db.internal:5432/app", `DATABASE_URL=postgres://app:${R("url-password")}@db.internal:5432/app`], ["redis://:hunter2@cache:6379/0", `redis://:${R("url-password")}@cache:6379/0`]],
    ["GET https://example.com:8443/path?q=1", "ssh://git@github.com/org/repo.git", "postgres://app:****@db/app", "http://[::1]:8080/healthz"]],
  ["password-assignment",
    [["password=hunter2", `password=${R("password-assignment")}`], ['{"user":"bob","password":"correct horse"}', `{"user":"bob","password":"${R("password-assignment")}"}`], ["  db_password: 'p@ss:w0rd'", `  db_password: '${R("password-assignment")}'`], ["PGPASSWORD=abc123 psql", `PGPASSWORD=${R("password-assignment")} psql`]],
    ["Failed password for root from 10.0.0.1 port 22 ssh2", "password changed for user bob", "password: ", "password=******", "password_hash_algorithm=argon2id", "passwords: 3"]],
  ["secret-assignment", [["client_secret=Zx8Qw2Er4Ty6Ui8Op0As", `client_secret=${R("secret-assignment")}`], ["SECRET_KEY_BASE: 9f8e7d6c5b4a", `SECRET_KEY_BASE: ${R("secret-assignment")}`]], ["secretary=alice", "kubectl get secrets", "secret: {"]],
  ["token-assignment", [["access_token=ya29.a0AfH6SMBx", `access_token=${R("token-assignment")}`], ['"refresh_token": "1//0gLx-abc"', `"refresh_token": "${R("token-assignment")}"`]],
    ["token_count=42", "max_tokens: 100", "token: expired", "tokens=5", "token_type=bearer", "csrf token mismatch"]],
  ["api-key-assignment", [["x-api-key: 5f4dcc3b5aa765d61d8327deb882cf99", `x-api-key: ${R("api-key-assignment")}`], ["apiKey = 'abc-123-def'", `apiKey = '${R("api-key-assignment")}'`]], ["api_key_id=7", "the api key rotation job ran"]],
];

describe("each built-in rule", () => {
  const set = builtinRuleSet();
  for (const [id, positives, negatives] of TABLE) {
    test(`${id}: redacts its shapes and only the secret part`, () => {
      for (const [input, expected] of positives) {
        const r = redactText(set, input);
        expect(r.text).toBe(expected);
        expect(r.counts).toEqual({ [id]: 1 });
      }
    });
    test(`${id}: leaves look-alikes byte for byte`, () => {
      for (const line of negatives) expect(redactText(set, line)).toEqual({ text: line, counts: {} });
    });
  }

  test("every rule has rows in the table", () => {
    const covered = new Set(TABLE.map(([id]) => id));
    expect(BUILTIN_RULES.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
  });
});

describe("letter case of keys and headers", () => {
  const set = builtinRuleSet();
  const rows: [string, string][] = [
    ["PASSWORD=hunter2x", "password-assignment"],
    ["Password: hunter2x", "password-assignment"],
    ["dbPassword=hunter2x", "password-assignment"],
    ["SSH_PASSPHRASE=correct-horse", "password-assignment"],
    ["clientSecret=Zx8Qw2Er4Ty6", "secret-assignment"],
    ["accessToken: ya29.a0AfH6SMBx", "token-assignment"],
    ["GITHUB_TOKEN=abcdef123456", "token-assignment"],
    ["ApiKey: 5f4dcc3b5aa765d6", "api-key-assignment"],
    ["X-API-KEY: 5f4dcc3b5aa765d6", "api-key-assignment"],
    ["PRIVATE_KEY=abcdef123456", "api-key-assignment"],
    ["AUTHORIZATION: BASIC dXNlcjpwYXNzd29yZA==", "authorization-basic"],
    ["authorization: bearer abcdefghijklmnopqrstuvwxyz12", "authorization-bearer"],
    ["BEARER abcdefghijklmnopqrstuvwxyz12", "authorization-bearer"],
  ];
  for (const [line, rule] of rows)
    test(`${line.split(/[=:]/)[0]} (${rule})`, () => {
      expect(redactText(set, line).counts).toEqual({ [rule]: 1 });
    });
});

describe("private key blocks", () => {
  const set = builtinRuleSet();
  const body = PEM_BODY;
  for (const kind of ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "PGP PRIVATE KEY BLOCK"]) {
    test(`a ${kind} block across lines becomes one marker`, () => {
      const text = `before\n-----BEGIN ${kind}-----\n${body.join("\n")}\n-----END ${kind}-----\nafter\n`;
      expect(redactText(set, text)).toEqual({ text: `before\n${R(PRIVATE_KEY_RULE)}\nafter\n`, counts: { [PRIVATE_KEY_RULE]: 1 } });
    });
  }
  test("a block inside one JSON string, and text around it, on one line", () => {
    const line = `{"key":"-----BEGIN PRIVATE KEY-----\\n${body[0]}\\n-----END PRIVATE KEY-----\\n","password":"x1y2z3"}`;
    expect(redactText(set, line).text).toBe(`{"key":"${R(PRIVATE_KEY_RULE)}\\n","password":"${R("password-assignment")}"}`);
  });
  test("public keys and certificates are not secrets", () => {
    for (const kind of ["PUBLIC KEY", "CERTIFICATE", "RSA PUBLIC KEY"]) {
      const text = `-----BEGIN ${kind}-----\n${body[0]}\n-----END ${kind}-----\n`;
      expect(redactText(set, text)).toEqual({ text, counts: {} });
    }
  });
  test("a block whose END never comes hides the rest of the output (fail closed)", () => {
    expect(redactText(set, `a\n-----BEGIN RSA PRIVATE KEY-----\n${body[0]}\nmore\n`).text).toBe(`a\n${R(PRIVATE_KEY_RULE)}`);
  });
});

describe("overlaps", () => {
  const set = builtinRuleSet();
  test("one secret matched by two rules is one marker, named by the first-listed rule", () => {
    expect(redactText(set, `token=${GH_CLASSIC}`)).toEqual({ text: `token=${R("github-token")}`, counts: { "github-token": 1 } });
  });
  test("several secrets on one line are counted each", () => {
    const r = redactText(set, `AWS_ACCESS_KEY_ID=${AWS_ID} Authorization: Bearer ${JWT} password=x9y8z7`);
    expect(r.counts).toEqual({ "aws-access-key-id": 1, jwt: 1, "password-assignment": 1 });
  });
  test("a marker already in the text is not redacted again", () => {
    const line = `password=${R("password-assignment")} token=[REDACTED]`;
    expect(redactText(set, line)).toEqual({ text: line, counts: {} });
  });
});
