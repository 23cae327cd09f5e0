/**
 * `npm start`, then the edge root, as README tells a reader to do: the stack builds and publishes
 * the page at start, keys are published by `keyfront publish --once` (which renews the page), and
 * the page, served by the local edge from Azurite with the edge's strict headers, lists every file
 * of the index to a plain GET without JavaScript, and in Chromium shows each of them verified and
 * the fingerprint of the stack's signing key, with nothing on the console.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { request } from 'undici';
import { CosmosClient } from '@azure/cosmos';
import type { Browser } from 'playwright-core';
import { CosmosExposureStore } from '../../exposures/cosmos-store';
import { cosmosEmulatorClientOptions } from '../../scripts/local-stack/cosmos-emulator';
import { launchBrowser } from '../support/browser';
import { runKeyfront } from '../support/cli';
import { exposureAt } from '../support/publisher-harness';
import { checkEveryDay, openPage, rowsOf, screenshot, tabIntoFiles, VIEWPORTS } from '../../scripts/site/page-driver';
import { freeStackEnvironment } from '../support/stack-environment';

const ROOT = path.join(__dirname, '..', '..');

describe('the transparency page on the local stack (npm start)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let stack: ChildProcess | undefined;
  let output = '';
  let edgeUrl: string;
  let browser: Browser;
  let indexPaths: string[];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'keyfront-site-stack-'));
    env = await freeStackEnvironment(dataDir);
    stack = spawn('npm', ['start', '--silent'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    stack.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    stack.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    for (let waited = 0; !output.includes('ready.'); waited += 100) {
      if (stack.exitCode !== null || waited > 120_000) throw new Error(`the stack did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const described = JSON.parse(await readFile(path.join(dataDir, 'stack.json'), 'utf8')) as { cosmosEndpoint: string; edgeUrl: string; region: string };
    edgeUrl = described.edgeUrl;
    // Keys in two one-minute windows the stack's own clock has not closed yet; `--now` closes both.
    const client = new CosmosClient(cosmosEmulatorClientOptions(described.cosmosEndpoint));
    const now = Math.floor(Date.now() / 1000);
    await new CosmosExposureStore({ container: client.database('keyfront').container('exposures') }).insert([exposureAt(described.region, now + 60), exposureAt(described.region, now + 120)]);
    client.dispose();
    const published = await runKeyfront(['publish', '--once', '--now', new Date((now + 300) * 1000).toISOString()], { env });
    if (published.status !== 0) throw new Error(`keyfront publish failed (${published.status}): ${published.stderr}`);
    const index = await request(`${edgeUrl}/v1/${described.region}/index.txt`);
    indexPaths = (await index.body.text()).split('\n').filter(Boolean);
    browser = await launchBrowser();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (stack && stack.exitCode === null) {
      const exited = new Promise((resolve) => stack!.once('exit', resolve));
      stack.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the page at the edge root with the strict headers, and its assets under /site/', async () => {
    const root = await request(`${edgeUrl}/`);
    const html = await root.body.text();
    expect(root.statusCode).toBe(200);
    expect(root.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(root.headers['content-security-policy']).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(root.headers['x-content-type-options']).toBe('nosniff');
    const script = /src="(\/site\/app\.[0-9a-f]{12}\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await request(`${edgeUrl}${script}`);
    await asset.body.dump();
    expect([asset.statusCode, asset.headers['content-type'], asset.headers['cache-control']]).toEqual([200, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable']);
    const config = await request(`${edgeUrl}/site/config.json`);
    expect([config.statusCode, config.headers['cache-control']]).toEqual([200, 'public, max-age=60, s-maxage=300']);
    expect(((await config.body.json()) as { regions: string[] }).regions).toEqual(['440']);
    const key = await request(`${edgeUrl}/site/signing-key.pem`);
    expect([key.statusCode, key.headers['content-type'], await key.body.text()]).toEqual([200, 'application/x-pem-file', await readFile(path.join(dataDir, 'signing-public.pem'), 'utf8')]);
  });

  it('lists every file of the index to a plain GET of / (no JavaScript), with index.txt, the key and its fingerprint', async () => {
    const root = await request(`${edgeUrl}/`);
    const html = await root.body.text();
    expect(indexPaths.length).toBeGreaterThanOrEqual(2);
    for (const file of indexPaths) expect(html).toContain(`<a class="file-link" href="/${file}" download="${file.split('/').pop()}">`);
    for (const link of ['/v1/440/index.txt', '/v1/440/index.json', '/site/signing-key.pem']) expect(html).toContain(`href="${link}"`);
    expect(html).toContain(`data-fingerprint="${await stackFingerprint()}"`);
  });

  it('shows every file of the index verified, the key fingerprint of the stack, and no console errors', async () => {
    const { page, errors, close } = await openPage(browser, `${edgeUrl}/`, VIEWPORTS.desktop);
    try {
      // The two windows fall on one UTC day unless the test runs at midnight: then the older day is checked on asking.
      await checkEveryDay(page);
      const rows = await rowsOf(page);
      expect(rows.map((row) => row.href.slice(1)).sort()).toEqual([...indexPaths].sort());
      for (const row of rows) expect({ file: row.file, status: row.status }).toEqual({ file: row.file, status: 'Verified' });
      expect(await page.textContent('#summary')).toBe(`All ${indexPaths.length} files verified: each is signed by the key below and holds the keys this page lists.`);
      expect((await page.textContent('#fingerprint'))?.replace(/ /g, '')).toBe(await stackFingerprint());
      expect(await page.textContent('#fingerprint-check')).toBe('Your browser computed the same fingerprint from the key it checks with.');
      expect(await tabIntoFiles(page)).toBeDefined();
      await screenshot(page, 'stack-desktop');
      await page.setViewportSize(VIEWPORTS.phone);
      await screenshot(page, 'stack-phone');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  async function stackFingerprint(): Promise<string> {
    const spki = createPublicKey(await readFile(path.join(dataDir, 'signing-public.pem'), 'utf8')).export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(spki).digest('hex');
  }
});
