/**
 * CORS is only proven in a browser: a page served from another loopback origin reads the index
 * through the local edge with fetch(), and Chromium enforces the CORS headers the edge's rule set
 * adds (on 200s and on the 304s of revalidation). The browser comes from `launchBrowser()` (the
 * npm-installed Chromium, else the system's); without one this test fails, it never skips.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { localEdgeEnvironment } from '../../edge-config/config';
import { keyfrontEdge } from '../../edge-config/keyfront';
import { startLocalEdge, type LocalEdge } from '../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import { startAzurite, type Azurite } from '../../scripts/local-stack/azurite';
import { fillExports } from '../support/exports-fixture';
import { launchBrowser } from '../support/browser';
import { startOriginStandIn, type OriginStandIn } from '../support/origin-stand-in';

const INDEX = 'v1/440/1700000000-1700003600-00001.zip\n';

describe('a web page reads the exports through the edge (Chromium)', () => {
  let browser: Browser;
  let azurite: Azurite;
  let api: OriginStandIn;
  let edge: LocalEdge;
  let page: Server;
  let pageUrl: string;

  beforeAll(async () => {
    // First: without a browser, fail at once with the instruction, before starting anything.
    browser = await launchBrowser();
    [azurite, api] = await Promise.all([startAzurite(), startOriginStandIn()]);
    await fillExports(azurite.connectionString, { 'v1/440/index.txt': { body: INDEX, contentType: 'text/plain', cacheControl: 'public, max-age=300, s-maxage=60' } });
    edge = await startLocalEdge(validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: api.url, blobPrimary: azurite.blobEndpoint })), 'local'), {
      frontDoorId: '6f1c2a4e-0b7d-4c55-9a1e-2d3f4a5b6c7d',
      probeIntervalInMs: 60_000,
    });
    // The page lives on another origin: `localhost` and its own port.
    page = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>exports reader</title><p>reader</p>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://localhost:${(page.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (page ? page.close(() => resolve()) : resolve()));
    await edge?.stop();
    await Promise.all([azurite?.stop(), api?.stop()]);
  });

  it('reads the index cross-origin, also when the browser revalidates and the edge answers 304', async () => {
    const tab = await browser.newPage();
    try {
      await tab.goto(pageUrl);
      const notModifiedBefore = edge.metrics().routes.exports.notModified;
      // This function runs in the page (browser globals), not in Node.
      const result = await tab.evaluate(async (url) => {
        const first = await fetch(url);
        const firstText = await first.text();
        // `no-cache`: the browser must revalidate its copy, with If-None-Match, and gets a 304.
        const second = await fetch(url, { cache: 'no-cache' } as unknown as RequestInit);
        return { origin: (globalThis as unknown as { location: { origin: string } }).location.origin, firstStatus: first.status, firstText, secondStatus: second.status, secondText: await second.text(), xCache: first.headers.get('x-cache') };
      }, `${edge.url}/v1/440/index.txt`);
      expect(result.origin).not.toBe(new URL(edge.url).origin);
      expect(result).toMatchObject({ firstStatus: 200, firstText: INDEX, secondStatus: 200, secondText: INDEX, xCache: 'TCP_MISS' });
      expect(edge.metrics().routes.exports.notModified).toBe(notModifiedBefore + 1);
    } finally {
      await tab.close();
    }
  });

  it('keeps the API unreadable from pages: no CORS there, so the browser refuses the answer', async () => {
    const tab = await browser.newPage();
    try {
      await tab.goto(pageUrl);
      const outcome = await tab.evaluate(async (url) => {
        try {
          await fetch(url);
          return 'read';
        } catch (error) {
          return `refused: ${(error as Error).name}`;
        }
      }, `${edge.url}/api/health`);
      expect(outcome).toBe('refused: TypeError');
      // The request did pass the edge; it is the browser that refused the answer.
      expect(api.requestsTo('/api/health').length).toBeGreaterThanOrEqual(1);
    } finally {
      await tab.close();
    }
  });
});
