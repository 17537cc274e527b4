// Browser tests of the usage charts and breakdown, the settings' sub-pages
// and the usage record detail, against the real gateway with traffic sent
// through its proxy to a local fake provider.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGateway, createUser, graphql, launchBrowser, logIn, pages, screenshot, startGateway, teardown } from './gateway.mjs';

const PASSWORD = 'e2e-charts-password-1';

let build, dataDir, gateway, upstream, browser, token;
const keys = {};

/** An OpenAI-compatible provider: gpt-4o fails with a 500, other models answer with fixed usage. */
async function startProvider() {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url.endsWith('/models')) return res.end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model' }, { id: 'gpt-4o', object: 'model' }] }));
      const { model } = JSON.parse(body || '{}');
      if (model === 'gpt-4o') {
        res.statusCode = 500;
        return res.end(JSON.stringify({ error: { message: 'The model is overloaded.', type: 'server_error' } }));
      }
      res.end(JSON.stringify({
        id: 'chatcmpl-charts', object: 'chat.completion', created: 1, model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 },
      }));
    });
  });
  server.keepAliveTimeout = 120_000; // as startFakeUpstream: outlive the gateway's idle connections
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); } };
}

const gql = (query, variables) => graphql(gateway.url, token, query, variables);

// The client's W3C trace context on the gpt-4o request: the gateway, not
// tracing, keeps its trace id on the record for the request view.
const clientTraceID = '4bf92f3577b34da6a3ce929d0e0e4736';

async function chat(key, model, headers = {}) {
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, max_completion_tokens: 64, messages: [{ role: 'user', content: 'hello' }] }),
  });
  await res.text();
  return res.status;
}

