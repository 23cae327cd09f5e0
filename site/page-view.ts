/**
 * The page as the script finds it and updates it: the regions, days and file rows the publisher
 * wrote (page-content.ts), bound to the checks they show. `reconcile` makes the rows say what the
 * index says now: a file the index names that the page does not list (the page is written after
 * the index, and caches may hold either a while) gets a row of the same markup, and a listed file
 * the index no longer names is marked as such and not checked.
 */
import { parseExportPath, type ExportPath } from '../client';
import type { FileCheck } from './check-files';
import { all, toDom, type PageElement } from './dom';
import { dayOf, formatBytes, formatCount, plural } from './format';
import { dayFacts, dayGroup, fileRow, statusMarkup, type ListedFile } from './page-content';

/** User Timing mark set once the first day is checked (the page benchmark reads it). */
export const FIRST_DAY_MARK = 'keyfront:first-day-checked';

export interface FileView {
  check: FileCheck;
  row: PageElement;
  /** As listed (index.json's bytes), or as downloaded. */
  bytes?: number;
}

export interface DayView {
  region: string;
  day: string;
  element: PageElement;
  files: FileView[];
  /** Checked at least once (re-checks go over these days). */
  checked: boolean;
  running: boolean;
}

export interface RegionView {
  region: string;
  status: PageElement;
  actions: PageElement;
  daysElement: PageElement;
  /** Newest first. */
  days: DayView[];
  /** Listed by the page, no longer named by the index. */
  gone: FileView[];
  indexFailure?: { code: string; message: string };
}

function numberAttribute(element: PageElement, name: string): number | undefined {
  const value = element.getAttribute(name);
  return value === null || !/^\d+$/.test(value) ? undefined : Number(value);
}

function fileView(row: PageElement, entry: ExportPath): FileView {
  const listedKeys = numberAttribute(row, 'data-keys');
  return { row, bytes: numberAttribute(row, 'data-bytes'), check: { entry, status: 'unchecked', ...(listedKeys === undefined ? {} : { listedKeys }) } };
}

function bindDay(region: string, element: PageElement): DayView {
  const files: FileView[] = [];
  for (const row of all(element, 'tr.file[data-path]')) {
    const entry = parseExportPath(row.getAttribute('data-path') ?? '');
    if (entry && entry.region === region) files.push(fileView(row, entry));
  }
  return { region, day: element.getAttribute('data-day') ?? '', element, files, checked: false, running: false };
}

/** The regions the publisher rendered, each with its days and rows. */
export function bindRegions(root: { querySelectorAll(selector: string): ArrayLike<PageElement> }): RegionView[] {
  return all(root, 'section.region[data-region]').map((section) => {
    const region = section.getAttribute('data-region') ?? '';
    const part = (role: string) => {
      const found = section.querySelector(`[data-role="${role}"]`);
      if (!found) throw new Error(`region ${region} of the page has no ${role}`);
      return found;
    };
    return {
      region,
      status: part('status'),
      actions: part('actions'),
      daysElement: part('days'),
      days: all(section, 'details.day[data-day]').map((element) => bindDay(region, element)),
      gone: [],
    };
  });
}

function render(markup: Parameters<typeof toDom>[0]): PageElement {
  return toDom(markup) as PageElement;
}

/** Shows a file's check in its row: the status cell, and the count and size once the file is known. */
/** `signers`: say which keys signed a verified file (a page that accepts several keys, during a key rotation). */
export function showFile(view: FileView, options: { signers?: boolean } = {}): void {
  const { check } = view;
  view.row.className = `file is-${check.status}`;
  const cell = view.row.querySelector('td.check');
  if (!cell) return;
  if (check.status === 'failed') {
    const failure = check.failure ?? { code: 'unexpected', message: 'unknown reason' };
    cell.replaceChildren(render(statusMarkup('failed', 'Failed')), ' ', render({ tag: 'span', attributes: { class: 'reason' }, children: [`${failure.message} `, { tag: 'code', attributes: {}, children: [failure.code] }] }));
  } else if (check.verified && options.signers) {
    // Which keys signed it: during a key rotation, files carry a signature of each.
    const signedBy = check.verified.signedBy.map((info) => `${info.verificationKeyId}/${info.verificationKeyVersion}`).join(', ');
    cell.replaceChildren(render(statusMarkup('verified', 'Verified')), ' ', render({ tag: 'span', attributes: { class: 'signed-by' }, children: [`signed by ${signedBy}`] }));
  } else {
    cell.replaceChildren(render(statusMarkup(check.status, check.status === 'verified' ? 'Verified' : check.status === 'checking' ? 'Checking…' : 'Not checked')));
  }
  if (check.verified) {
    const keys = view.row.querySelector('td.keys');
    if (keys && check.listedKeys === undefined) keys.textContent = formatCount(check.verified.keyCount);
    const size = view.row.querySelector('td.size');
    if (size && view.bytes === undefined && check.size !== undefined) size.textContent = formatBytes(check.size);
  }
}

