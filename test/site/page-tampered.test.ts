/**
 * The page in Chromium, through the local edge, when storage holds what it should not: a file
 * altered after signing, one signed by another key, one of another region, one signed but holding
 * another count than the page lists, one the index names that is missing; and an index that
 * names a file the page does not list yet and no longer names one it lists. Each bad file shows as
 * failed with its reason, the rows follow the index, nothing reaches the console but Chromium's own
 * line for the missing file's 404, every text has AA contrast (light and dark), and a config.json
 * that misstates or cannot give the key is said so.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { buildExport } from '../../proto/codec';
import { realisticKeys } from '../../proto/test-keys';
import { readExportZip, writeExportZip } from '../../proto/zip';
import { LocalSigner } from '../../publisher/signers/local';
import { startPageFixture, type PageFixture } from '../../scripts/site/page-fixture';
import { launchBrowser } from '../support/browser';
import { announcements, checkAgain, contrastProblems, openPage, rowsOf, screenshot, tabIntoFiles, VIEWPORTS } from '../../scripts/site/page-driver';

/** What Chromium itself logs for each download of the missing file: a server fault the page reports as `file_missing`, not an error of the page. */
const MISSING_FILE_LOG = 'console.error: Failed to load resource: the server responded with a status of 404 (Not Found)';

