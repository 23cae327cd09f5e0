/**
 * `npm run bench:page`: the transparency page at full scale in Chromium, through the local edge
 * (scripts/site/page-fixture.ts: 14 days x 24 real signed files by default, the page published by
 * the publisher). Each run opens the page in a fresh browser context (cold cache) and measures:
 *
 * - time to the first verified day (the page's User Timing mark, from navigation start);
 * - bytes downloaded before the reader asks for more (document, assets, config, index, the newest
 *   day's files; Resource Timing, headers included), against the bytes once every day is checked;
 * - what the live region announced (a screen reader hears each), against the files checked;
 * - the time to check the other days once asked, and the page's height on a desktop and a phone.
 *
 * Prints a table (median of the runs) and writes bench-results/page.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium } from '../preflight/browser';
import { loadBrowserConfig } from '../preflight/config';
import { FIRST_DAY_MARK } from '../../site/page-view';
import { buildSite } from '../site/build';
import { startPageFixture } from '../site/page-fixture';
import { announcements, bytesDownloaded, checkEveryDay, markTime, openPage, VIEWPORTS } from '../site/page-driver';

function benchOptions(): { days: number; perDay: number; runs: number } {
  const { values } = parseArgs({ options: { days: { type: 'string', default: '14' }, 'files-per-day': { type: 'string', default: '24' }, runs: { type: 'string', default: '3' } } });
  const [days, perDay, runs] = [Number(values.days), Number(values['files-per-day']), Number(values.runs)];
  if (![days, perDay, runs].every(Number.isInteger) || days < 1 || days > 15 || perDay < 1 || perDay > 96 || 86400 % perDay !== 0 || runs < 1 || runs > 10) {
    process.stderr.write('usage: bench:page [--days N] (1..15) [--files-per-day N] (1..96, divides a day) [--runs N] (1..10)\n');
    process.exit(2);
  }
  return { days, perDay, runs };
}

interface Run {
  firstDayMs: number;
  bytesBeforeAsking: number;
  announcementsBeforeAsking: number;
  otherDaysMs: number;
  bytesAll: number;
  announcementsAll: number;
  heightDesktop: number;
  heightPhone: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const { days, perDay, runs } = benchOptions();
  const files = days * perDay;
  process.stdout.write(`page benchmark: ${files} signed files (${days} days x ${perDay}), ${runs} runs, each in a fresh browser context\n`);
  const site = await buildSite();
  const fixture = await startPageFixture({ days, filesPerDay: perDay, site });
  const browser = await launchChromium(loadBrowserConfig(process.env));
  const results: Run[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const opened = await openPage(browser, `${fixture.url}/`, VIEWPORTS.desktop);
      try {
        const { page } = opened;
        const height = () => page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollHeight: number } } }).document.documentElement.scrollHeight);
        const firstDayMs = (await markTime(page, FIRST_DAY_MARK)) ?? NaN;
        const bytesBeforeAsking = await bytesDownloaded(page);
        const announcementsBeforeAsking = (await announcements(page)).length;
        const heightDesktop = await height();
        await page.setViewportSize(VIEWPORTS.phone);
        const heightPhone = await height();
        const started = process.hrtime.bigint();
        await checkEveryDay(page);
        const otherDaysMs = Number(process.hrtime.bigint() - started) / 1e6;
        const checked = await page.$$eval('table.files tr.is-verified', (rows) => rows.length);
        if (checked !== files) throw new Error(`${checked} of ${files} files verified: the page did not check every file`);
        if (opened.errors.length > 0) throw new Error(`the page logged errors: ${opened.errors.join('; ')}`);
        results.push({ firstDayMs, bytesBeforeAsking, announcementsBeforeAsking, otherDaysMs, bytesAll: await bytesDownloaded(page), announcementsAll: (await announcements(page)).length, heightDesktop, heightPhone });
      } finally {
        await opened.close();
      }
    }
  } finally {
    await browser.close();
    await fixture.stop();
  }

  const m = (key: keyof Run) => median(results.map((r) => r[key]));
  const summary = {
    files,
    days,
    runs,
    firstDayVerifiedMs: m('firstDayMs'),
    bytesBeforeAsking: m('bytesBeforeAsking'),
    bytesAllDays: m('bytesAll'),
    bytesBeforeAskingShare: m('bytesBeforeAsking') / m('bytesAll'),
    otherDaysCheckedMs: m('otherDaysMs'),
    firstDayShareOfTime: m('firstDayMs') / (m('firstDayMs') + m('otherDaysMs')),
    announcementsBeforeAsking: m('announcementsBeforeAsking'),
    announcementsAllDays: m('announcementsAll'),
    announcementsPerFile: m('announcementsAll') / files,
    pageHeightDesktopPx: m('heightDesktop'),
    pageHeightPhonePx: m('heightPhone'),
  };
  const rows: Array<[string, string]> = [
    ['time to the first verified day', `${summary.firstDayVerifiedMs.toFixed(0)} ms (goal: < 2,000 ms on loopback)`],
    ['bytes before the reader asks for more', `${(summary.bytesBeforeAsking / 1024 / 1024).toFixed(2)} MB = ${(summary.bytesBeforeAskingShare * 100).toFixed(1)}% of all days (${(summary.bytesAllDays / 1024 / 1024).toFixed(2)} MB)`],
    ['checking the other days, once asked', `${(summary.otherDaysCheckedMs / 1000).toFixed(1)} s (the first day is ${(summary.firstDayShareOfTime * 100).toFixed(0)}% of the whole check)`],
    ['announcements (aria-live)', `${summary.announcementsBeforeAsking} on arrival, ${summary.announcementsAllDays} once every day is checked = ${summary.announcementsPerFile.toFixed(3)} per file`],
    ['page height, desktop / phone', `${summary.pageHeightDesktopPx.toLocaleString('en')} px / ${summary.pageHeightPhonePx.toLocaleString('en')} px`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  process.stdout.write(`\n| ${'measure'.padEnd(width)} | median of ${runs} runs |\n|${'-'.repeat(width + 2)}|${'-'.repeat(22)}|\n`);
  for (const [name, value] of rows) process.stdout.write(`| ${name.padEnd(width)} | ${value} |\n`);
  const out = path.join(__dirname, '..', '..', 'bench-results', 'page.json');
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({ ...summary, measured: results }, null, 2)}\n`);
  process.stdout.write(`\nwritten to ${path.relative(process.cwd(), out)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:page failed: ${(error as Error).message}\n`);
  process.exit(1);
});
