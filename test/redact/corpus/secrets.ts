// One line per secret kind the built-in rules cover (SPEC.md §17.3), with the secret in it: the
// unit tests and the end-to-end redaction test (test/e2e/redaction.test.ts) both print these and
// check that only the marker arrives. Values are fake but well formed (vendor examples where
// the vendor publishes one); the "+" splits keep whole tokens out of this source file.
export const AWS_ID = "AKIAIOSFODNN7EXAMPLE";
export const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
export const GH_CLASSIC = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5";
export const GH_FINE = "github_pat_" + "11ABCDEFG0123456789abc_" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345678";
export const GITLAB = "glpat-" + "xY9zA8bC7dE6fG5hI4jK";
export const SLACK_BOT = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx";
export const SLACK_HOOK = "https://hooks.slack.com/services/" + "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";
export const STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc";
export const GOOGLE = "AIza" + "SyA-1234567890abcdefghijklmnopqrstu";
export const OPENAI = "sk-proj-" + "Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Df3Hj5Kl7Np9";
export const OPENAI_LEGACY = "sk-" + "aB3dE5gH7jK9mN1pQ3sT" + "T3BlbkFJ" + "vW7yZ9bC1dF3hJ5kL7nP";
export const ANTHROPIC = "sk-ant-api03-" + "Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Df3Hj5Kl7Np9Rs1Tu3Vw5Xy7Za9Bc1De3Fg5Hi7Jk9Lm1No3Pq5-AAAA";
export const NPM = "npm_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5";
export const JWT =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0." + "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
export const PEM_BODY = ["MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2Bdz4x9GkXmZKo1Lwv0H1zkpJ2eE", "3x5bWpVqZHc8nD9tJk2aR7sY6vL0qN4mF1cT8uW3eB5oI7pA9sD2fG4hJ6kL8zX"];

export interface SecretLine {
  rule: string;
  line: string;
  /** What must not reach the recipient. */
  secret: string;
}

export const SECRET_LINES: SecretLine[] = [
  { rule: "aws-access-key-id", line: `AWS_ACCESS_KEY_ID=${AWS_ID}`, secret: AWS_ID },
  { rule: "aws-secret-access-key", line: `aws_secret_access_key = ${AWS_SECRET}`, secret: AWS_SECRET },
  { rule: "github-token", line: `GITHUB_TOKEN=${GH_CLASSIC}`, secret: GH_CLASSIC },
  { rule: "github-fine-grained-pat", line: `using ${GH_FINE} for the API`, secret: GH_FINE },
  { rule: "gitlab-token", line: `PRIVATE-TOKEN: ${GITLAB}`, secret: GITLAB },
  { rule: "slack-token", line: `slack bot ${SLACK_BOT} connected`, secret: SLACK_BOT },
  { rule: "slack-webhook", line: `posting alert to ${SLACK_HOOK}`, secret: SLACK_HOOK },
  { rule: "stripe-live-key", line: `STRIPE_KEY=${STRIPE}`, secret: STRIPE },
  { rule: "google-api-key", line: `GET /maps?key=${GOOGLE}&q=berlin`, secret: GOOGLE },
  { rule: "openai-api-key", line: `OPENAI_API_KEY=${OPENAI}`, secret: OPENAI },
  { rule: "openai-api-key", line: `legacy key ${OPENAI_LEGACY}`, secret: OPENAI_LEGACY },
  { rule: "anthropic-api-key", line: `ANTHROPIC_API_KEY=${ANTHROPIC}`, secret: ANTHROPIC },
  { rule: "npm-token", line: `//registry.npmjs.org/:_authToken=${NPM}`, secret: NPM },
  { rule: "jwt", line: `Authorization: Bearer ${JWT}`, secret: JWT.split(".")[1]! },
  { rule: "authorization-bearer", line: "Authorization: Bearer 4f9c2b1a8e7d6c5b4a39281706f5e4d3", secret: "4f9c2b1a8e7d6c5b4a39281706f5e4d3" },
  { rule: "authorization-basic", line: "Authorization: Basic dXNlcjpwYXNzd29yZA==", secret: "dXNlcjpwYXNzd29yZA" },
  { rule: "url-password", line: "DATABASE_URL=postgres://app:s3cr3t-Pa55@db.internal:5432/app", secret: "s3cr3t-Pa55" },
  { rule: "password-assignment", line: "password=hunter2-Xy9", secret: "hunter2-Xy9" },
  { rule: "password-assignment", line: '{"user":"bob","password":"correct horse battery"}', secret: "correct horse battery" },
  { rule: "password-assignment", line: "  db_password: 'p@ss:w0rd-Q7'", secret: "p@ss:w0rd-Q7" },
  { rule: "secret-assignment", line: "client_secret=Zx8Qw2Er4Ty6Ui8Op0As", secret: "Zx8Qw2Er4Ty6Ui8Op0As" },
  { rule: "token-assignment", line: "access_token=ya29.a0AfH6SMBxQz", secret: "ya29.a0AfH6SMBxQz" },
  { rule: "api-key-assignment", line: "x-api-key: 5f4dcc3b5aa765d61d8327deb882cf99", secret: "5f4dcc3b5aa765d61d8327deb882cf99" },
];

/** A private key block as a verb would print it. */
export function pemBlock(kind = "RSA PRIVATE KEY"): string {
  return `-----BEGIN ${kind}-----\n${PEM_BODY.join("\n")}\n-----END ${kind}-----\n`;
}