describe('the transparency page shows altered, foreign and missing files as failed, with the reason', () => {
  let browser: Browser;
  let fixture: PageFixture;
  const bad: Record<string, string> = {};
  let gone: string;
  let added: string;

  beforeAll(async () => {
    fixture = await startPageFixture({ days: 2, filesPerDay: 6, floor: 40, jitter: 5 });
    const newest = fixture.files.slice(6);
    const stranger = new LocalSigner(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey, { keyId: '440', keyVersion: 'v1' });
    const windowOf = (i: number) => ({ startTimestamp: newest[i].start, endTimestamp: newest[i].end });
    // One key byte changed after signing: the zip is sound, the signature is not.
    const original = await readExportZip((await fixture.exports.read(newest[1].name))!.data);
    original.bin[original.bin.length - 30] ^= 0x01;
    await fixture.replaceBlob((bad.altered = newest[1].name), await writeExportZip(original.bin, original.sig));
    await fixture.replaceBlob((bad.otherKey = newest[2].name), (await buildExport({ region: '440', ...windowOf(2), keys: realisticKeys(newest[2].keys) }, stranger)).zip);
    await fixture.replaceBlob((bad.otherRegion = newest[3].name), (await buildExport({ region: '441', ...windowOf(3), keys: realisticKeys(newest[3].keys) }, fixture.signer)).zip);
    await fixture.replaceBlob((bad.otherCount = newest[4].name), (await buildExport({ region: '440', ...windowOf(4), keys: realisticKeys(newest[4].keys + 1) }, fixture.signer)).zip);
    // The index now names a file the page does not list (and storage lacks), and no longer one it lists.
    gone = fixture.files[2].name;
    added = `v1/440/${newest[5].start}-${newest[5].end}-00002.zip`;
    const index = fixture.files.map((file) => file.name).filter((name) => name !== gone);
    await fixture.replaceBlob('v1/440/index.txt', Buffer.from([...index, added].join('\n')));
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await fixture?.stop();
  });

  it('verifies the good files of the newest day and fails each bad one with its code and a sentence; nothing on the console but the missing file\'s 404', async () => {
    const { page, errors, close } = await openPage(browser, `${fixture.url}/`, VIEWPORTS.desktop);
    try {
      const rows = await rowsOf(page);
      const byFile = Object.fromEntries(rows.map((row) => [row.href.slice(1), row]));
      const good = fixture.files.slice(6).map((file) => file.name).filter((name) => !Object.values(bad).includes(name));
      for (const name of good) expect([name, byFile[name].status]).toEqual([name, 'Verified']);
      expect(byFile[bad.altered].status).toMatch(/^Failed no signature in export\.sig verifies export\.bin .* signature_invalid$/);
      expect(byFile[bad.otherKey].status).toMatch(/^Failed .* signature_invalid$/);
      expect(byFile[bad.otherRegion].status).toMatch(/^Failed the file is of region "441", not "440" wrong_region$/);
      expect(byFile[bad.otherCount].status).toMatch(/^Failed the file is signed and holds \d+ keys, but this page lists \d+ count_mismatch$/);
      // A row the script added for the file the index names; its download fails.
      expect(byFile[added]).toMatchObject({ keys: '—', size: '—', status: expect.stringMatching(/^Failed the server answered 404 for this file file_missing$/) });
      expect(byFile[gone].status).toBe('Not in the index now');
      expect(await page.textContent('#summary')).toBe('5 of 7 checked files failed. See the reasons below and “When a file fails”.');
      expect(await page.getAttribute('#summary', 'class')).toBe('summary is-failed');
      expect(await page.textContent('.region-status')).toBe('1 of 2 days checked: 2 of 12 files verified, 5 failed. 1 file this page lists is no longer in the index.');
      expect(await announcements(page)).toEqual([expect.stringMatching(/^Region 440, \d{4}-\d\d-\d\d: 5 of 7 files failed\.$/)]);
      await screenshot(page, 'tampered-desktop');
      expect(errors).toEqual([MISSING_FILE_LOG]);
    } finally {
      await close();
    }
  });

  it('has AA contrast for every text (verified, failed, not checked, gone), in light and in dark', async () => {
    const { page, errors, close } = await openPage(browser, `${fixture.url}/`, VIEWPORTS.desktop);
    try {
      for (const section of ['#check-yourself', '#glossary', 'details.day:not([open])']) await page.click(`${section} > summary`);
      // Opening the older day checks it.
      await page.waitForFunction(() => {
        const d = (globalThis as unknown as { document: { querySelector(s: string): unknown; documentElement: { dataset: Record<string, string> } } }).document;
        return !d.querySelector('.day-status .is-unchecked') && d.documentElement.dataset.state === 'done';
      });
      expect(await page.textContent('.region-status')).toBe('2 of 2 days checked: 7 of 12 files verified, 5 failed. 1 file this page lists is no longer in the index.');
      expect(await contrastProblems(page)).toEqual([]);
      await page.emulateMedia({ colorScheme: 'dark' });
      expect(await contrastProblems(page)).toEqual([]);
      await screenshot(page, 'tampered-dark');
      expect(errors).toEqual([MISSING_FILE_LOG]);
    } finally {
      await close();
    }
  });

  it('is usable by keyboard and on a phone-width screen, and asks nothing of another origin', async () => {
    const { page, errors, close } = await openPage(browser, `${fixture.url}/`, VIEWPORTS.phone);
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(`${fixture.url}/`)) foreign.push(request.url());
    });
    try {
      // Focus reaches the list of files (the skip link, the page's links, then the file links).
      expect(await tabIntoFiles(page)).toBeDefined();
      expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(VIEWPORTS.phone.width);
      await page.reload();
      await page.waitForSelector('html[data-state="done"]');
      await screenshot(page, 'tampered-phone');
      expect(foreign).toEqual([]);
      expect(errors).toEqual([MISSING_FILE_LOG, MISSING_FILE_LOG]);
    } finally {
      await close();
    }
  });

  it('warns when config.json names another key than the fingerprint the page shows', async () => {
    const good = (await fixture.exports.read('site/config.json'))!.data;
    const config = JSON.parse(good.toString()) as { signingKey: { fingerprintSha256: string } };
    config.signingKey.fingerprintSha256 = '0'.repeat(64);
    await fixture.replaceBlob('site/config.json', Buffer.from(JSON.stringify(config)));
    try {
      const { page, errors, close } = await openPage(browser, `${fixture.url}/`, VIEWPORTS.desktop);
      try {
        expect(await page.textContent('#summary')).toBe('The key this page checks with differs from the fingerprint it shows: do not trust this page.');
        expect(await page.textContent('#fingerprint-check')).toBe('Your browser computed another fingerprint from the key it checks with. Do not trust this page.');
        expect(errors).toEqual([MISSING_FILE_LOG]);
      } finally {
        await close();
      }
    } finally {
      await fixture.replaceBlob('site/config.json', good);
    }
  });

  it('says it cannot check anything when config.json is unusable, and reads no index', async () => {
    const good = (await fixture.exports.read('site/config.json'))!.data;
    await fixture.replaceBlob('site/config.json', Buffer.from('{"regions":[],"signingKey":{}}'));
    try {
      const { page, errors, close } = await openPage(browser, `${fixture.url}/`, VIEWPORTS.desktop);
      try {
        expect(await page.textContent('#summary')).toBe('This page cannot check anything: config.json: regions must be a non-empty list of region codes.');
        expect(await page.getAttribute('#summary', 'class')).toBe('summary is-failed');
        const read = await page.evaluate(() => (performance as unknown as { getEntriesByType(t: string): Array<{ name: string }> }).getEntriesByType('resource').map((entry) => new URL(entry.name).pathname));
        expect(read.filter((path) => path.startsWith('/v1/'))).toEqual([]);
        // The list is still there to read and check by hand.
        expect((await rowsOf(page)).length).toBe(12);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    } finally {
      await fixture.replaceBlob('site/config.json', good);
    }
  });

  it('follows the index when checked again from the server: a file named again comes back, and is checked', async () => {
    const { page, errors, close } = await openPage(browser, `${fixture.url}/`, VIEWPORTS.desktop);
    try {
      await page.click('details.day:not([open]) > summary');
      await page.waitForFunction(() => !(globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector('.day-status .is-unchecked, .day-status .is-checking'));
      expect((await rowsOf(page)).find((row) => row.href === `/${gone}`)?.status).toBe('Not in the index now');
      const current = (await fixture.exports.read('v1/440/index.txt'))!.data.toString();
      await fixture.replaceBlob('v1/440/index.txt', Buffer.from([gone, ...current.split('\n')].sort().join('\n')));
      await checkAgain(page);
      expect((await rowsOf(page)).find((row) => row.href === `/${gone}`)?.status).toBe('Verified');
      expect(await page.textContent('.region-status')).toBe('2 of 2 days checked: 8 of 13 files verified, 5 failed.');
      expect(errors).toEqual([MISSING_FILE_LOG, MISSING_FILE_LOG]);
    } finally {
      await close();
    }
  });
});
