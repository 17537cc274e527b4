// Layout and accessibility of every screen at desktop and phone size, on a
// gateway filled with demo data: nothing widens the page, the usage log is
// one line a record, and axe finds no serious or critical violation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { launchBrowser, screenshot } from './gateway.mjs';
import { SCREENS, VIEWPORTS, loginDemo, openScreen, startDemoGateway } from './demo.mjs';

const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let gateway, browser;

before(async () => {
  gateway = await startDemoGateway();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (process.exitCode && gateway) console.error(gateway.logs.join(''));
  await gateway?.stop();
});

async function newPage({ width, height }) {
  const context = await browser.newContext({ viewport: { width, height }, baseURL: gateway.url });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && !/401|Unauthorized/.test(m.text()) && page.errors.push(m.text()));
  return page;
}

/** axe's serious and critical violations on the page, one line each. */
async function axeViolations(page) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations));
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

async function assertFits(page, what) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  assert.equal(scrollWidth, innerWidth, `${what}: the page is ${scrollWidth}px wide in a ${innerWidth}px viewport`);
}

async function check(page, what) {
  try {
    await assertFits(page, what);
    assert.deepEqual(await axeViolations(page), [], `${what}: axe violations`);
    assert.deepEqual(page.errors, [], `${what}: console errors`);
  } catch (err) {
    await screenshot(page, `FAILED-layout-${what.replace(/\W+/g, '-')}`).catch(() => {});
    throw err;
  }
}

for (const viewport of VIEWPORTS) {
  describe(`layout at ${viewport.width}×${viewport.height}`, () => {
    test('the login page', async () => {
      const page = await newPage(viewport);
      await page.goto('/');
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      await check(page, `login ${viewport.name}`);
      await page.context().close();
    });

    test('every screen fits the viewport and passes axe', async () => {
      const page = await newPage(viewport);
      await loginDemo(page);
      for (const screen of SCREENS) {
        const dialog = await openScreen(page, screen);
        const what = `${screen.name} ${viewport.name}`;
        await check(page, what);
        if (dialog) {
          const box = await dialog.boundingBox();
          assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height, `${what}: the dialog ${JSON.stringify(box)} leaves the viewport`);
        }
      }
      await page.context().close();
    });

    test('a dialog opens on its first field and gives focus back on close', async () => {
      const page = await newPage(viewport);
      await loginDemo(page);
      await openScreen(page, SCREENS.find((s) => s.name === 'keys'));
      const opener = page.getByRole('button', { name: 'Edit frontend' });
      await opener.click();
      const dialog = page.getByRole('dialog', { name: /frontend/ });
      await dialog.waitFor();
      assert.equal(await dialog.getByLabel('Name', { exact: true }).evaluate((el) => el === document.activeElement), true, 'the Name field has focus');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await opener.evaluate((el) => el === document.activeElement), true, 'focus is back on the Edit button');

      // A dialog without fields opens on its heading.
      const remove = page.getByRole('button', { name: 'Delete frontend' });
      await remove.click();
      const confirm = page.getByRole('dialog');
      await confirm.getByText('Applications using this key are refused').waitFor();
      assert.equal(await confirm.getByRole('heading', { level: 2 }).evaluate((el) => el === document.activeElement), true, 'the heading has focus');
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      await confirm.waitFor({ state: 'hidden' });
      assert.equal(await remove.evaluate((el) => el === document.activeElement), true, 'focus is back on the Delete button');
      assert.deepEqual(page.errors, []);
      await page.context().close();
    });
  });
}

describe('usage log', () => {
  test('shows one line a record, at least 15 of them, in a table that fits its box', async () => {
    const page = await newPage(VIEWPORTS[0]);
    await loginDemo(page);
    await openScreen(page, SCREENS.find((s) => s.name === 'usage-log'));
    const rows = page.locator('table.log tbody tr');
    assert.ok((await rows.count()) >= 15, 'the demo has at least 15 records');
    const heights = await rows.evaluateAll((trs) => trs.map((tr) => tr.getBoundingClientRect().height));
    assert.ok(Math.max(...heights) <= 40, `rows are ${Math.min(...heights)}–${Math.max(...heights)}px tall`);
    const visible = await rows.evaluateAll((trs) => trs.filter((tr) => tr.getBoundingClientRect().bottom <= window.innerHeight).length);
    assert.ok(visible >= 15, `${visible} rows are visible at 1440×900`);
    const box = page.getByRole('region', { name: 'Usage records' });
    const { scrollWidth, clientWidth } = await box.evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }));
    assert.ok(scrollWidth <= clientWidth, `the table is ${scrollWidth}px wide in a ${clientWidth}px box`);
    // A budget refusal's reason is cut to the line, in full in its title.
    const refused = rows.filter({ hasText: 'budget' }).first();
    const cell = refused.getByRole('cell').filter({ has: page.locator('.field-error') });
    const reason = (await cell.locator('.field-error').textContent()).trim();
    assert.ok(reason.length > 40, `the reason "${reason}" is long`);
    assert.equal(await cell.getAttribute('title'), reason);
    // Clicked or reached by Tab, the cell shows the whole reason.
    const cut = await cell.evaluate((el) => el.scrollWidth > el.clientWidth);
    assert.ok(cut, 'the reason is cut to the line');
    await cell.click();
    assert.equal(await cell.evaluate((el) => el === document.activeElement && el.scrollWidth <= el.clientWidth), true, 'the focused cell shows the whole reason');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('at phone width its table scrolls in its own box, reachable by keyboard', async () => {
    const page = await newPage(VIEWPORTS[1]);
    await loginDemo(page);
    await openScreen(page, SCREENS.find((s) => s.name === 'usage-log'));
    const box = page.getByRole('region', { name: 'Usage records' });
    await page.locator('.log-wrap[tabindex="0"]').waitFor();
    await box.focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => document.querySelector('.log-wrap').scrollLeft > 0);
    await assertFits(page, 'usage log phone');
    await page.context().close();
  });
});
