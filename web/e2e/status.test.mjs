// Browser tests of who is near a limit (badges on the keys list and the
// overview), of switching keys and services off, of where form errors
// show, and of the new key's call examples, against the real gateway.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildGateway, createUser, graphql, launchBrowser, logIn, pages, screenshot, startFakeUpstream, startGateway, teardown } from './gateway.mjs';

const PASSWORD = 'e2e-status-password-1';
const run = promisify(execFile);

let build, dataDir, gateway, upstream, browser, token;
const keys = {};

const gql = (query, variables) => graphql(gateway.url, token, query, variables);

// The fake upstream reports 1M input and 1M output tokens; a request that
// may use that many costs $0.75 at gpt-4o-mini's $0.15 and $0.60.
const DEAR_BODY = JSON.stringify({ model: 'gpt-4o-mini', max_completion_tokens: 1_000_000, messages: [{ role: 'user', content: 'x'.repeat(1_000_000) }] });

function chat(key, body = DEAR_BODY) {
  return fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
}

before(async () => {
  build = await buildGateway();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-e2e-status-'));
  await createUser(build.bin, dataDir, 'admin', 'admin', PASSWORD);
  upstream = await startFakeUpstream();
  gateway = await startGateway({ bin: build.bin, dataDir, password: PASSWORD });
  browser = await launchBrowser();
  token = (await gql('mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }', { u: 'admin', p: PASSWORD })).login.token;
  const svc = await gql('mutation($in: CreateServiceInput!) { createService(input: $in) { id } }', {
    in: { serviceName: 'chat', provider: 'openai', providerApiKey: 'sk-fake-status-0001', baseUrl: `${upstream.url}/v1`, modelsEnabled: ['gpt-4o-mini'] },
  });
  for (const name of ['key-over', 'key-near', 'key-calm']) {
    const r = await gql('mutation($in: CreateAPIKeyInput!) { createAPIKey(input: $in) { key apiKey { id } } }', { in: { name, serviceId: svc.createService.id } });
    keys[name] = { secret: r.createAPIKey.key, id: r.createAPIKey.apiKey.id };
  }
  // Each spends $0.75 today, then gets limits it is past.
  for (const name of ['key-over', 'key-near']) {
    const res = await chat(keys[name].secret);
    assert.equal(res.status, 200, await res.text());
  }
  const limit = 'mutation($id: ID!, $in: UpdateAPIKeyInput!) { updateAPIKey(id: $id, input: $in) { id } }';
  await gql(limit, { id: keys['key-over'].id, in: { limitCostDayBlock: 0.5 } });
  await gql(limit, { id: keys['key-near'].id, in: { limitCostDayWarn: 0.5, limitCostDayBlock: 10 } });
});

after(() => teardown({ browser, gateway, upstream, dirs: [dataDir, build?.dir] }));

const { newPage, e2e } = pages(() => ({ browser, gateway }));

async function adminPage() {
  const page = await newPage();
  await logIn(page, 'admin', PASSWORD);
  return page;
}

async function go(page, linkName) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: linkName }).click();
  await page.getByRole('heading', { name: linkName, level: 1 }).waitFor();
}

const focusedText = (page) => page.evaluate(() => document.activeElement?.textContent ?? '');

