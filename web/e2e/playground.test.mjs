// Browser tests of the built-in GraphQL playground against the real
// gateway binary, with every request to another origin refused: the
// explorer must work offline.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGateway, cleanup, createUser, launchBrowser, screenshot, startGateway } from './gateway.mjs';

const ADMIN_PASSWORD = 'e2e-admin-password-1';

let build, dataDir, gateway, browser;

before(async () => {
  build = await buildGateway();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-e2e-data-'));
  await createUser(build.bin, dataDir, 'admin', 'admin', ADMIN_PASSWORD);
  gateway = await startGateway({ bin: build.bin, dataDir, password: ADMIN_PASSWORD });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await gateway?.stop();
  if (process.exitCode && gateway) console.error(gateway.logs.join(''));
  await cleanup(dataDir, build?.dir);
});

/** A page on which every request to another origin is aborted and
 * recorded, as are console errors and uncaught exceptions. */
async function offlinePage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, baseURL: gateway.url });
  context.setDefaultTimeout(10_000);
  const outside = [];
  await context.route('**/*', (route) => {
    if (new URL(route.request().url()).origin === gateway.url) return route.continue();
    outside.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  return { page, errors, outside };
}

/** Runs fn on an offline page, screenshotting it when fn fails. */
async function withPage(name, fn) {
  const p = await offlinePage();
  try {
    await fn(p);
  } catch (err) {
    await screenshot(p.page, `FAILED-playground-${name}`).catch(() => {});
    throw err;
  } finally {
    await p.page.context().close();
  }
}

async function login(page) {
  await page.goto('/');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
}

/** Replaces the query editor's text (CodeMirror keeps its instance on its
 * wrapper element). */
async function setQuery(page, text) {
  await page.locator('.graphiql-query-editor .CodeMirror').evaluate((el, t) => el.CodeMirror.setValue(t), text);
}

const response = (page) => page.locator('.graphiql-response .CodeMirror');

describe('playground', () => {
  test('runs a query as the logged-in admin, offline, under its own CSP', async () => {
    await withPage('query', async ({ page, errors, outside }) => {
      await login(page);
      const res = await page.goto('/playground');
      assert.equal(res.status(), 200);
      const csp = res.headers()['content-security-policy'];
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /connect-src 'self'(;|$)/);
      assert.match(csp, /style-src 'self' 'nonce-[\w-]+'(;|$)/);
      assert.doesNotMatch(csp, /https?:|\*|unsafe-inline|unsafe-eval/);

      await page.locator('.graphiql-container .graphiql-query-editor .CodeMirror').waitFor();
      await setQuery(page, '{ viewer { username role } }');
      await page.getByRole('button', { name: /Execute query/ }).click();
      await response(page).getByText('"username": "admin"').waitFor();
      assert.match(await response(page).innerText(), /"role": "admin"/);
      await screenshot(page, 'playground');

      // The schema's documentation and the settings dialog open as well.
      await page.getByRole('button', { name: /Show Documentation Explorer/ }).click();
      await page.getByText('Root Types').waitFor();
      await page.getByRole('button', { name: /Open settings dialog/ }).click();
      await page.getByRole('dialog').getByText('Settings').first().waitFor();
      await page.keyboard.press('Escape');

      assert.deepEqual(outside, []);
      assert.deepEqual(errors, []);
    });
  });

  test('a typed Authorization header replaces the stored login', async () => {
    await withPage('header', async ({ page, errors }) => {
      await login(page);
      await page.goto('/playground');
      await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
      await page.getByRole('button', { name: 'Headers' }).click();
      await page.locator('.graphiql-editor-tool .CodeMirror').last()
        .evaluate((el) => el.CodeMirror.setValue('{"Authorization": "Bearer not-a-token"}'));
      await setQuery(page, '{ viewer { username } }');
      const sent = page.waitForRequest((r) => r.url().endsWith('/graphql') && r.method() === 'POST' && /viewer/.test(r.postData() ?? ''));
      await page.getByRole('button', { name: /Execute query/ }).click();
      assert.equal((await sent).headers().authorization, 'Bearer not-a-token');
      await response(page).getByText(/UNAUTHENTICATED|"viewer": null/).waitFor();
      assert.deepEqual(errors.filter((e) => !/401|Unauthorized/.test(e)), []);
    });
  });

  test('subscriptions go over the websocket with the login', async () => {
    await withPage('subscription', async ({ page, errors }) => {
      await login(page);
      await page.goto('/playground');
      await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
      const socket = page.waitForEvent('websocket', (ws) => new URL(ws.url()).pathname === '/graphql');
      await setQuery(page, 'subscription Usage { usageEvents { __typename } }');
      // GraphiQL parses the editor's text a moment after it changes, and
      // names the tab after the operation once it has.
      await page.locator('.graphiql-tab-active').getByText('Usage', { exact: true }).waitFor();
      await page.getByRole('button', { name: /Execute query/ }).click();
      const ws = await socket;
      const init = await ws.waitForEvent('framesent', (f) => String(f.payload).includes('connection_init'));
      assert.match(String(init.payload), /"Authorization":"Bearer [^"]+"/);
      await ws.waitForEvent('framereceived', (f) => String(f.payload).includes('connection_ack'));
      assert.deepEqual(errors, []);
    });
  });

  test('the dashboard script is sent compressed', async () => {
    await withPage('compressed', async ({ page }) => {
      const script = page.waitForResponse((r) => /\/assets\/index-[^/]+\.js$/.test(r.url()));
      await page.goto('/');
      const res = await script;
      assert.match(res.headers()['content-encoding'] ?? '', /^(br|gzip)$/);
      assert.equal(res.headers().vary, 'Accept-Encoding');
      assert.match(res.headers()['content-type'], /javascript/);
    });
  });
});
