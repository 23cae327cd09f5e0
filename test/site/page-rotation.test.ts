/**
 * The page in Chromium, through the local edge, during a signing-key rotation: config.json names
 * the new key and accepts the old one too, the newest day's files carry both signatures and the
 * older day's the old one only. Every file verifies, each row says which keys signed it, and the
 * key details list the other key with its fingerprint.
 */
import type { Browser } from 'playwright-core';
import { startPageFixture, type PageFixture } from '../../scripts/site/page-fixture';
import { checkEveryDay, openPage, rowsOf, screenshot, VIEWPORTS } from '../../scripts/site/page-driver';
import { launchBrowser } from '../support/browser';

describe('the transparency page during a key rotation', () => {
  let browser: Browser;
  let fixture: PageFixture;

  beforeAll(async () => {
    fixture = await startPageFixture({ days: 2, filesPerDay: 3, floor: 30, jitter: 5, rotation: true });
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await fixture?.stop();
  });

  it('verifies every file with the keys it accepts and says which signed each', async () => {
    const { page, errors, close } = await openPage(browser, `${fixture.url}/`, VIEWPORTS.desktop);
    try {
      await checkEveryDay(page);
      const rows = await rowsOf(page);
      const byFile = Object.fromEntries(rows.map((row) => [row.href.slice(1), row.status]));
      const [older, newest] = [fixture.files.slice(0, 3), fixture.files.slice(3)];
      for (const file of newest) expect([file.name, byFile[file.name]]).toEqual([file.name, 'Verified signed by 440/v1, 440/v2']);
      for (const file of older) expect([file.name, byFile[file.name]]).toEqual([file.name, 'Verified signed by 440/v1']);
      expect(await page.textContent('#summary')).toBe('All 6 files verified: each is signed by a key below and holds the keys this page lists.');
      expect(await page.textContent('.key-details')).toMatch(/Key id and version440 \/ v2.*Also acceptedA key rotation is under way: .*440 \/ v1 SHA-256 [0-9a-f ]{79}/);
      expect(await page.textContent('#fingerprint-check')).toBe('Your browser computed the same fingerprint from the key it checks with.');
      await screenshot(page, 'rotation-desktop');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
