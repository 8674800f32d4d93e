// The HTML audit report in a real browser (Debian's Chromium, driven by puppeteer-core).
//
// Builds a repository whose secrets entered the history on fixed dates, scans it with --history and
// --verify against a fake Slack API on 127.0.0.1 (some tokens live with an owner, one revoked), writes
// the JSON and the HTML reports, then loads the HTML from disk with every network request refused and
// checks that:
//   - it loads with no console error, no page error and no request for anything outside the file;
//   - the numbers on the page are the JSON report's (findings, secrets, live, dead, unknown, never
//     expiring, providers);
//   - no planted secret appears in the page's text or source;
//   - the owner filter narrows the owner groups to one person.
// It saves a screenshot for the README.
//
// Usage: node tests/browser/report.mjs KEYSWEEP_BIN SCREENSHOT_PNG
// Needs: CHROMIUM (default /usr/bin/chromium), puppeteer-core in NODE_PATH or ./node_modules, git.

import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const puppeteer = require("puppeteer-core");

const [bin, screenshot] = process.argv.slice(2);
if (!bin || !screenshot) {
  console.error("usage: report.mjs KEYSWEEP_BIN SCREENSHOT_PNG");
  process.exit(2);
}
const fail = (msg) => {
  console.error(`report.mjs: FAIL: ${msg}`);
  process.exit(1);
};

// Fake Slack tokens of real shape, random, free of the placeholder words the engine drops.
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const pick = (a, n) => Array.from({ length: n }, () => a[Math.floor(Math.random() * a.length)]).join("");
const slackBot = () => `xoxb-${pick("123456789", 1)}${pick("0123456789", 9)}-${pick("123456789", 1)}${pick("0123456789", 12)}-${pick(ALNUM, 24)}`;

const work = mkdtempSync(join(tmpdir(), "keysweep-html-"));
const repo = join(work, "repo");
mkdirSync(repo);
const git = (args, date) =>
  execFileSync("git", args, {
    cwd: repo,
    env: {
      ...process.env,
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "Ada Tester",
      GIT_AUTHOR_EMAIL: "ada@tests.invalid",
      GIT_COMMITTER_NAME: "Ada Tester",
      GIT_COMMITTER_EMAIL: "ada@tests.invalid",
      ...(date ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}),
    },
  });
git(["init", "-q", "-b", "main"]);
const live = [slackBot(), slackBot()];
const revoked = slackBot();
const tokens = [...live, revoked];
writeFileSync(join(repo, "a.env"), `SLACK=${live[0]}\n`);
git(["add", "-A"]);
git(["commit", "-q", "-m", "first", "--no-verify"], "2024-01-05T10:00:00Z");
writeFileSync(join(repo, "b.env"), `SLACK=${live[1]}\nOLD=${revoked}\n`);
// A hostile file name: markup must be shown as text, never run.
writeFileSync(join(repo, "<img src=x onerror=alert(1)>.env"), `X=${live[1]}\n`);
git(["add", "-A"]);
git(["commit", "-q", "-m", "second", "--no-verify"], "2024-06-05T10:00:00Z");
// The first token leaves the history's HEAD in September: its timeline bar ends there.
writeFileSync(join(repo, "a.env"), "SLACK=${SLACK_TOKEN}\n");
git(["add", "-A"]);
git(["commit", "-q", "-m", "third", "--no-verify"], "2024-09-05T10:00:00Z");

// The fake Slack Web API: auth.test answers for the live tokens with their owner, revoked otherwise.
const owners = { [live[0]]: "alice", [live[1]]: "bob" };
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const token = (req.headers.authorization || "").replace(/^Bearer /, "");
    res.setHeader("content-type", "application/json");
    if (req.url === "/api/auth.test" && owners[token]) {
      res.end(JSON.stringify({ ok: true, team: "Acme", team_id: "T0ACME", user: owners[token], user_id: `U${owners[token].toUpperCase()}` }));
    } else if (req.url === "/api/auth.test") {
      res.end(JSON.stringify({ ok: false, error: "token_revoked" }));
    } else {
      res.statusCode = 404;
      res.end("{}");
    }
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const endpoint = `slack=http://127.0.0.1:${server.address().port}`;

// Asynchronous: the fake server answers from this process's event loop while keysweep runs.
const scan = (format, out) =>
  new Promise((resolve) => {
    const child = spawn(bin, ["scan", repo, "--history", "--verify", "--endpoint", endpoint, "--quiet", "-f", format, "-o", out]);
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => {
      if (code !== 1) fail(`scan -f ${format} exited ${code}: ${err}`);
      resolve();
    });
  });
