/**
 * The transparency page at full scale, in Chromium through the local edge: 336 real signed files
 * (14 days x 24 windows), the page published by the publisher's own `publishSite`
 * (scripts/site/page-fixture.ts). Without JavaScript it lists every file of the index with its
 * link, the index files, the key and its fingerprint, and commands that check a file by hand
 * (run here as written). With it, the newest day is verified at once
 * (within 2 s on loopback) for a bounded download, older days when asked, one announcement per
 * day; a check asked for again reads the server, not the browser's cache. Tables stay tables on a
 * phone, marks need no font, nothing reaches the console (contrast: page-tampered.test.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { RECIPE_SITE_PLACEHOLDER } from '../../site/page-content';
import { FIRST_DAY_MARK } from '../../site/page-view';
import type { SiteFile } from '../../publisher/site';
import { readExportZip, writeExportZip } from '../../proto/zip';
import { buildSite } from '../../scripts/site/build';
import { startPageFixture, type PageFixture } from '../../scripts/site/page-fixture';
import { launchBrowser } from '../support/browser';
import { announcements, bytesDownloaded, checkAgain, checkEveryDay, contrastProblems, markTime, navigate, openPage, rowsOf, screenshot, VIEWPORTS, type OpenedPage } from '../../scripts/site/page-driver';

/** The bounds: the first day within 2 s on loopback, a few MB before the reader asks for more. */
const FIRST_DAY_WITHIN_MS = 2000;
const BYTES_BEFORE_ASKING = 2 * 1024 * 1024;
/** Page heights with every day collapsed but the newest (the issue measured 14,471 px and 67,013 px). */
const HEIGHT_BOUND = { desktop: 5000, phone: 10_000 };

