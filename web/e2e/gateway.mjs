// Helpers for the browser tests: build the real gateway binary, run it on a
// fresh SQLite data dir and a free port, and drive Debian's Chromium.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const run = promisify(execFile);
export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const resultsDir = resolve(import.meta.dirname, '..', 'test-results');
export const docsDir = join(repoRoot, 'docs', 'screenshots');

export async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

/** Builds the gateway into a temporary folder; the binary embeds web/dist as built. */
export async function buildGateway() {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-e2e-'));
  const bin = join(dir, 'sluice');
  await run('go', ['build', '-o', bin, '.'], { cwd: repoRoot, maxBuffer: 16 << 20 });
  return { dir, bin };
}

/** Runs `sluice admin create` against the data dir (before the server starts). */
export async function createUser(bin, dataDir, username, role, password) {
  await run(bin, ['admin', 'create', '--username', username, '--role', role], {
    env: { ...process.env, SLUICE_DATA_DIR: dataDir, SLUICE_ADMIN_PASSWORD: password },
  });
}

export async function startGateway({ bin, dataDir, password, env = {}, port }) {
  port ??= await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logs = [];
  const proc = spawn(bin, [], {
    env: { ...process.env, SLUICE_DATA_DIR: dataDir, SLUICE_ADMIN_PASSWORD: password, SLUICE_ADDR: `127.0.0.1:${port}`, SLUICE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d) => logs.push(String(d)));
  proc.stderr.on('data', (d) => logs.push(String(d)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode != null) throw new Error(`gateway exited ${proc.exitCode}:\n${logs.join('')}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`gateway not ready:\n${logs.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    logs,
    async stop() {
      if (proc.exitCode != null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // Playwright starts it with a new empty profile; these keep Chromium
    // off the network, which this machine's sandbox refuses anyway.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** An OpenAI-compatible provider that answers every chat completion with
 * fixed usage (by default 1M tokens in and out, 4,000 written to cache), and
 * its model list, with rate-limit headers. */
export async function startFakeUpstream({ usage = { prompt_tokens: 1000000, completion_tokens: 1000000, total_tokens: 2000000, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 4000 } } } = {}) {
  const { createServer: createHTTP } = await import('node:http');
  const requests = [];
  const server = createHTTP((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-ratelimit-limit-requests', '500');
      res.setHeader('x-ratelimit-remaining-requests', '499');
      res.setHeader('x-ratelimit-reset-requests', '120ms');
      res.setHeader('x-ratelimit-limit-tokens', '200000');
      res.setHeader('x-ratelimit-remaining-tokens', '150000');
      res.setHeader('x-ratelimit-reset-tokens', '6m0s');
      if (req.url.endsWith('/models')) {
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model' }] }));
        return;
      }
      res.end(JSON.stringify({
        id: 'chatcmpl-e2e', object: 'chat.completion', created: 1, model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the fake upstream.' }, finish_reason: 'stop' }],
        usage,
      }));
    });
  });
  // Idle connections outlive the gateway's (90 s), as a provider's do:
  // Node's default of 5 s would close one just as the gateway reuses it
  // for a POST, which no client can safely send again.
  server.keepAliveTimeout = 120_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, requests, close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); } };
}

/** Builds and starts the test OpenID Connect provider (internal/e2eoidc),
 * which signs in one user without asking; returns its issuer and client. */
export async function startOIDCProvider(dir, { email = 'sam@example.com' } = {}) {
  const bin = join(dir, 'e2eoidc');
  await run('go', ['build', '-o', bin, './internal/e2eoidc'], { cwd: repoRoot, maxBuffer: 16 << 20 });
  const proc = spawn(bin, ['-email', email], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise((ok, fail) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += String(d);
      if (out.includes('\n')) ok(out.split('\n')[0]);
    });
    proc.once('exit', (code) => fail(new Error(`OIDC provider exited ${code}`)));
  });
  return {
    ...JSON.parse(first),
    async stop() {
      if (proc.exitCode != null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** A full-page screenshot into web/test-results, for looking at a run. */
export async function screenshot(page, name) {
  await mkdir(resultsDir, { recursive: true });
  await page.screenshot({ path: join(resultsDir, `${name}.png`), fullPage: true });
}

export async function cleanup(...dirs) {
  await Promise.all(dirs.filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
}

/** Stops what a test file started and removes its folders; prints the
 * gateway's log when a test failed. */
export async function teardown({ browser, gateway, upstream, dirs = [] }) {
  await browser?.close();
  await gateway?.stop();
  await upstream?.close();
  if (process.exitCode && gateway) console.error(gateway.logs.join(''));
  await cleanup(...dirs);
}

/** Pages for browser tests against one gateway. env() gives the browser
 * and the gateway once before() has started them. newPage opens a page in
 * a fresh context (clipboard allowed, page errors and console errors
 * other than 401s collected in page.errors); e2e is a test whose pages
 * are screenshotted when it fails and closed after it. */
export function pages(env) {
  let open = [];
  async function newPage({ width = 1280, height = 860 } = {}) {
    const { browser, gateway } = env();
    const context = await browser.newContext({ viewport: { width, height }, baseURL: gateway.url });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gateway.url });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && !/401|Unauthorized/.test(m.text()) && errors.push(m.text()));
    page.errors = errors;
    open.push(page);
    return page;
  }
  function e2e(name, fn) {
    test(name, async (t) => {
      open = [];
      try {
        await fn(t);
      } catch (err) {
        for (const [i, page] of open.entries()) await screenshot(page, `FAILED-${name.replace(/\W+/g, '-')}-${i}`).catch(() => {});
        throw err;
      } finally {
        for (const page of open) await page.context().close().catch(() => {});
      }
    });
  }
  return { newPage, e2e };
}

/** Logs a page in through the login form and waits for the overview. */
export async function logIn(page, username, password) {
  await page.goto('/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
}

/** Runs a GraphQL operation on the gateway's admin API with a login token
 * (none for login itself); an answer with errors throws. */
export async function graphql(url, token, query, variables = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(body.errors)}`);
  return body.data;
}
