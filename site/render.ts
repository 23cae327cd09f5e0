/**
 * The page's parts: the signing-key card, the summary line, and per region a plot of keys per
 * day and the table of files. Rows are updated in place as files are checked, so keyboard focus
 * on a row's link survives the updates.
 */
import type { FileCheck, RegionCheck } from './check-files';
import { h, svg, type PageElement } from './dom';
import { formatBytes, formatCount, formatWindow, shortName } from './format';
import { keysPerDay, layoutChart } from './keys-per-day';
import { groupFingerprint, type PageKey } from './signing-key';

export function renderKey(key: PageKey, algorithm: string): PageElement {
  const row = (term: string, ...value: Array<PageElement | string>) => [h('dt', {}, term), h('dd', {}, ...value)];
  return h(
    'dl',
    { class: 'key-details' },
    ...row('Key id and version', h('code', {}, key.keyId), ' / ', h('code', {}, key.keyVersion)),
    ...row('Algorithm', 'ECDSA P-256 with SHA-256 ', h('code', {}, algorithm)),
    ...row('SHA-256 fingerprint', h('code', { class: 'fingerprint', id: 'fingerprint' }, groupFingerprint(key.fingerprintSha256))),
    ...(key.fingerprintMatchesConfig ? [] : row('Warning', h('strong', { class: 'bad' }, 'The fingerprint the server announces differs from the key it serves. Do not trust this page.'))),
  );
}

export interface Totals {
  files: number;
  verified: number;
  failed: number;
  keys: number;
  regionsFailed: number;
}

export function totalsOf(checks: readonly RegionCheck[]): Totals {
  const files = checks.flatMap((check) => check.files);
  return {
    files: files.length,
    verified: files.filter((file) => file.status === 'verified').length,
    failed: files.filter((file) => file.status === 'failed').length,
    keys: files.reduce((sum, file) => sum + (file.verified?.keyCount ?? 0), 0),
    regionsFailed: checks.filter((check) => check.indexFailure).length,
  };
}

/** One sentence, with a state class: checking, all verified, or failures. */
export function renderSummary(target: PageElement, totals: Totals, done: boolean): void {
  let state: string;
  let text: string;
  if (!done) {
    state = 'checking';
    text = `Checking ${formatCount(totals.verified + totals.failed)} of ${formatCount(totals.files)} files…`;
  } else if (totals.failed > 0 || totals.regionsFailed > 0) {
    state = 'failed';
    const parts = [];
    if (totals.failed > 0) parts.push(`${formatCount(totals.failed)} of ${formatCount(totals.files)} files failed verification`);
    if (totals.regionsFailed > 0) parts.push(`${totals.regionsFailed} ${totals.regionsFailed === 1 ? 'index' : 'indexes'} could not be read`);
    text = `${parts.join('; ')}. See the reasons below.`;
  } else if (totals.files === 0) {
    state = 'empty';
    text = 'No files are published at the moment.';
  } else {
    state = 'verified';
    text = `All ${formatCount(totals.files)} files verified: ${formatCount(totals.keys)} keys, every file signed by the key below.`;
  }
  target.className = `summary is-${state}`;
  target.replaceChildren(h('p', {}, text));
}

function statusCell(file: FileCheck): PageElement {
  if (file.status === 'verified') return h('span', { class: 'status is-verified' }, 'Verified');
  if (file.status === 'checking') return h('span', { class: 'status is-checking' }, 'Checking…');
  return h('span', { class: 'status is-failed' }, 'Failed', h('span', { class: 'reason' }, `${file.failure?.message ?? 'unknown reason'} `, h('code', {}, file.failure?.code ?? 'unexpected')));
}

function rowCells(file: FileCheck): PageElement[] {
  const v = file.verified;
  return [
    // The window the name announces (for a verified file, the one it holds: the check compares them).
    h('td', { 'data-label': 'Window (UTC)' }, formatWindow(file.entry.start, file.entry.end)),
    h('td', { 'data-label': 'Batch', class: 'num' }, v ? `${v.batchNum} of ${v.batchSize}` : '—'),
    h('td', { 'data-label': 'Keys', class: 'num' }, v ? formatCount(v.keyCount) : '—'),
    h('td', { 'data-label': 'Size', class: 'num' }, file.size === undefined ? '—' : formatBytes(file.size)),
    h('td', { 'data-label': 'Signature' }, statusCell(file)),
  ];
}

