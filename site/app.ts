/**
 * Entry of the transparency page (bundled by `npm run build:site`). The publisher has written the
 * lists; this script checks them in the browser: it reads `/site/config.json` and imports the
 * signing key, reads each region's index as a phone does (rows follow it), verifies the newest
 * day at once and older days when the reader opens one or asks for all, newest first. A screen
 * reader hears one sentence per day checked, not one per file. Checks the reader asks to run
 * again go to the network, past the browser's cache.
 */
import { checkFiles, failureOf, readIndex, type CacheMode, type CheckDeps } from './check-files';
import { byId, h, pageDocument, type PageElement } from './dom';
import { formatCount, plural } from './format';
import { RECIPE_SITE_PLACEHOLDER } from './page-content';
import { bindRegions, describeDays, FIRST_DAY_MARK, reconcile, showDay, showFile, tallyOf, type DayView, type RegionView } from './page-view';
import { parseSiteConfig } from './site-config';
import { importPageKey, type PageKey } from './signing-key';

interface Actions {
  older: PageElement;
  again: PageElement;
}

class PageChecker {
  private busy = 0;
  private firstDayMarked = false;
  private readonly queues = new Map<RegionView, Promise<void>>();
  private readonly actions = new Map<RegionView, Actions>();
  private readonly watched = new Set<PageElement>();

  constructor(
    private readonly regions: RegionView[],
    private readonly keys: readonly PageKey[],
    private readonly deps: CheckDeps,
    private readonly page: { summary: PageElement; announcer: PageElement; keyProblem?: string },
  ) {}

  async start(): Promise<void> {
    await this.run(() => Promise.all(this.regions.map((region) => this.startRegion(region))).then(() => undefined));
  }

  private async startRegion(region: RegionView): Promise<void> {
    this.renderActions(region);
    if (!(await this.readIndex(region, 'default'))) return;
    const newest = region.days.find((day) => day.files.length > 0);
    if (newest) {
      newest.element.open = true;
      await this.queueDays(region, [newest], 'default');
    }
  }

  /** Reads the index and makes the rows follow it; `false` (and says why) when it cannot be read. */
  private async readIndex(region: RegionView, cache: CacheMode): Promise<boolean> {
    try {
      const entries = await readIndex(region.region, this.deps, { cache });
      region.indexFailure = undefined;
      reconcile(region, entries);
    } catch (error) {
      region.indexFailure = failureOf(error);
      this.showRegion(region);
      this.announce(`Region ${region.region}: the index could not be read.`);
      return false;
    }
    for (const day of region.days) this.watch(region, day);
    this.showRegion(region);
    return true;
  }

  /** Opening a day the page has not checked checks it. */
  private watch(region: RegionView, day: DayView): void {
    if (this.watched.has(day.element)) return;
    this.watched.add(day.element);
    day.element.addEventListener('toggle', () => {
      if (day.element.open && !day.checked && !day.running && day.files.length > 0) void this.run(() => this.queueDays(region, [day], 'default'));
    });
  }

  /**
   * Checks days after whatever the region is checking now. The days' files share one pool of
   * downloads, in order (newest day first), so no day waits for the last file of the one before;
   * each day is finished and announced once its last file is done.
   */
  private queueDays(region: RegionView, days: DayView[], cache: CacheMode): Promise<void> {
    for (const day of days) {
      day.running = true;
      showDay(day);
    }
    this.showActions(region);
    const next = (this.queues.get(region) ?? Promise.resolve()).then(() => this.checkDays(region, days, cache));
    this.queues.set(region, next.catch(() => undefined));
    return next;
  }

  private async checkDays(region: RegionView, days: DayView[], cache: CacheMode): Promise<void> {
    const work = days.flatMap((day) => day.files.map((view) => ({ day, view })));
    const byCheck = new Map(work.map((item) => [item.view.check, item]));
    const left = new Map(days.map((day) => [day, day.files.length]));
    for (const day of days) if (day.files.length === 0) this.finishDay(region, day);
    await checkFiles(
      work.map((item) => item.view.check),
      this.keys,
      this.deps,
      {
        cache,
        onFile: (check) => {
          const item = byCheck.get(check);
          if (!item) return;
          showFile(item.view, { signers: this.keys.length > 1 });
          const remaining = (left.get(item.day) ?? 1) - 1;
          left.set(item.day, remaining);
          if (remaining === 0) this.finishDay(region, item.day);
          else showDay(item.day);
          this.showSummary();
        },
      },
    );
  }