describe('limits and status', () => {
  e2e('a key past its block shows blocked, one past its warn warned, on the keys list and the overview', async () => {
    // The gateway does refuse the blocked key: the badge tells the truth.
    assert.equal((await chat(keys['key-over'].secret)).status, 429);
    const page = await adminPage();
    const overviewRow = (name) => page.getByRole('row', { name: new RegExp(name) });
    await overviewRow('key-over').getByTestId('status').filter({ hasText: 'blocked' }).waitFor();
    await overviewRow('key-over').getByText('Today: $0.75 of $0.50 block').waitFor();
    await overviewRow('key-near').getByTestId('status').filter({ hasText: 'warned' }).waitFor();
    await overviewRow('key-calm').getByTestId('status').filter({ hasText: 'active' }).waitFor();
    assert.equal(await overviewRow('key-over').getByText('active').count(), 0);
    await screenshot(page, 'status-overview');

    await go(page, 'API keys');
    const row = (name) => page.getByRole('row', { name: new RegExp(name) });
    await row('key-over').getByTestId('status').filter({ hasText: 'blocked' }).waitFor();
    await row('key-near').getByTestId('status').filter({ hasText: 'warned' }).waitFor();
    await row('key-calm').getByTestId('status').filter({ hasText: 'active' }).waitFor();
    // The spend against the limit, in red for the blocked key.
    const day = row('key-over').getByRole('group', { name: 'Today spend' });
    await day.filter({ hasText: '$0.75 of $0.50' }).waitFor();
    assert.equal(await day.getAttribute('data-level'), 'blocked');
    assert.equal(await row('key-near').getByRole('group', { name: 'Today spend' }).getAttribute('data-level'), 'warned');
    await screenshot(page, 'status-api-keys');
    assert.deepEqual(page.errors, []);
  });

  e2e('a service past its block shows blocked on its card, and so do its keys', async () => {
    const svc = (await gql('{ services(first: 1) { edges { node { id } } } }')).services.edges[0].node.id;
    const set = (v) => gql('mutation($id: ID!, $in: UpdateServiceInput!) { updateService(id: $id, input: $in) { id } }', { id: svc, in: { limitCostDayBlock: v } });
    // The two keys spent $1.50 of the service's day.
    await set(1);
    try {
      const page = await adminPage();
      await go(page, 'Services');
      const card = page.getByRole('article', { name: /chat/ });
      await card.getByRole('heading', { level: 2 }).getByText('blocked').waitFor();
      await card.getByText('Refusing requests: Today: $1.50 of $1.00 block').waitFor();
      assert.equal(await card.getByRole('group', { name: 'Today spend' }).getAttribute('data-level'), 'blocked');
      await go(page, 'API keys');
      const calm = page.getByRole('row', { name: /key-calm/ });
      await calm.getByTestId('status').filter({ hasText: 'blocked' }).filter({ hasText: 'service chat: Today: $1.50 of $1.00 block' }).waitFor();
      assert.equal((await chat(keys['key-calm'].secret, JSON.stringify({ model: 'gpt-4o-mini', max_completion_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }))).status, 429);
    } finally {
      await set(null);
    }
  });

  e2e('disabling a key asks first, and a failed disable says so', async () => {
    const page = await adminPage();
    await go(page, 'API keys');
    const calm = page.getByRole('row', { name: /key-calm/ });
    await calm.getByRole('button', { name: 'Disable key-calm' }).click();
    let dialog = page.getByRole('dialog', { name: 'Disable key-calm?' });
    await dialog.getByText('Applications using this key are refused').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await focusedText(page), 'Disable', 'focus is back on the button that opened the dialog');
    await calm.getByTestId('status').filter({ hasText: 'active' }).waitFor();
    assert.equal((await chat(keys['key-calm'].secret, JSON.stringify({ model: 'gpt-4o-mini', max_completion_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }))).status, 200);

    await calm.getByRole('button', { name: 'Disable key-calm' }).click();
    await dialog.getByRole('button', { name: 'Disable key' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await calm.getByTestId('status').filter({ hasText: 'disabled' }).waitFor();
    await calm.getByRole('button', { name: 'Enable key-calm' }).click();
    await calm.getByTestId('status').filter({ hasText: 'active' }).waitFor();

    // The gateway fails the disable: the dialog stays and says why.
    await page.route('**/graphql', (route) =>
      route.request().postData()?.includes('mutation UpdateAPIKey')
        ? route.fulfill({ contentType: 'application/json', body: JSON.stringify({ data: null, errors: [{ message: 'the database is unavailable; try again', extensions: { code: 'UNAVAILABLE' } }] }) })
        : route.fallback(),
    );
    await calm.getByRole('button', { name: 'Disable key-calm' }).click();
    await dialog.getByRole('button', { name: 'Disable key' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Could not disable key-calm: the database is unavailable; try again' }).waitFor();
    assert.ok(await dialog.isVisible(), 'the dialog stays open with the error');
    await page.unroute('**/graphql');
    await screenshot(page, 'status-disable-failed');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await calm.getByTestId('status').filter({ hasText: 'active' }).waitFor();

    // A service's disable asks too.
    await go(page, 'Services');
    await page.getByRole('button', { name: 'Disable chat' }).click();
    dialog = page.getByRole('dialog', { name: 'Disable chat?' });
    await dialog.getByText('refuses every request').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('heading', { name: /chat/, level: 2 }).getByText('active').waitFor();
  });

  e2e('a duplicate service name is said in words at its field, and cleared when it changes', async () => {
    const page = await adminPage();
    await go(page, 'Services');
    await page.getByRole('button', { name: 'New service' }).click();
    const dialog = page.getByRole('dialog', { name: 'New service' });
    await dialog.getByLabel('Name', { exact: true }).fill('chat');
    await dialog.getByLabel('Provider', { exact: true }).selectOption('openai');
    await dialog.getByLabel('Provider API key').fill('sk-fake-status-0002');
    await dialog.getByLabel('gpt-4o-mini', { exact: true }).check();
    await dialog.getByRole('button', { name: 'Create service' }).click();
    const name = dialog.getByLabel('Name', { exact: true });
    await dialog.locator('.field-error').filter({ hasText: 'A service named “chat” already exists.' }).waitFor();
    assert.equal(await name.evaluate((el) => el === document.activeElement), true, 'the field in error has focus');
    assert.ok(await name.isVisible());
    await dialog.getByRole('alert').filter({ hasText: 'Check the fields marked above.' }).waitFor();
    await name.fill('chat-2');
    assert.equal(await dialog.locator('.field-error').count(), 0, 'the fixed field keeps no error');
    assert.equal(await name.getAttribute('aria-invalid'), 'false');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await focusedText(page), 'New service');
  });

  e2e('the new key dialog shows how to call the gateway at its real address', async () => {
    const page = await adminPage();
    await go(page, 'API keys');
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('key-snippet');
    await dialog.getByLabel('Service').selectOption({ label: 'chat' });
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const secret = (await dialog.getByTestId('new-key').textContent()).trim();
    assert.equal(await dialog.getByTestId('base-url').textContent(), `${gateway.url}/v1`);
    const snippet = dialog.getByTestId('snippet');
    const curl = await snippet.textContent();
    assert.ok(curl.startsWith(`curl ${gateway.url}/v1/chat/completions`), curl);
    assert.ok(curl.includes(`Authorization: Bearer ${secret}`));
    assert.ok(curl.includes('"model":"gpt-4o-mini"'));
    // The example works as written.
    const { stdout } = await run('sh', ['-c', curl]);
    assert.match(stdout, /Hello from the fake upstream/);
    await dialog.getByRole('button', { name: 'Copy example' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), curl);
    await dialog.getByRole('button', { name: 'Python (openai)' }).click();
    await snippet.filter({ hasText: `OpenAI(base_url="${gateway.url}/v1"` }).waitFor();
    assert.equal((await snippet.textContent()).includes(secret), false, 'SDK examples read the key from the environment');
    await screenshot(page, 'status-new-key');
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await focusedText(page), 'New API key');
    assert.deepEqual(page.errors, []);
  });

  // Last: it adds more services than the key form lists at once.
  e2e('the new key form finds a service among more than it lists', async () => {
    for (let i = 0; i < 55; i++) {
      await gql('mutation($in: CreateServiceInput!) { createService(input: $in) { id } }', {
        in: { serviceName: `many-${String(i).padStart(2, '0')}`, provider: 'openai', providerApiKey: 'sk-fake-status-0002', baseUrl: `${upstream.url}/v1`, modelsEnabled: ['gpt-4o-mini'] },
      });
    }
    const page = await adminPage();
    await go(page, 'API keys');
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog');
    const select = dialog.getByLabel('Service', { exact: true });
    await select.locator('option', { hasText: 'chat' }).waitFor({ state: 'attached' });
    assert.equal(await select.locator('option', { hasText: 'many-54' }).count(), 0, 'the list shows the first page of services');
    await dialog.getByLabel('Find a service').fill('MANY-54');
    await select.selectOption({ label: 'many-54' });
    await dialog.getByLabel('Find a service').fill('many-0');
    await select.locator('option', { hasText: 'many-09' }).waitFor({ state: 'attached' });
    assert.equal(await select.inputValue() !== '', true, 'the chosen service stays chosen while the search changes');
    await dialog.getByLabel('Name', { exact: true }).fill('key-far');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await dialog.getByTestId('new-key').waitFor();
    assert.ok((await dialog.getByTestId('snippet').textContent()).includes('"model":"gpt-4o-mini"'), 'the example calls a model of the chosen service');
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('row', { name: /key-far/ }).filter({ hasText: 'many-54' }).waitFor();
    assert.deepEqual(page.errors, []);
  });
});