function chart(files: readonly FileCheck[], region: string): PageElement {
  const days = keysPerDay(files);
  if (days.length === 0) return h('p', { class: 'chart-empty' }, 'No verified files yet to plot.');
  const layout = layoutChart(days);
  const label = `Keys per day in region ${region}: ${days.map((d) => `${d.day} ${formatCount(d.keys)}`).join(', ')}`;
  // Every third day, counted back from the newest: labels never collide, even on a phone.
  const labelled = (i: number) => (layout.bars.length - 1 - i) % 3 === 0;
  const graphic = svg(
    'svg',
    { viewBox: `0 0 ${layout.width} ${layout.height}`, role: 'img', 'aria-label': label, class: 'chart-svg', preserveAspectRatio: 'xMinYMid meet' },
    svg('line', { x1: 0, x2: layout.width, y1: layout.top, y2: layout.top, class: 'chart-grid' }),
    svg('text', { x: 8, y: layout.top - 6, class: 'chart-scale' }, `${formatCount(layout.scaleMax)} keys`),
    svg('line', { x1: 0, x2: layout.width, y1: layout.baseline, y2: layout.baseline, class: 'chart-axis' }),
    ...layout.bars.map((bar) => svg('rect', { x: bar.x, y: bar.y, width: bar.width, height: bar.height, rx: 2, class: 'chart-bar' }, svg('title', {}, `${bar.day.day}: ${formatCount(bar.day.keys)} keys in ${bar.day.files} files`))),
    ...layout.bars.map((bar, i) => (labelled(i) ? svg('text', { x: bar.x + bar.width / 2, y: layout.baseline + 18, class: 'chart-label' }, bar.day.day.slice(5)) : null)),
  );
  return h('figure', { class: 'chart' }, graphic, h('figcaption', {}, 'Keys per day (UTC, by window start; files carry padding keys)'));
}

/** A region's section; `update` refreshes it from the latest check without rebuilding rows. */
export function regionView(region: string): { element: PageElement; update(check: RegionCheck): void } {
  const headingId = `region-${region}`;
  const summary = h('p', { class: 'region-summary' }, 'Reading the index…');
  const chartSlot = h('div', { class: 'chart-slot' });
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'files' },
    h('caption', {}, `Files in the index of region ${region}, oldest first`),
    h('thead', {}, h('tr', {}, ...['File', 'Window (UTC)', 'Batch', 'Keys', 'Size', 'Signature'].map((title) => h('th', { scope: 'col' }, title)))),
    body,
  );
  const element = h('section', { class: 'region card', 'aria-labelledby': headingId }, h('h2', { id: headingId }, `Region ${region}`), summary, chartSlot, h('div', { class: 'table-wrap' }, table));
  const rows = new Map<string, { row: PageElement; rendered: string }>();

  return {
    element,
    update(check) {
      if (check.indexFailure) {
        summary.className = 'region-summary bad';
        summary.replaceChildren(`The index could not be read: ${check.indexFailure.message} `, h('code', {}, check.indexFailure.code));
        return;
      }
      for (const file of check.files) {
        let entry = rows.get(file.path);
        if (!entry) {
          const link = h('a', { href: `/${file.path}`, download: shortName(file.path) }, shortName(file.path));
          entry = { row: h('tr', {}, h('th', { scope: 'row', 'data-label': 'File' }, link)), rendered: '' };
          rows.set(file.path, entry);
          body.append(entry.row);
        }
        if (entry.rendered !== file.status) {
          entry.row.className = `is-${file.status}`;
          entry.row.replaceChildren(entry.row.firstElementChild!, ...rowCells(file));
          entry.rendered = file.status;
        }
      }
      const totals = totalsOf([check]);
      const pending = totals.files - totals.verified - totals.failed;
      summary.className = `region-summary${totals.failed > 0 ? ' bad' : ''}`;
      summary.textContent =
        totals.files === 0
          ? 'The index names no files.'
          : `${formatCount(totals.files)} files · ${formatCount(totals.verified)} verified · ${formatCount(totals.failed)} failed${pending > 0 ? ` · ${formatCount(pending)} checking` : ''} · ${formatCount(totals.keys)} keys`;
      chartSlot.replaceChildren(chart(check.files, region));
    },
  };
}
