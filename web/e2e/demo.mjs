// A gateway filled with demo data through its own APIs: credentials, services
// with limits and a routing target, keys, and usage records made by real
// proxied requests (some refused by a budget), for the layout tests and the
// README's screenshots.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGateway, cleanup, createUser, startFakeUpstream, startGateway } from './gateway.mjs';

export const DEMO_PASSWORD = 'demo-admin-password-1';

async function graphql(url, token, query, variables = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors?.length) throw new Error(`${query.trim().split('\n')[0]}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function chat(url, key, model, n) {
  const statuses = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_completion_tokens: 1000, messages: [{ role: 'user', content: `Summarise note ${i}: ${'lorem ipsum '.repeat(500)}` }] }),
    });
    await res.text();
    statuses.push(res.status);
  }
  return statuses;
}

/**
 * Starts a gateway on a fresh data dir and fills it: two credentials, three
 * services (one with a target, one with a tiny daily block), four keys, and
 * `requests` proxied requests of which some are refused by the budget.
 */
export async function startDemoGateway({ requests = 40 } = {}) {
  const build = await buildGateway();
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-demo-data-'));
  await createUser(build.bin, dataDir, 'admin', 'admin', DEMO_PASSWORD);
  const upstream = await startFakeUpstream({ usage: { prompt_tokens: 1200, completion_tokens: 350, total_tokens: 1550, prompt_tokens_details: { cached_tokens: 400 } } });
  const gateway = await startGateway({ bin: build.bin, dataDir, password: DEMO_PASSWORD });
  const { url } = gateway;
  const { login } = await graphql(url, null, 'mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { token } }', { u: 'admin', p: DEMO_PASSWORD });
  const gql = (q, v) => graphql(url, login.token, q, v);

  const credential = async (accountKey, displayName, providerApiKey) =>
    (await gql('mutation ($input: CreateProviderCredentialInput!) { createProviderCredential(input: $input) { id } }', {
      input: { provider: 'openai', accountKey, displayName, providerApiKey, baseUrl: `${upstream.url}/v1` },
    })).createProviderCredential.id;
  const primary = await credential('production', 'OpenAI production', 'sk-demo-production-key-4821');
  const backup = await credential('backup', 'OpenAI backup', 'sk-demo-backup-key-7730');

  const service = async (input) =>
    (await gql('mutation ($input: CreateServiceInput!) { createService(input: $input) { id } }', {
      input: { provider: 'openai', credentialId: primary, modelsEnabled: ['gpt-4o-mini', 'gpt-4o'], ...input },
    })).createService.id;
  const chatService = await service({ serviceName: 'chat', description: 'The support assistant', limitCostDayWarn: 5, limitCostDayBlock: 10, limitCostMonthBlock: 200, limitRpm: 600 });
  const batchService = await service({ serviceName: 'nightly-batch', description: 'Summaries of the day\'s tickets', limitCostDayWarn: 0.0005, limitCostDayBlock: 0.001 });
  await service({ serviceName: 'embeddings', description: 'Search index refresh', limitCostMonthBlock: 50 });
  await gql('mutation ($s: ID!, $input: AddServiceTargetInput!) { addServiceTarget(serviceId: $s, input: $input) { id } }', {
    s: chatService, input: { credentialId: backup, weight: 3, modelMap: { 'gpt-4o-mini': 'backup-gpt-4o-mini' } },
  });

  const key = async (input) =>
    (await gql('mutation ($input: CreateAPIKeyInput!) { createAPIKey(input: $input) { key } }', { input })).createAPIKey.key;
  const frontend = await key({ name: 'frontend', description: 'Web chat widget', serviceId: chatService, limitRpm: 60, limitTpm: 100000 });
  const mobile = await key({ name: 'mobile-app', serviceId: chatService, limitCostDayBlock: 2 });
  const batch = await key({ name: 'batch-runner', serviceId: batchService });
  await key({ name: 'ci-deploy', description: 'Terraform', isManagementKey: true });

  await gql('mutation ($input: UpdateOrganizationLimitsInput!) { updateOrganizationLimits(input: $input) { id } }', {
    input: { limitCostDayWarn: 20, limitCostDayBlock: 40, limitCostMonthBlock: 500, limitRpm: 1000 },
  });

  // The batch service's block is below one request's cost: its first
  // request succeeds, the rest are refused with the budget's reason.
  const third = Math.ceil(requests / 3);
  const statuses = [
    ...(await chat(url, frontend, 'gpt-4o-mini', third)),
    ...(await chat(url, mobile, 'gpt-4o', requests - 2 * third)),
    ...(await chat(url, batch, 'gpt-4o-mini', third)),
  ];
  if (!statuses.some((s) => s === 200) || !statuses.some((s) => s >= 400)) throw new Error(`demo requests answered ${statuses.join(',')}`);

  return {
    url,
    password: DEMO_PASSWORD,
    logs: gateway.logs,
    async stop() {
      await gateway.stop();
      await upstream.close();
      await cleanup(dataDir, build.dir);
    },
  };
}

/** Every screen of the dashboard, as the layout tests and the screenshots
 * visit it: a path, its heading, and what shows once its data is in. */
export const SCREENS = [
  { name: 'overview', path: '/', heading: 'Overview', ready: (page) => page.getByRole('region', { name: 'Top models' }) },
  { name: 'services', path: '/dashboard/services', heading: 'Services', ready: (page) => page.getByRole('heading', { name: /nightly-batch/, level: 2 }) },
  {
    name: 'service-targets', path: '/dashboard/services', heading: 'Services',
    ready: (page) => page.getByRole('heading', { name: /nightly-batch/, level: 2 }),
    open: async (page) => {
      await page.getByRole('button', { name: 'Edit' }).first().click();
      const dialog = page.getByRole('dialog', { name: 'Edit chat' });
      await dialog.getByTestId('target-row').first().waitFor();
      return dialog;
    },
  },
  { name: 'keys', path: '/dashboard/keys', heading: 'API keys', ready: (page) => page.getByRole('row', { name: /frontend/ }) },
  { name: 'credentials', path: '/dashboard/credentials', heading: 'Provider credentials', ready: (page) => page.getByRole('row', { name: /OpenAI backup/ }) },
  { name: 'usage-log', path: '/dashboard/usage', heading: 'Usage log', ready: (page) => page.locator('table.log tbody tr').first() },
  { name: 'audit-log', path: '/dashboard/audit', heading: 'Audit log', ready: (page) => page.getByText('createAPIKey').first() },
  { name: 'standards', path: '/dashboard/standards', heading: 'API standards', ready: (page) => page.getByRole('table').first() },
  { name: 'settings', path: '/dashboard/settings', heading: 'Settings', ready: (page) => page.getByRole('heading', { name: 'Organization budget' }) },
  { name: 'settings-keys', path: '/dashboard/settings/keys', heading: 'Settings › Management keys', ready: (page) => page.getByRole('heading', { name: 'Management keys', level: 2 }) },
  { name: 'settings-prices', path: '/dashboard/settings/prices', heading: 'Settings › Prices', ready: (page) => page.getByRole('row', { name: /gpt-4o-mini/ }).first() },
  { name: 'settings-members', path: '/dashboard/settings/members', heading: 'Settings › Members', ready: (page) => page.getByRole('heading', { name: 'Members', level: 2 }) },
  { name: 'account', path: '/dashboard/account', heading: 'My account', ready: (page) => page.getByRole('heading', { name: 'Logins', level: 2 }) },
];

export const VIEWPORTS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
];

/** Logs the browser page in as the demo admin, on the overview. */
export async function loginDemo(page) {
  await page.goto('/');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
}

/** Opens a screen by its path and waits for its data; returns the dialog
 * it opens, if any. */
export async function openScreen(page, screen) {
  await page.goto(screen.path);
  await page.getByRole('heading', { name: screen.heading, level: 1 }).waitFor();
  await screen.ready(page).waitFor();
  await page.getByText(/Loading|Opening/).first().waitFor({ state: 'detached' }).catch(() => {});
  return screen.open ? screen.open(page) : null;
}
