/**
 * Driving the transparency page in Chromium for the tests and the page benchmark: console and page
 * errors collected (any is a failure), the page's own "done" mark awaited, the rows read as a
 * reader sees them, what a screen reader would hear from the live region counted, bytes the page
 * downloaded summed from Resource Timing, and screenshots at a phone's and a desktop's width under
 * test-results/ (gitignored).
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const SCREENSHOT_DIR = path.join(__dirname, '..', '..', 'test-results', 'site');

export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 900 },
} as const;

export interface OpenedPage {
  page: Page;
  context: BrowserContext;
  /** Console messages of type error or warning, uncaught exceptions, failed requests (CSP violations are console errors). */
  errors: string[];
  close(): Promise<void>;
}

interface PageWindow {
  document: {
    documentElement: { dataset: Record<string, string | undefined>; scrollHeight: number; scrollWidth: number };
    getElementById(id: string): unknown;
    addEventListener(type: string, listener: () => void): void;
  };
  performance: { setResourceTimingBufferSize(n: number): void };
  MutationObserver: new (callback: () => void) => { observe(target: unknown, options: Record<string, boolean>): void };
  __announcements: string[];
}

/**
 * Runs in the page before its own script: records every text the live region (#announcer) takes,
 * which is what a screen reader announces, and keeps every resource timing entry.
 */
function instrument(): void {
  const w = globalThis as unknown as PageWindow;
  w.__announcements = [];
  w.performance.setResourceTimingBufferSize(5000);
  w.document.addEventListener('DOMContentLoaded', () => {
    const announcer = w.document.getElementById('announcer') as { textContent: string | null } | null;
    if (!announcer) return;
    new w.MutationObserver(() => w.__announcements.push(announcer.textContent ?? '')).observe(announcer, { childList: true, characterData: true, subtree: true });
  });
}

/** Opens `url` in a fresh context (cold cache) and waits until the page has done its first checks. */
export async function openPage(browser: Browser, url: string, viewport: { width: number; height: number }, options: { javaScript?: boolean; timeoutInMs?: number } = {}): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport, javaScriptEnabled: options.javaScript ?? true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') errors.push(`console.${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  await page.addInitScript(instrument);
  await navigate(page, url, options);
  return { page, context, errors, close: () => context.close() };
}

/** Goes to `url` in the same page (the browser's cache kept) and waits for the first checks. */
export async function navigate(page: Page, url: string, options: { javaScript?: boolean; timeoutInMs?: number } = {}): Promise<void> {
  await page.goto(url);
  if (options.javaScript ?? true) await waitUntilDone(page, options.timeoutInMs);
}

/** Waits until no check is running (the page sets `html[data-state="done"]`). */
export async function waitUntilDone(page: Page, timeoutInMs = 60_000): Promise<void> {
  await page.waitForFunction(() => (globalThis as unknown as PageWindow).document.documentElement.dataset.state === 'done', undefined, { timeout: timeoutInMs });
}

/** Presses each region's "Check the other ... days" and waits until every check ran. */
export async function checkEveryDay(page: Page): Promise<void> {
  // A click starts the checks before it returns (the handler marks the page busy at once).
  for (const button of await page.$$('.region-actions button.action:not(.secondary):not([hidden])')) await button.click();
  await waitUntilDone(page);
}

/** Presses "Check again from the server" in every region and waits until every check ran. */
export async function checkAgain(page: Page): Promise<void> {
  for (const button of await page.$$('.region-actions button.action.secondary')) await button.click();
  await waitUntilDone(page);
}

/** What the live region said, in order. */
export async function announcements(page: Page): Promise<string[]> {
  return page.evaluate(() => [...(globalThis as unknown as PageWindow).__announcements]);
}

/** Bytes the page downloaded so far (document and every resource, headers included), from Resource Timing. */
export async function bytesDownloaded(page: Page): Promise<number> {
  return page.evaluate(() => {
    const timing = performance as unknown as { getEntriesByType(type: string): Array<{ transferSize: number }> };
    return [...timing.getEntriesByType('navigation'), ...timing.getEntriesByType('resource')].reduce((total, entry) => total + entry.transferSize, 0);
  });
}

