// Writes the README's screenshots: every screen at desktop and phone size,
// from a fresh gateway filled with demo data. Run with `npm run screenshots`
// after `npm run build` (the gateway embeds web/dist).
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { docsDir, launchBrowser } from './gateway.mjs';
import { SCREENS, VIEWPORTS, loginDemo, openScreen, startDemoGateway } from './demo.mjs';

const gateway = await startDemoGateway();
const browser = await launchBrowser();
try {
  await mkdir(docsDir, { recursive: true });
  for (const file of await readdir(docsDir)) if (file.endsWith('.png')) await rm(join(docsDir, file));
  for (const viewport of VIEWPORTS) {
    const context = await browser.newContext({ viewport: { width: viewport.width, height: viewport.height }, baseURL: gateway.url, colorScheme: 'light' });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    await page.goto('/');
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await page.screenshot({ path: join(docsDir, `login-${viewport.name}.png`) });
    await loginDemo(page);
    for (const screen of SCREENS) {
      const dialog = await openScreen(page, screen);
      // The service dialog is shown at its targets.
      if (dialog) await dialog.getByTestId('target-row').first().scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(docsDir, `${screen.name}-${viewport.name}.png`) });
    }
    await context.close();
  }
  console.log(`screenshots written to ${docsDir}`);
} finally {
  await browser.close();
  await gateway.stop();
}
