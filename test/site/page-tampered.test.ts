/**
 * The page in Chromium against a test origin that serves the built page with the edge's strict
 * headers (the same CSP object the edge declares) and an index naming good and bad files: a file
 * whose export.bin was altered after signing, one signed by another key, one of another region.
 * Each bad file shows as failed with its reason, the good ones as verified, and nothing reaches
 * the console: no CSP violation, no error.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { SITE_SECURITY_HEADERS } from '../../edge-config/keyfront';
import { buildExport } from '../../proto/codec';
import { realisticKeys } from '../../proto/test-keys';
import { readExportZip, writeExportZip } from '../../proto/zip';
import { LocalSigner } from '../../publisher/signers/local';
import { siteConfig, type SiteFile } from '../../publisher/site';
import { buildSite } from '../../scripts/site/build';
import { launchBrowser } from '../support/browser';
import { openPage, rowsOf, screenshot, tabIntoFiles, VIEWPORTS } from './page-driver';

const CONTENT_TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', json: 'application/json; charset=utf-8', zip: 'application/zip', txt: 'text/plain; charset=utf-8' };

interface Served {
  body: Buffer;
  type: string;
}

function startOrigin(files: Map<string, Served>): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://origin').pathname;
    requests.push(pathname);
    const file = files.get(pathname === '/' ? '/site/index.html' : pathname);
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found","code":"not_found"}');
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store', ...SITE_SECURITY_HEADERS });
    res.end(file.body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests })));
}

function signerOf(privateKey: KeyObject): LocalSigner {
  return new LocalSigner(privateKey, { keyId: '440', keyVersion: 'v1' });
}

describe('the transparency page shows altered and foreign files as failed, with the reason', () => {
  let browser: Browser;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  const names: Record<string, string> = {};
  const files = new Map<string, Served>();

  beforeAll(async () => {
    const authority = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const hour = Math.floor(Date.now() / 3_600_000) * 3600;
    const windowAt = (hoursAgo: number) => ({ startTimestamp: hour - hoursAgo * 3600, endTimestamp: hour - (hoursAgo - 1) * 3600 });
    const pathOf = (w: { startTimestamp: number; endTimestamp: number }) => `v1/440/${w.startTimestamp}-${w.endTimestamp}-00001.zip`;
    const make = async (label: string, hoursAgo: number, region: string, signer: LocalSigner, keyCount: number) => {
      const w = windowAt(hoursAgo);
      names[label] = pathOf(w);
      return { path: names[label], zip: (await buildExport({ region, ...w, keys: realisticKeys(keyCount) }, signer)).zip };
    };
    const good = [await make('goodYesterday', 30, '440', signerOf(authority.privateKey), 40), await make('good', 6, '440', signerOf(authority.privateKey), 25)];
    const foreign = await make('otherKey', 5, '440', signerOf(stranger.privateKey), 10);
    const region = await make('otherRegion', 4, '441', signerOf(authority.privateKey), 10);
    const altered = await make('altered', 3, '440', signerOf(authority.privateKey), 10);
    // One byte of a key changed after signing: the zip is sound, the signature is not.
    const { bin, sig } = await readExportZip(altered.zip);
    bin[bin.length - 30] ^= 0x01;
    altered.zip = await writeExportZip(bin, sig);

    const all = [...good, foreign, region, altered].sort((a, b) => a.path.localeCompare(b.path));
    const site: SiteFile[] = await buildSite();
    for (const file of site) files.set(`/site/${file.name}`, { body: file.data, type: CONTENT_TYPES[file.name.split('.').pop()!] });
    files.set('/site/config.json', { body: Buffer.from(JSON.stringify(siteConfig(['440'], authority.publicKey, { keyId: '440', keyVersion: 'v1' }))), type: CONTENT_TYPES.json });
    files.set('/v1/440/index.txt', { body: Buffer.from(all.map((file) => file.path).join('\n')), type: CONTENT_TYPES.txt });
    for (const file of all) files.set(`/${file.path}`, { body: file.zip, type: CONTENT_TYPES.zip });
    origin = await startOrigin(files);
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (origin ? origin.server.close(() => resolve()) : resolve()));
  });

  it('lists every file: the good ones verified, each bad one failed with its code and a sentence; no console errors', async () => {
    const { page, errors } = await openPage(browser, `${origin.url}/`, VIEWPORTS.desktop);
    try {
      const rows = await rowsOf(page);
      const byFile = Object.fromEntries(rows.map((row) => [row.file, row]));
      const short = (label: string) => names[label].split('/').pop()!;
      expect(rows).toHaveLength(5);
      expect(byFile[short('good')]).toMatchObject({ status: 'Verified', batch: '1 of 1', keys: '25' });
      expect(byFile[short('goodYesterday')]).toMatchObject({ status: 'Verified', keys: '40' });
      expect(byFile[short('altered')].status).toMatch(/^Failed.*signature.*signature_invalid$/);
      expect(byFile[short('otherKey')].status).toMatch(/^Failed.*signature_invalid$/);
      expect(byFile[short('otherRegion')].status).toMatch(/^Failed.*441.*wrong_region$/);
      expect(await page.textContent('#summary')).toBe('3 of 5 files failed verification. See the reasons below.');
      expect(await page.getAttribute('#summary', 'class')).toBe('summary is-failed');
      // The plot counts verified files only: two days (the good files are 24 h apart), 40 and 25 keys.
      expect(await page.$$eval('.chart-bar title', (titles) => titles.map((t) => t.textContent))).toEqual([expect.stringMatching(/: 40 keys in 1 files$/), expect.stringMatching(/: 25 keys in 1 files$/)]);
      await screenshot(page, 'tampered-desktop');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('is usable by keyboard and on a phone-width screen', async () => {
    const { page, errors } = await openPage(browser, `${origin.url}/`, VIEWPORTS.phone);
    try {
      // Focus reaches the list of files (the skip link first, then the file links).
      expect(await tabIntoFiles(page)).toBeDefined();
      // No sideways scrolling on a phone.
      expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(VIEWPORTS.phone.width);
      await screenshot(page, 'tampered-phone');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('fetches nothing but its own origin (no favicon, no third party)', async () => {
    expect(origin.requests.length).toBeGreaterThan(0);
    expect(origin.requests.filter((p) => !(p === '/' || p.startsWith('/site/') || p.startsWith('/v1/440/')))).toEqual([]);
  });

  it('warns when config.json misstates the fingerprint of the key it serves', async () => {
    const good = files.get('/site/config.json')!;
    const config = JSON.parse(good.body.toString()) as { signingKey: { fingerprintSha256: string } };
    config.signingKey.fingerprintSha256 = '0'.repeat(64);
    files.set('/site/config.json', { body: Buffer.from(JSON.stringify(config)), type: CONTENT_TYPES.json });
    try {
      const { page, errors } = await openPage(browser, `${origin.url}/`, VIEWPORTS.desktop);
      try {
        expect(await page.textContent('#summary')).toBe('config.json announces another fingerprint than the key it serves: do not trust this page.');
        expect(await page.textContent('.key-details')).toMatch(/differs from the key it serves/);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    } finally {
      files.set('/site/config.json', good);
    }
  });

  it('says it cannot check anything when config.json is unusable, and fetches no index', async () => {
    const good = files.get('/site/config.json')!;
    files.set('/site/config.json', { body: Buffer.from('{"regions":[],"signingKey":{}}'), type: CONTENT_TYPES.json });
    origin.requests.length = 0;
    try {
      const { page, errors } = await openPage(browser, `${origin.url}/`, VIEWPORTS.desktop);
      try {
        expect(await page.textContent('#summary')).toBe('This page cannot check anything: config.json: regions must be a non-empty list of region codes.');
        expect(await page.getAttribute('#summary', 'class')).toBe('summary is-failed');
        expect(origin.requests.filter((p) => p.startsWith('/v1/'))).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    } finally {
      files.set('/site/config.json', good);
    }
  });
});