  private finishDay(region: RegionView, day: DayView): void {
    day.running = false;
    day.checked = true;
    showDay(day);
    this.showRegion(region);
    if (!this.firstDayMarked) {
      this.firstDayMarked = true;
      performance.mark(FIRST_DAY_MARK);
    }
    const tally = tallyOf(day.files);
    this.announce(`Region ${region.region}, ${day.day}: ${tally.failed > 0 ? `${tally.failed} of ${plural(tally.files, 'file')} failed.` : `${tally.files === 1 ? 'the file' : `all ${plural(tally.files, 'file')}`} verified.`}`);
  }

  private async checkOlder(region: RegionView): Promise<void> {
    const days = region.days.filter((day) => !day.checked && !day.running && day.files.length > 0);
    if (days.length === 0) return;
    await this.run(async () => {
      await this.queueDays(region, days, 'default');
      this.announce(`Region ${region.region}: ${this.regionSentence(region)}`);
    });
  }

  private async checkAgain(region: RegionView): Promise<void> {
    await this.run(async () => {
      const before = new Set(region.days.filter((day) => day.checked || day.running));
      if (!(await this.readIndex(region, 'reload'))) return;
      const newest = region.days.find((day) => day.files.length > 0);
      const days = region.days.filter((day) => (before.has(day) || day === newest) && day.files.length > 0);
      await this.queueDays(region, days, 'reload');
      this.announce(`Region ${region.region}, checked again from the server: ${this.regionSentence(region)}`);
    });
  }

  private renderActions(region: RegionView): void {
    const older = h('button', { type: 'button', class: 'action' });
    const again = h('button', { type: 'button', class: 'action secondary' }, 'Check again from the server');
    older.addEventListener('click', () => void this.checkOlder(region));
    again.addEventListener('click', () => void this.checkAgain(region));
    region.actions.replaceChildren(older, again);
    this.actions.set(region, { older, again });
    this.showActions(region);
  }

  private showActions(region: RegionView): void {
    const buttons = this.actions.get(region);
    if (!buttons) return;
    const waiting = region.days.filter((day) => !day.checked && !day.running && day.files.length > 0);
    buttons.older.hidden = waiting.length === 0;
    buttons.older.textContent = `Check the other ${describeDays(waiting)}`;
    buttons.again.disabled = region.days.some((day) => day.running);
  }

  private regionSentence(region: RegionView): string {
    const files = region.days.flatMap((day) => day.files);
    const tally = tallyOf(files);
    const checkedDays = region.days.filter((day) => day.checked && day.files.length > 0).length;
    const withFiles = region.days.filter((day) => day.files.length > 0).length;
    const failed = tally.failed > 0 ? `, ${formatCount(tally.failed)} failed` : '';
    return `${formatCount(checkedDays)} of ${plural(withFiles, 'day')} checked: ${formatCount(tally.verified)} of ${plural(tally.files, 'file')} verified${failed}.`;
  }

  private showRegion(region: RegionView): void {
    if (region.indexFailure) {
      region.status.className = 'region-status bad';
      region.status.replaceChildren(`The index could not be read, so nothing was checked: ${region.indexFailure.message} `, h('code', {}, region.indexFailure.code));
    } else {
      region.status.className = 'region-status';
      const gone = region.gone.length > 0 ? ` ${plural(region.gone.length, 'file')} this page lists ${region.gone.length === 1 ? 'is' : 'are'} no longer in the index.` : '';
      region.status.textContent = `${this.regionSentence(region)}${gone}`;
    }
    this.showActions(region);
    this.showSummary();
  }

  private announce(text: string): void {
    this.page.announcer.textContent = text;
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    this.busy += 1;
    pageDocument().documentElement.dataset.state = 'checking';
    try {
      return await work();
    } finally {
      this.busy -= 1;
      this.showSummary();
      if (this.busy === 0) pageDocument().documentElement.dataset.state = 'done';
    }
  }

