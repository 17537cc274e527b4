// Browser test of two-factor sign-in: a person sets it up under My
// account (the test plays the authenticator app, computing codes from the
// secret shown), saves the recovery codes, logs out, and logs in again
// with the password and then a code.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGateway, createUser, launchBrowser, pages, startGateway, teardown } from './gateway.mjs';

const PASSWORD = 'e2e-two-factor-password-1';
let build, dataDir, gateway, browser;

before(async () => {
  build = await buildGateway();
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-e2e-2fa-'));
  await createUser(build.bin, dataDir, 'admin', 'admin', PASSWORD);
  gateway = await startGateway({ bin: build.bin, dataDir, password: PASSWORD });
  browser = await launchBrowser();
});

after(() => teardown({ browser, gateway, dirs: [dataDir, build?.dir] }));

const { newPage, e2e } = pages(() => ({ browser, gateway }));

/** RFC 6238's code of a base32 secret at time t (ms): what an
 * authenticator app shows. */
function totp(secret, t = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

async function passwordStep(page) {
  await page.goto('/');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
}

describe('two-factor sign-in', () => {
  e2e('a person turns on two-factor, logs out, and logs in with the password and a code', async () => {
    const page = await newPage();
    await passwordStep(page);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My account' }).click();
    await page.getByRole('button', { name: 'Set up two-factor' }).click();
    const secret = (await page.getByTestId('totp-secret').textContent()).trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.match(await page.getByTestId('totp-uri').textContent(), /^otpauth:\/\/totp\/Sluice:admin\?.*secret=[A-Z2-7]{32}/);

    await page.getByLabel('Code from the app').fill('000000');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByText('wrong two-factor code', { exact: false }).first().waitFor();
    // The previous step's code: still accepted, and it leaves the current one unused for the login below.
    // Near the end of a 30 s step it could be two steps old by the time it is checked: wait for the next.
    const intoStep = Date.now() % 30_000;
    if (intoStep > 25_000) await new Promise((r) => setTimeout(r, 30_000 - intoStep + 250));
    await page.getByLabel('Code from the app').fill(totp(secret, Date.now() - 30_000));
    await page.getByRole('button', { name: 'Turn on' }).click();
    const codes = (await page.getByTestId('recovery-codes').locator('code').allTextContents()).map((c) => c.trim());
    assert.equal(codes.length, 10);
    for (const c of codes) assert.match(c, /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    await page.getByRole('button', { name: 'Copy codes' }).waitFor();
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByText('10 recovery codes left').waitFor();
    assert.equal(await page.getByTestId('recovery-codes').count(), 0, 'the recovery codes are shown once');

    await page.getByRole('button', { name: 'Log out' }).click();
    await passwordStep(page);
    await page.getByRole('heading', { name: 'Two-factor code' }).waitFor();
    await page.getByLabel('Code', { exact: true }).fill('123456');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('Wrong code, or one already used').waitFor();
    await page.getByLabel('Code', { exact: true }).fill(totp(secret));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();

    // A recovery code stands in for the app, once.
    await page.getByRole('button', { name: 'Log out' }).click();
    await passwordStep(page);
    await page.getByLabel('Code', { exact: true }).fill(codes[0]);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    assert.deepEqual(page.errors, []);
  });
});
