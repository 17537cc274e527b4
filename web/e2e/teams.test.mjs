// Browser test of teams: an admin invites a person by a link shown once,
// the person accepts it in another browser, sets a password and sees only
// that organization's data; My account lists the person's logins.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGateway, createUser, graphql, launchBrowser, logIn, pages, startGateway, teardown } from './gateway.mjs';

const PASSWORD = 'e2e-teams-password-1';
let build, dataDir, gateway, browser;

before(async () => {
  build = await buildGateway();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-e2e-teams-'));
  await createUser(build.bin, dataDir, 'admin', 'admin', PASSWORD);
  gateway = await startGateway({ bin: build.bin, dataDir, password: PASSWORD });
  browser = await launchBrowser();
  const gql = (token, query, variables) => graphql(gateway.url, token, query, variables);
  const token = (await gql('', 'mutation($p: String!) { login(username: "admin", password: $p) { token } }', { p: PASSWORD })).login.token;
  const service = 'mutation($n: String!) { createService(input: {serviceName: $n, provider: "openai", providerApiKey: "sk-fake-teams-0001", modelsEnabled: ["gpt-4o-mini"]}) { id } }';
  await gql(token, service, { n: 'default-chat' });
  const acme = (await gql(token, 'mutation { createOrganization(name: "Acme") { id } }')).createOrganization.id;
  // The switch makes Acme the organization admin's next login opens.
  const acmeToken = (await gql(token, 'mutation($id: ID!) { switchOrganization(id: $id) { token } }', { id: acme })).switchOrganization.token;
  await gql(acmeToken, service, { n: 'acme-chat' });
});

after(() => teardown({ browser, gateway, dirs: [dataDir, build?.dir] }));

const { newPage, e2e } = pages(() => ({ browser, gateway }));

async function go(page, linkName, heading = linkName) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: linkName }).click();
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

describe('teams', () => {
  e2e('an invited person accepts the link in another browser, sets a password and sees only that organization', async () => {
    const admin = await newPage();
    await logIn(admin, 'admin', PASSWORD);
    // admin belongs to two organizations: the switcher shows Acme, the last one used.
    assert.match(await admin.getByLabel('Organization').locator('option:checked').textContent(), /^Acme/);
    await go(admin, 'Settings');
    await admin.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Members' }).click();
    await admin.getByRole('heading', { name: 'Invite a person' }).waitFor();
    await admin.getByLabel('For whom (a note)').fill('pat');
    await admin.getByRole('button', { name: 'Create invitation link' }).click();
    const link = (await admin.getByTestId('new-key').textContent()).trim();
    assert.match(link, /\/dashboard\/accept-invitation#inv_[\w-]{43}$/);
    await admin.getByRole('button', { name: 'I have copied it' }).click();
    await admin.getByText('pat · member').waitFor();

    // A second browser context: nobody logged in there.
    const pat = await newPage();
    await pat.goto(link);
    await pat.getByRole('heading', { name: 'Join an organization' }).waitFor();
    await pat.getByLabel('Username').fill('pat');
    await pat.getByLabel('Password').fill('short');
    await pat.getByRole('button', { name: 'Join', exact: true }).click();
    await pat.getByText('at least 10 characters', { exact: false }).first().waitFor();
    await pat.getByLabel('Password').fill('pat-e2e-password-1');
    await pat.getByRole('button', { name: 'Join', exact: true }).click();
    await pat.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await go(pat, 'Services');
    await pat.getByText('acme-chat').first().waitFor();
    assert.equal(await pat.getByText('default-chat').count(), 0, 'pat sees another organization\'s service');

    // The link works once.
    const again = await newPage();
    await again.goto(link);
    await again.getByLabel('Username').fill('pat2');
    await again.getByLabel('Password').fill('pat2-e2e-password-1');
    await again.getByRole('button', { name: 'Join', exact: true }).click();
    await again.getByText('was used already', { exact: false }).waitFor();

    // The admin sees pat among the members; the invitation is no longer open.
    await admin.reload();
    await admin.getByRole('row', { name: /pat/ }).waitFor();
    assert.equal(await admin.getByText('pat · member').count(), 0);

    // My account lists pat's login, marked as this one; ending all logs out.
    await go(pat, 'My account');
    await pat.getByText('this one').waitFor();
    await pat.getByRole('button', { name: 'End all logins' }).click();
    await pat.getByRole('dialog').getByRole('button', { name: 'End all' }).click();
    await pat.getByRole('button', { name: 'Log in' }).waitFor();
    assert.deepEqual([...admin.errors, ...pat.errors], []);
  });
});