  /** One sentence over every region, with a state class; it is not a live region (the announcer is). */
  private showSummary(): void {
    const files = this.regions.flatMap((region) => region.days.flatMap((day) => day.files));
    const tally = tallyOf(files);
    const unreadable = this.regions.filter((region) => region.indexFailure).length;
    const unchecked = files.filter((file) => file.check.status === 'unchecked').length;
    const uncheckedDays = this.regions.flatMap((region) => region.days).filter((day) => !day.checked && !day.running && day.files.length > 0).length;
    let state: string;
    let text: string;
    if (this.page.keyProblem) {
      state = 'failed';
      text = this.page.keyProblem;
    } else if (tally.failed > 0 || unreadable > 0) {
      state = 'failed';
      const parts = [];
      if (tally.failed > 0) parts.push(`${formatCount(tally.failed)} of ${plural(tally.verified + tally.failed, 'checked file')} failed`);
      if (unreadable > 0) parts.push(`${unreadable === 1 ? 'an index' : `${unreadable} indexes`} could not be read`);
      text = `${parts.join('; ')}. See the reasons below and “When a file fails”.`;
    } else if (files.length === 0) {
      state = 'empty';
      text = this.busy > 0 ? 'Reading the index…' : 'No files are published at the moment.';
    } else if (tally.verified === files.length) {
      state = 'verified';
      text = `All ${plural(files.length, 'file')} verified: each is signed by ${this.keys.length > 1 ? 'a key' : 'the key'} below and holds the keys this page lists.`;
    } else if (tally.verified === 0) {
      state = 'checking';
      text = 'Checking the newest day…';
    } else {
      state = 'partial';
      const waiting = uncheckedDays > 0 ? ` ${plural(unchecked, 'file')} of ${plural(uncheckedDays, 'older day')} not checked yet: open a day, or check them all.` : '';
      text = `${formatCount(tally.verified)} of ${plural(files.length, 'file')} verified so far, each signed by ${this.keys.length > 1 ? 'a key' : 'the key'} below.${waiting}`;
    }
    this.page.summary.className = `summary is-${state}`;
    this.page.summary.replaceChildren(h('p', {}, text));
  }
}

/** The commands to check a file by hand name this page's own address. */
function fillRecipe(): void {
  const recipe = pageDocument().getElementById('recipe');
  if (recipe?.textContent) recipe.textContent = recipe.textContent.replace(RECIPE_SITE_PLACEHOLDER, (globalThis as unknown as { location: { origin: string } }).location.origin);
}

/**
 * Compares the fingerprint the publisher wrote into the page with the one this browser computes from
 * the key it names, and config.json's fingerprint of every other key it checks with.
 */
function checkFingerprint(keys: readonly PageKey[]): string | undefined {
  const [key] = keys;
  const shown = byId('fingerprint').getAttribute('data-fingerprint');
  const note = byId('fingerprint-check');
  if (keys.every((each) => each.fingerprintMatchesConfig) && shown === key.fingerprintSha256) {
    note.className = 'fingerprint-check is-same';
    note.textContent = 'Your browser computed the same fingerprint from the key it checks with.';
    return undefined;
  }
  note.className = 'fingerprint-check bad';
  note.textContent = 'Your browser computed another fingerprint from the key it checks with. Do not trust this page.';
  return 'The key this page checks with differs from the fingerprint it shows: do not trust this page.';
}

async function main(): Promise<void> {
  const summary = byId('summary');
  const announcer = byId('announcer');
  fillRecipe();
  let keys: PageKey[];
  try {
    const response = await fetch('/site/config.json');
    if (!response.ok) throw new Error(`the server answered ${response.status} for /site/config.json`);
    keys = await Promise.all(parseSiteConfig(await response.text()).signingKeys.map((key) => importPageKey(key)));
  } catch (error) {
    summary.className = 'summary is-failed';
    summary.replaceChildren(h('p', {}, `This page cannot check anything: ${(error as Error).message}.`));
    pageDocument().documentElement.dataset.state = 'done';
    return;
  }
  const keyProblem = checkFingerprint(keys);
  const deps: CheckDeps = { fetch: (input, init) => fetch(input, init), nowSeconds: () => Math.floor(Date.now() / 1000) };
  await new PageChecker(bindRegions(pageDocument()), keys, deps, { summary, announcer, keyProblem }).start();
}

void main();
