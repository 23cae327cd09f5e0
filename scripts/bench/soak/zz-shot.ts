import { readFileSync } from 'node:fs';
import { launchBrowser } from '../../../test/support/browser';
(async () => {
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 960, height: 700 } });
  await page.setContent(readFileSync(process.argv[2], 'utf8'));
  await page.screenshot({ path: process.argv[3], timeout: 120_000 });
  await browser.close();
})();
