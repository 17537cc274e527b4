// Browser test of single sign-on: the gateway is pointed at a real OpenID
// Connect provider the test runs; the login screen offers "Sign in with",
// hides the password form when password login is off, and a click signs
// a new account in without a token ever in the address bar; its My account
// offers no password change. A refused sign-in shows its reason.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGateway, freePort, launchBrowser, pages, startGateway, startOIDCProvider, teardown } from './gateway.mjs';

const PASSWORD = 'e2e-sso-password-1';
let build, dataDir, gateway, browser, provider;

before(async () => {
  build = await buildGateway();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-e2e-sso-'));
  provider = await startOIDCProvider(build.dir);
  const port = await freePort();
  gateway = await startGateway({
    bin: build.bin, dataDir, password: PASSWORD, port,
    env: {
      SLUICE_OIDC_ISSUER: provider.issuer,
      SLUICE_OIDC_CLIENT_ID: provider.clientId,
      SLUICE_OIDC_CLIENT_SECRET: provider.clientSecret,
      SLUICE_OIDC_REDIRECT_URL: `http://127.0.0.1:${port}/api/admin/auth/oidc/callback`,
      SLUICE_OIDC_NAME: 'Example ID',
      SLUICE_OIDC_CREATE_ACCOUNTS: 'true',
      SLUICE_PASSWORD_LOGIN: 'false',
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await provider?.stop();
  await teardown({ browser, gateway, dirs: [dataDir, build?.dir] });
});

const { newPage, e2e } = pages(() => ({ browser, gateway }));

describe('single sign-on', () => {
  e2e('signs a new account in through the provider, with no token in any URL', async () => {
    const page = await newPage();
    const urls = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.goto('/');
    const button = page.getByRole('link', { name: 'Sign in with Example ID' });
    await button.waitFor();
    assert.equal(await page.getByLabel('Password').count(), 0, 'the password form is hidden when password login is off');
    await button.click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/');
    const token = await page.evaluate(() => localStorage.getItem('sluice.token'));
    assert.ok(token, 'the dashboard holds a token');
    for (const u of urls) assert.ok(!u.includes(token), `a URL carried the token: ${u}`);
    assert.ok(urls.some((u) => u.includes('/api/admin/auth/oidc/callback')), 'the browser went through the callback');
    // The account menu names the new user.
    await page.getByText('sam@example.com').first().waitFor();
    // My account offers no password or two-factor set-up to an account without a password.
    await page.goto('/dashboard/account');
    await page.getByText('You sign in with Example ID; change your password there.').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Change password' }).count(), 0);
    assert.equal(await page.getByRole('heading', { name: /Two-factor/ }).count(), 0);
    assert.deepEqual(page.errors, []);
  });

  e2e('a refused sign-in shows why', async () => {
    const page = await newPage();
    await page.goto('/login?sso_error=domain_not_allowed');
    await page.getByRole('alert').filter({ hasText: 'Your email domain may not sign in to this gateway.' }).waitFor();
    // Coming back without the one-time cookie is refused, with a message.
    await page.goto('/login?sso=done');
    await page.getByRole('alert').filter({ hasText: 'sign in again' }).waitFor();
  });
});