const jsonPath = join(work, "report.json");
const htmlPath = join(work, "report.html");
// Two scans, same repository, same answers from the fake: the JSON is what the page must agree with.
await scan("json", jsonPath);
await scan("html", htmlPath);
server.close();
const report = JSON.parse(readFileSync(jsonPath, "utf8"));

// Expected numbers, from the JSON report.
const bySecret = new Map();
for (const f of report.findings) bySecret.set(`${f.rule_id}\u0000${f.secret_sha256}`, f);
const secrets = [...bySecret.values()];
const status = (f) => (f.verification ? f.verification.status : "not_checked");
const dead = new Set(["invalid", "revoked", "expired"]);
const expected = {
  findings: String(report.findings.length),
  secrets: String(secrets.length),
  live: String(secrets.filter((f) => status(f) === "live").length),
  dead: String(secrets.filter((f) => dead.has(status(f))).length),
  unknown: String(secrets.filter((f) => status(f) !== "live" && !dead.has(status(f))).length),
  "never-expiring": String(secrets.filter((f) => status(f) === "live" && f.verification.never_expires).length),
  "at-head": String(secrets.filter((f) => f.exposure && f.exposure.at_head).length),
};
if (expected["at-head"] !== "2") fail(`unexpected exposure in the JSON: ${JSON.stringify(expected)}`);
if (expected.live !== "2" || expected.dead !== "1") fail(`unexpected verification in the JSON: ${JSON.stringify(expected)}`);

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const problems = [];
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console error: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("dialog", async (d) => { problems.push(`a dialog opened (script ran from the report's data): ${d.message()}`); await d.dismiss(); });
  await page.setRequestInterception(true);
  page.on("request", (req) => {
    if (req.url().startsWith("file://") || req.url().startsWith("data:")) return req.continue();
    problems.push(`request for ${req.url()}`);
    return req.abort();
  });
  await page.goto(`file://${htmlPath}`, { waitUntil: "load" });

  const shown = await page.$$eval("[data-metric]", (els) => Object.fromEntries(els.map((e) => [e.dataset.metric, e.textContent.trim()])));
  for (const [k, v] of Object.entries(expected)) {
    if (shown[k] !== v) problems.push(`metric ${k}: page shows ${shown[k]}, JSON says ${v}`);
  }
  const providers = await page.$$eval("#providers tr[data-provider]", (rows) => rows.map((r) => [r.dataset.provider, r.children[1].textContent]));
  const perProvider = {};
  for (const f of secrets) perProvider[f.provider] = (perProvider[f.provider] || 0) + 1;
  for (const [p, n] of providers) if (String(perProvider[p]) !== n) problems.push(`provider ${p}: page ${n}, JSON ${perProvider[p]}`);
  if (providers.length !== Object.keys(perProvider).length) problems.push("providers table rows differ from the JSON");

  const text = await page.evaluate(() => document.body.innerText);
  const source = readFileSync(htmlPath, "utf8");
  for (const t of tokens) {
    if (text.includes(t) || source.includes(t)) problems.push("a planted secret appears in the page");
    if (text.includes(t.slice(10))) problems.push("most of a planted secret appears in the page");
  }
  if (!text.includes("<img src=x onerror=alert(1)>.env")) problems.push("the hostile file name is not shown as text");
  // The removed token's row says when it left HEAD, as the JSON does.
  const removed = secrets.find((f) => f.exposure && !f.exposure.at_head);
  const leftDay = removed.exposure.removed_date.slice(0, 10);
  const oldest = await page.$$eval("#oldest tr", (rows) => rows.map((r) => r.innerText));
  if (!oldest.some((r) => r.includes(leftDay))) problems.push(`the removal date ${leftDay} is not in the oldest-exposures table`);

  const owners = await page.$$eval(".owner", (els) => els.length);
  await page.type("#owner-filter", "bob");
  const visible = await page.$$eval(".owner", (els) => els.filter((e) => !e.hidden).map((e) => e.dataset.owner));
  if (owners < 2 || visible.length !== 1 || !visible[0].includes("bob")) problems.push(`owner filter: ${owners} groups, visible after filtering: ${visible}`);
  await page.$eval("#owner-filter", (e) => { e.value = ""; e.dispatchEvent(new Event("input")); });
  await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await browser.close();
}
if (problems.length) fail(problems.join("\n"));
console.log(`report.mjs: ok: ${expected.secrets} secrets, ${expected.live} live, ${expected.dead} dead; screenshot ${screenshot}`);