/** The User Timing mark's time since the navigation started, in ms; `undefined` when not set. */
export async function markTime(page: Page, name: string): Promise<number | undefined> {
  return page.evaluate((mark) => performance.getEntriesByName(mark, 'mark')[0]?.startTime, name);
}

export interface Row {
  file: string;
  href: string;
  window: string;
  keys: string;
  size: string;
  /** The check cell as read: `Verified`, `Not checked`, `Failed <reason> <code>`. */
  status: string;
}

/** The files tables as text, one object per row, in page order (newest day first). */
export async function rowsOf(page: Page): Promise<Row[]> {
  return page.$$eval('table.files tbody tr', (rows) =>
    rows.map((row) => {
      const element = row as unknown as { children: ArrayLike<{ textContent: string | null }>; querySelector(s: string): { textContent: string | null; getAttribute(n: string): string | null } | null };
      const text = (cell: { textContent: string | null } | null) => (cell?.textContent ?? '').replace(/\s+/g, ' ').trim();
      const link = element.querySelector('a.file-link');
      const cells = Array.from(element.children);
      return { file: text(link), href: link?.getAttribute('href') ?? '', window: text(element.querySelector('.window')), keys: text(cells[1]), size: text(cells[2]), status: text(cells[3]) };
    }),
  );
}

/** Presses Tab until focus lands on a link inside a files table; the number of presses, or `undefined` after `limit`. */
export async function tabIntoFiles(page: Page, limit = 40): Promise<number | undefined> {
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

export interface ContrastProblem {
  text: string;
  ratio: number;
  required: number;
  color: string;
  background: string;
}

/**
 * Every visible text of the page against the background it is drawn on (the first opaque
 * background among its ancestors, composited over white or the page's colour): WCAG 2 contrast,
 * 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold). Answers the texts below their ratio.
 */
export async function contrastProblems(page: Page): Promise<ContrastProblem[]> {
  return page.evaluate(() => {
    type El = { parentElement: El | null; childNodes: ArrayLike<{ nodeType: number; textContent: string | null }>; getClientRects(): ArrayLike<unknown>; textContent: string | null; closest(s: string): unknown };
    const w = globalThis as unknown as { document: { body: El; querySelectorAll(s: string): ArrayLike<El> }; getComputedStyle(e: El): Record<string, string> };
    const parse = (value: string): [number, number, number, number] => {
      const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(value);
      return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : [0, 0, 0, 0];
    };
    const luminance = ([r, g, b]: number[]) => {
      const [R, G, B] = [r, g, b].map((v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * R + 0.7152 * G + 0.0722 * B;
    };
    const background = (element: El | null): number[] => {
      for (let e = element; e; e = e.parentElement) {
        const [r, g, b, a] = parse(w.getComputedStyle(e).backgroundColor);
        if (a > 0.99) return [r, g, b];
      }
      const [r, g, b, a] = parse(w.getComputedStyle(w.document.body.parentElement ?? w.document.body).backgroundColor);
      return a > 0.99 ? [r, g, b] : [255, 255, 255];
    };
    const problems: Array<{ text: string; ratio: number; required: number; color: string; background: string }> = [];
    for (const element of Array.from(w.document.querySelectorAll('body *'))) {
      const own = Array.from(element.childNodes).filter((node) => node.nodeType === 3 && (node.textContent ?? '').trim() !== '');
      if (own.length === 0 || element.getClientRects().length === 0 || element.closest('.visually-hidden, noscript, [hidden]')) continue;
      const style = w.getComputedStyle(element);
      if (style.visibility === 'hidden' || style.clip === 'rect(0px, 0px, 0px, 0px)' || style.clipPath === 'inset(50%)') continue;
      const [r, g, b, a] = parse(style.color);
      const bg = background(element);
      const fg = [r * a + bg[0] * (1 - a), g * a + bg[1] * (1 - a), b * a + bg[2] * (1 - a)];
      const [l1, l2] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      const required = large ? 3 : 4.5;
      if (ratio < required) problems.push({ text: own.map((node) => node.textContent).join(' ').trim().slice(0, 60), ratio: Math.round(ratio * 100) / 100, required, color: style.color, background: `rgb(${bg.join(', ')})` });
    }
    return problems;
  });
}