before(async () => {
  build = await buildGateway();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-e2e-charts-'));
  await createUser(build.bin, dataDir, 'admin', 'admin', PASSWORD);
  upstream = await startProvider();
  gateway = await startGateway({ bin: build.bin, dataDir, password: PASSWORD });
  browser = await launchBrowser();
  token = (await gql('mutation($p: String!) { login(username: "admin", password: $p) { token } }', { p: PASSWORD })).login.token;
  for (const [service, key] of [['alpha', 'key-a'], ['beta', 'key-b']]) {
    const s = await gql(`mutation($url: String!, $name: String!) { createService(input: {serviceName: $name, provider: "openai", providerApiKey: "sk-fake-charts-1234", baseUrl: $url, modelsEnabled: ["gpt-4o-mini", "gpt-4o"]}) { id } }`, { url: `${upstream.url}/v1`, name: service });
    const k = await gql('mutation($s: ID!, $name: String!) { createAPIKey(input: {name: $name, serviceId: $s}) { key } }', { s: s.createService.id, name: key });
    keys[key] = k.createAPIKey.key;
  }
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push(await chat(keys['key-a'], 'gpt-4o-mini'));
  for (let i = 0; i < 2; i++) statuses.push(await chat(keys['key-b'], 'gpt-4o-mini'));
  statuses.push(await chat(keys['key-a'], 'gpt-4o', { traceparent: `00-${clientTraceID}-00f067aa0ba902b7-01` }));
  statuses.push(await chat(keys['key-a'], 'not-enabled-model'));
  assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
  assert.ok(statuses[5] >= 500 && statuses[6] >= 400 && statuses[6] < 500, `statuses ${statuses}`);
  // Records are written in batches: wait until all seven are.
  for (const deadline = Date.now() + 15_000; ; ) {
    const d = await gql('{ usageRecords(first: 1) { totalCount } }');
    if (d.usageRecords.totalCount >= 7) break;
    assert.ok(Date.now() < deadline, `only ${d.usageRecords.totalCount} usage records written`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(() => teardown({ browser, gateway, upstream, dirs: [dataDir, build?.dir] }));

const { newPage: openPage, e2e } = pages(() => ({ browser, gateway }));

/** A page logged in as the admin, on the overview. */
async function newPage() {
  const page = await openPage({ width: 1280, height: 900 });
  await logIn(page, 'admin', PASSWORD);
  return page;
}

/** The tick labels a chart drew on an axis, once it has drawn some. */
async function ticks(figure, axis) {
  await figure.and(figure.page().locator(`[data-${axis}-ticks]`)).waitFor();
  return (await figure.getAttribute(`data-${axis}-ticks`)).split('|').filter(Boolean);
}

describe('usage charts, settings pages and request details', () => {
  e2e('the charts draw axes and the breakdown switches its split and measure', async () => {
    const page = await newPage();
    const requests = page.locator('figure', { has: page.getByText('Requests', { exact: true }) }).first();
    await requests.locator('canvas').waitFor();
    const y = await ticks(requests, 'y');
    assert.ok(y.length >= 2 && y.every((v) => /^[\d,.]+$/.test(v)), `request axis ticks ${y}`);
    assert.ok((await ticks(requests, 'x')).some((v) => /^\d\d:\d\d$/.test(v)), 'the time axis labels hours');
    const spend = page.locator('figure', { has: page.getByText('Spend', { exact: true }) }).first();
    assert.ok((await ticks(spend, 'y')).every((v) => v.startsWith('$')), 'the spend axis is in dollars');

    const breakdown = page.getByTestId('breakdown');
    const chart = breakdown.locator('figure');
    await chart.and(page.locator('[data-series="alpha|beta"]')).waitFor();
    assert.ok((await ticks(chart, 'y')).length >= 2);
    // Service alpha: three good requests, one upstream error, one refusal.
    const groups = breakdown.locator('.table-wrap');
    const alpha = await groups.getByRole('row', { name: /^alpha/ }).getByRole('cell').allTextContents();
    assert.deepEqual([alpha[1], alpha[4], alpha[5]], ['5', '1', '1']);

    await breakdown.getByRole('button', { name: 'API key' }).click();
    await breakdown.getByRole('heading', { name: /Breakdown by api key/ }).waitFor();
    await chart.and(page.locator('[data-series="key-a|key-b"]')).waitFor();
    await breakdown.getByRole('button', { name: 'Model' }).click();
    await groups.getByRole('row', { name: /^not-enabled-model/ }).waitFor();
    const series = (await chart.getAttribute('data-series')).split('|');
    assert.deepEqual(series.slice().sort(), ['gpt-4o', 'gpt-4o-mini', 'not-enabled-model']);
    await breakdown.getByRole('button', { name: 'Latency p95' }).click();
    await breakdown.locator('figcaption', { hasText: 'Latency p95 by model' }).waitFor();
    assert.ok((await ticks(chart, 'y')).every((v) => /ms|s$/.test(v)), 'the latency axis is in time');
    await breakdown.getByRole('button', { name: 'Cost' }).click();
    await breakdown.locator('figcaption', { hasText: 'Cost by model' }).waitFor();
    await screenshot(page, 'overview-breakdown');

    // Top models: the upstream's errors and the gateway's refusals apart.
    const top = page.locator('.card', { has: page.getByRole('heading', { name: /Top models/ }) });
    const heads = await top.getByRole('columnheader').allTextContents();
    assert.deepEqual(heads.slice(0, 4), ['Model', 'Requests', 'Errors', 'Refused']);
    const refusedRow = await top.getByRole('row', { name: /^not-enabled-model/ }).getByRole('cell').allTextContents();
    assert.deepEqual(refusedRow.slice(1, 4), ['1', '0', '1']);
    const failedRow = await top.getByRole('row', { name: /^gpt-4o / }).getByRole('cell').allTextContents();
    assert.deepEqual(failedRow.slice(1, 4), ['1', '1', '0']);
    // The balance is not enforced, so the overview shows none.
    assert.equal(await page.getByText('Prepaid balance').count(), 0);
    assert.deepEqual(page.errors, []);
  });

  e2e('settings has sub-pages; a price is added and found', async () => {
    const page = await newPage();
    // The organization has no limit: the budget card says so and links to where one is set.
    await page.getByTestId('org-no-limit').getByRole('link', { name: 'Settings › General' }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/dashboard/settings');
    const tabs = page.getByRole('navigation', { name: 'Settings' });
    assert.equal(await tabs.getByRole('link', { name: 'General' }).getAttribute('aria-current'), 'page');
    await page.getByRole('heading', { name: 'Organization budget' }).waitFor();
    await page.getByRole('heading', { name: 'Prepaid balance' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Price catalog' }).count(), 0);

    await tabs.getByRole('link', { name: 'Management keys' }).click();
    await page.getByRole('heading', { name: 'Settings › Management keys', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New management key' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Organization budget' }).count(), 0);

    await tabs.getByRole('link', { name: 'Prices' }).click();
    await page.getByRole('heading', { name: 'Settings › Prices', level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/dashboard/settings/prices');
    await page.getByRole('button', { name: 'Add a price' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a price' });
    await dialog.getByRole('button', { name: 'Add price' }).click();
    await dialog.getByText('Choose the provider.').waitFor();
    await dialog.getByLabel('Provider', { exact: true }).selectOption('mistral');
    await dialog.getByLabel('Model', { exact: true }).fill('mistral-e2e-large');
    await dialog.getByLabel('Input per million tokens (USD)', { exact: true }).fill('1.25');
    await dialog.getByLabel('Output per million tokens (USD)', { exact: true }).fill('5');
    await dialog.getByRole('button', { name: 'Add price' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const row = page.getByRole('row', { name: /mistral-e2e-large/ });
    await row.filter({ hasText: '$1.25' }).filter({ hasText: '$5.00' }).waitFor();
    // The search finds it from part of its name, and not from another's.
    const search = page.getByLabel('Find a model');
    await search.fill('gpt-4o-mini');
    await row.waitFor({ state: 'detached' });
    await search.fill('e2e-LARGE');
    await row.waitFor();
    assert.equal(await page.locator('tbody tr').count(), 1);
    // A reload of the sub-page comes back to it.
    await page.reload();
    await page.getByRole('heading', { name: 'Settings › Prices', level: 1 }).waitFor();
    assert.deepEqual(page.errors, []);
  });

  e2e('a usage log row opens the request in full, its error whole', async () => {
    const page = await newPage();
    const records = (await gql('{ usageRecords(first: 10) { edges { node { requestID status error providerProtocol model } } } }')).usageRecords.edges.map((e) => e.node);
    const failed = records.find((r) => r.model === 'gpt-4o');
    const refused = records.find((r) => r.model === 'not-enabled-model');
    assert.ok(failed?.error && failed.providerProtocol, 'the upstream failure is recorded with its error');
    assert.ok(refused?.error && !refused.providerProtocol, 'the refusal is recorded without an upstream');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Usage log' }).click();
    await page.getByRole('heading', { name: 'Usage log', level: 1 }).waitFor();
    // A click anywhere on the row opens it.
    await page.getByRole('row', { name: new RegExp(failed.requestID) }).getByRole('cell').first().click();
    let dialog = page.getByRole('dialog', { name: `Request ${failed.requestID}` });
    const detail = dialog.getByTestId('record-detail');
    await detail.waitFor();
    assert.equal(await dialog.getByRole('group', { name: 'Error' }).locator('pre').textContent(), failed.error);
    for (const text of ['gpt-4o', 'alpha', 'key-a', '/v1/chat/completions', 'Upstream attempts', 'Input tokens', 'First byte']) {
      await detail.getByText(text, { exact: true }).first().waitFor();
    }
    assert.equal(await detail.getByText('openai', { exact: true }).count() > 0, true);
    assert.equal(await detail.getByTestId('trace-id').textContent(), clientTraceID);
    await detail.getByRole('button', { name: 'Copy trace ID' }).waitFor();
    await screenshot(page, 'usage-record-detail');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    // The refusal's button opens it too, and says the gateway answered it.
    await page.getByRole('button', { name: `Details of request ${refused.requestID}` }).click();
    dialog = page.getByRole('dialog', { name: `Request ${refused.requestID}` });
    await dialog.getByRole('heading', { name: /Refused by the gateway/ }).waitFor();
    assert.equal(await dialog.getByRole('group', { name: 'Error' }).locator('pre').textContent(), refused.error);
    await dialog.getByText('None: the gateway answered without calling an upstream.').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.deepEqual(page.errors, []);
  });
});