describe('the transparency page at 336 files (14 days x 24), through the local edge', () => {
  let site: SiteFile[];
  let fixture: PageFixture;
  let browser: Browser;
  let indexPaths: string[];
  let opened: OpenedPage | undefined;

  beforeAll(async () => {
    site = await buildSite();
    fixture = await startPageFixture({ site, fingerprintUrl: 'https://health.example/exposure-keys' });
    indexPaths = (await (await fetch(`${fixture.url}/v1/440/index.txt`)).text()).split('\n');
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await opened?.close();
    await browser?.close();
    await fixture?.stop();
  });

  it('answers a plain GET of / with every file of the index linked, and the index files, the key and its fingerprint', async () => {
    expect(indexPaths).toHaveLength(336);
    const response = await fetch(`${fixture.url}/`);
    const html = await response.text();
    expect([response.status, response.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    for (const path of indexPaths) expect(html).toContain(`href="/${path}"`);
    for (const link of ['/v1/440/index.txt', '/v1/440/index.json', '/site/signing-key.pem', 'https://health.example/exposure-keys']) expect(html).toContain(`href="${link}"`);
    expect(html).toContain(`data-fingerprint="${fixture.fingerprintSha256}"`);
    const key = await fetch(`${fixture.url}/site/signing-key.pem`);
    expect([key.status, (await key.text()).startsWith('-----BEGIN PUBLIC KEY-----')]).toEqual([200, true]);
  });

  it('gives commands that check the newest file by hand, which work as written (curl, python3, openssl)', async () => {
    const html = await (await fetch(`${fixture.url}/`)).text();
    const recipe = /<code id="recipe">([\s\S]*?)<\/code>/.exec(html)?.[1];
    expect(recipe).toBeDefined();
    const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
    const script = recipe!.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => entities[entity]).replace(RECIPE_SITE_PLACEHOLDER, fixture.url);
    const dir = await mkdtemp(path.join(tmpdir(), 'keyfront-recipe-'));
    try {
      // Asynchronously: the edge answering curl runs in this process.
      const { stdout } = await promisify(execFile)('bash', ['-e', '-c', script], { cwd: dir, encoding: 'utf8' });
      expect(stdout).toContain(`SHA2-256(stdin)= ${fixture.fingerprintSha256}`);
      expect(stdout.trim().endsWith('Verified OK')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads fully with JavaScript off: 336 links in their days (the newest open), the key, the fingerprint, and why nothing is checked', async () => {
    const { page, errors, close } = await openPage(browser, `${fixture.url}/`, VIEWPORTS.desktop, { javaScript: false });
    try {
      const rows = await rowsOf(page);
      expect(rows.map((row) => row.href)).toEqual(sortedNewestDayFirst(indexPaths).map((path) => `/${path}`));
      expect(rows.every((row) => row.status === 'Not checked' && /^\d\d:\d\d–\d\d:\d\d$/.test(row.window) && /^1,\d{3}$/.test(row.keys))).toBe(true);
      expect(await page.$$eval('details.day', (days) => days.map((day) => (day as unknown as { open: boolean }).open))).toEqual([true, ...Array(13).fill(false)]);
      expect((await page.textContent('#fingerprint'))?.replace(/ /g, '')).toBe(fixture.fingerprintSha256);
      expect([await page.isVisible('p.notice'), await page.textContent('p.notice')]).toEqual([true, expect.stringMatching(/^JavaScript is off, so this browser checks nothing\./)]);
      expect(await page.textContent('.counts-lede')).toMatch(/^[\d,]+ keys in 336 files, padding included\./);
      // Rows not checked, as a reader without JavaScript sees them, in light and dark.
      expect(await contrastProblems(page)).toEqual([]);
      await page.emulateMedia({ colorScheme: 'dark' });
      expect(await contrastProblems(page)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  it('verifies the newest day at once, within 2 s and under 2 MB, announces it once, and every file once the reader asks for the other 13 days', async () => {
    opened = await openPage(browser, `${fixture.url}/`, VIEWPORTS.desktop);
    const { page, errors } = opened;
    const firstDay = await markTime(page, FIRST_DAY_MARK);
    const bytes = await bytesDownloaded(page);
    process.stdout.write(`page at 336 files: first day verified at ${firstDay?.toFixed(0)} ms, ${bytes} bytes before the reader asked\n`);
    expect(firstDay).toBeLessThan(FIRST_DAY_WITHIN_MS);
    expect(bytes).toBeLessThan(BYTES_BEFORE_ASKING);
    const newestDay = sortedNewestDayFirst(indexPaths).slice(0, 24);
    expect((await rowsOf(page)).map((row) => row.status)).toEqual([...Array(24).fill('Verified'), ...Array(312).fill('Not checked')]);
    expect(fixture.originRequests.filter((path) => path.endsWith('.zip')).sort()).toEqual([...newestDay].sort());
    expect(await announcements(page)).toEqual([expect.stringMatching(/^Region 440, \d{4}-\d\d-\d\d: all 24 files verified\.$/)]);
    expect(await page.textContent('.region-actions button.action:not(.secondary)')).toMatch(/^Check the other 13 days \(312 files, [\d.]+ MB\)$/);
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollHeight: number } } }).document.documentElement.scrollHeight)).toBeLessThan(HEIGHT_BOUND.desktop);

    await checkEveryDay(page);
    expect((await rowsOf(page)).every((row) => row.status === 'Verified')).toBe(true);
    expect(await page.textContent('#summary')).toBe('All 336 files verified: each is signed by the key below and holds the keys this page lists.');
    const said = await announcements(page);
    expect(said).toHaveLength(15);
    expect(said.slice(1, 14).every((text) => /^Region 440, \d{4}-\d\d-\d\d: all 24 files verified\.$/.test(text))).toBe(true);
    expect(said[14]).toBe('Region 440: 14 of 14 days checked: 336 of 336 files verified.');
    expect(await page.$$eval('[aria-live]', (live) => live.length)).toBe(1);
    expect(await page.$$eval('details.day .day-status', (all) => all.map((s) => s.textContent))).toEqual(Array(14).fill('All 24 verified'));
    await screenshot(page, 'scale-desktop');
    expect(errors).toEqual([]);
  }, 60_000);

  it('keeps its tables on a phone, fits its width, and draws its marks without a font', async () => {
    const { page, errors } = opened!;
    await page.setViewportSize(VIEWPORTS.phone);
    const layout = await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; scrollHeight: number }; querySelectorAll(s: string): ArrayLike<unknown> } }).document;
      const style = (e: unknown, pseudo?: string) => (globalThis as unknown as { getComputedStyle(e: unknown, p?: string): Record<string, string> }).getComputedStyle(e, pseudo);
      return {
        width: d.documentElement.scrollWidth,
        height: d.documentElement.scrollHeight,
        displays: [...new Set(Array.from(d.querySelectorAll('table tr')).map((row) => style(row).display))],
        cells: [...new Set(Array.from(d.querySelectorAll('table td, table th')).map((cell) => style(cell).display))],
        mark: style(d.querySelectorAll('.files .status.is-verified .mark')[0], '::before').borderRightWidth,
        text: (d as unknown as { body: { innerText: string } }).body.innerText,
      };
    });
    expect(layout.width).toBeLessThanOrEqual(VIEWPORTS.phone.width);
    expect(layout.height).toBeLessThan(HEIGHT_BOUND.phone);
    expect([layout.displays, layout.cells]).toEqual([['table-row'], ['table-cell']]);
    expect(parseFloat(layout.mark)).toBeGreaterThan(0);
    // No arrows, symbols or dingbats a phone may lack a font for (U+2190..U+2BFF).
    expect(layout.text.match(/[\u2190-\u2bff]/g)).toBeNull();
    await screenshot(page, 'scale-phone');
    expect(errors).toEqual([]);
  });

  it('checks again from the server when asked: a file replaced at the origin passes from the browser cache, then fails read afresh', async () => {
    const { page, errors } = opened!;
    await page.setViewportSize(VIEWPORTS.desktop);
    const target = sortedNewestDayFirst(indexPaths)[4];
    const { bin, sig } = await readExportZip(Buffer.from(await (await fetch(`${fixture.url}/${target}`)).arrayBuffer()));
    bin[bin.length - 30] ^= 0x01;
    await fixture.replaceBlob(target, await writeExportZip(bin, sig));
    const before = fixture.originRequests.length;
    await navigate(page, `${fixture.url}/`);
    // A returning visitor: the newest day verifies from what the browser cached (immutable files), the server is not asked.
    expect((await rowsOf(page)).find((row) => row.href === `/${target}`)?.status).toBe('Verified');
    expect(fixture.originRequests.slice(before)).not.toContain(target);

    await checkAgain(page);
    expect(fixture.originRequests.slice(before)).toContain(target);
    const row = (await rowsOf(page)).find((candidate) => candidate.href === `/${target}`);
    expect(row?.status).toMatch(/^Failed no signature in export\.sig verifies export\.bin .* signature_invalid$/);
    expect(await page.textContent('#summary')).toBe('1 of 24 checked files failed. See the reasons below and “When a file fails”.');
    expect((await announcements(page)).at(-1)).toBe('Region 440, checked again from the server: 1 of 14 days checked: 23 of 336 files verified, 1 failed.');
    expect(await page.$eval('details.day', (day) => (day as unknown as { open: boolean }).open)).toBe(true);
    expect(errors).toEqual([]);
  });
});

/** Index paths in page order: days newest first, each day's files in index order. */
function sortedNewestDayFirst(paths: readonly string[]): string[] {
  const dayOf = (path: string) => Math.floor(Number(/\/(\d+)-/.exec(path)![1]) / 86400);
  return [...paths].sort((a, b) => dayOf(b) - dayOf(a) || paths.indexOf(a) - paths.indexOf(b));
}