function markGone(view: FileView): void {
  view.row.className = 'file is-gone';
  view.row.querySelector('td.check')?.replaceChildren(render(statusMarkup('gone', 'Not in the index now')));
}

export interface DayTally {
  files: number;
  verified: number;
  failed: number;
  checking: number;
}

export function tallyOf(files: readonly FileView[]): DayTally {
  const count = (status: FileCheck['status']) => files.filter((file) => file.check.status === status).length;
  return { files: files.length, verified: count('verified'), failed: count('failed'), checking: count('checking') };
}

/** The day's summary line: checking progress, then its outcome. A day with a failure opens, so its reasons show. */
export function showDay(day: DayView): void {
  const tally = tallyOf(day.files);
  const slot = day.element.querySelector('.day-status');
  if (!slot) return;
  let status;
  if (day.running) status = statusMarkup('checking', `Checking ${tally.verified + tally.failed} of ${tally.files}…`);
  else if (!day.checked) status = statusMarkup('unchecked', day.files.length === 0 ? 'Not in the index now' : 'Not checked');
  else if (tally.failed > 0) status = statusMarkup('failed', `${tally.failed} of ${tally.files} failed`);
  else status = statusMarkup('verified', tally.files === 1 ? 'Verified' : `All ${tally.files} verified`);
  slot.replaceChildren(render(status));
  if (!day.running && tally.failed > 0) day.element.open = true;
}

function listedOf(view: FileView): ListedFile {
  const { entry, listedKeys } = view.check;
  return { path: entry.path, start: entry.start, end: entry.end, keys: listedKeys, bytes: view.bytes };
}

/** Makes the region's rows those of `entries` (the index as read now); answers whether anything changed. */
export function reconcile(region: RegionView, entries: readonly ExportPath[]): boolean {
  const byPath = new Map<string, { view: FileView; day: DayView }>();
  for (const day of region.days) for (const view of day.files) byPath.set(view.check.entry.path, { view, day });
  const named = new Set(entries.map((entry) => entry.path));
  const changedDays = new Set<DayView>();
  for (const [path, { view, day }] of byPath) {
    if (named.has(path)) continue;
    day.files = day.files.filter((file) => file !== view);
    region.gone.push(view);
    markGone(view);
    changedDays.add(day);
  }
  for (const entry of entries) {
    if (byPath.has(entry.path)) continue;
    const dayName = dayOf(entry.start);
    // Named again (an index read from an older cache, then a newer one): the row comes back.
    const back = region.gone.find((view) => view.check.entry.path === entry.path);
    const home = back && region.days.find((candidate) => candidate.day === dayName);
    if (back && home) {
      region.gone = region.gone.filter((view) => view !== back);
      back.check.status = 'unchecked';
      showFile(back);
      home.files.push(back);
      home.checked = false;
      changedDays.add(home);
      continue;
    }
    let day = region.days.find((candidate) => candidate.day === dayName);
    if (!day) {
      const element = render(dayGroup(region.region, { day: dayName, files: [] }, false));
      const later = region.days.find((candidate) => candidate.day < dayName);
      if (later) later.element.before(element);
      else region.daysElement.append(element);
      day = { region: region.region, day: dayName, element, files: [], checked: false, running: false };
      region.days = [...region.days, day].sort((a, b) => (a.day < b.day ? 1 : -1));
    }
    const row = render(fileRow({ path: entry.path, start: entry.start, end: entry.end }));
    day.element.querySelector('tbody')?.append(row);
    day.files.push(fileView(row, entry));
    // A day already checked is checked again with its new file.
    day.checked = false;
    changedDays.add(day);
  }
  for (const day of changedDays) {
    const facts = day.element.querySelector('.day-facts');
    if (facts) facts.textContent = day.files.length === 0 ? 'no files in the index now' : dayFacts(day.files.map(listedOf));
    showDay(day);
  }
  return changedDays.size > 0;
}

/** Bytes of the days' files as listed (files of unknown size count nothing). */
export function bytesOf(days: readonly DayView[]): number {
  return days.reduce((total, day) => total + day.files.reduce((sum, file) => sum + (file.bytes ?? 0), 0), 0);
}

/** `13 days (312 files, 6.5 MB)`. */
export function describeDays(days: readonly DayView[]): string {
  const files = days.reduce((total, day) => total + day.files.length, 0);
  const bytes = bytesOf(days);
  return `${plural(days.length, 'day')} (${plural(files, 'file')}${bytes > 0 ? `, ${formatBytes(bytes)}` : ''})`;
}
