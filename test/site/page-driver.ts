/**
 * Driving the transparency page in Chromium for the tests: console and page errors collected
 * (any is a failure), the page's own "done" mark awaited, the rows read as a reader sees them,
 * and screenshots at a phone's and a desktop's width under test-results/ (gitignored).
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';

export const SCREENSHOT_DIR = path.join(__dirname, '..', '..', 'test-results', 'site');

export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 900 },
} as const;

export interface OpenedPage {
  page: Page;
  /** Console messages of type error, uncaught exceptions, and CSP violations reported by the browser. */
  errors: string[];
}

/** Opens `url` and waits until the page has checked every file (bounded by `timeoutInMs`). */
export async function openPage(browser: Browser, url: string, viewport: { width: number; height: number }, timeoutInMs = 60_000): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') errors.push(`console.${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  await page.goto(url);
  await page.waitForSelector('html[data-state="done"]', { timeout: timeoutInMs });
  return { page, errors };
}

export interface Row {
  file: string;
  window: string;
  batch: string;
  keys: string;
  status: string;
}

/** The files table as text, one object per row. */
export async function rowsOf(page: Page): Promise<Row[]> {
  return page.$$eval('table.files tbody tr', (rows) =>
    rows.map((row) => {
      const cells = Array.from((row as unknown as { children: ArrayLike<{ textContent: string | null }> }).children).map((cell) => (cell.textContent ?? '').replace(/\s+/g, ' ').trim());
      return { file: cells[0], window: cells[1], batch: cells[2], keys: cells[3], status: cells[5] };
    }),
  );
}

/** Presses Tab until focus lands on a link inside the files table; the number of presses, or `undefined` after `limit`. */
export async function tabIntoFiles(page: Page, limit = 25): Promise<number | undefined> {
  for (let presses = 1; presses <= limit; presses++) {
    await page.keyboard.press('Tab');
    const inside = await page.evaluate(() => {
      const active = (globalThis as unknown as { document: { activeElement: { closest(selector: string): unknown; tagName: string } | null } }).document.activeElement;
      return Boolean(active && active.tagName === 'A' && active.closest('table.files'));
    });
    if (inside) return presses;
  }
  return undefined;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
