/**
 * What the transparency page says, as markup (markup.ts): the signing key, each region's counts
 * and its files grouped by UTC day, and the commands to check a file by hand. The publisher renders
 * it into the page at publish time, so the page reads fully without JavaScript; the script adds
 * rows with the same functions when the index names a file the page does not list yet, and finds
 * what it updates through the `data-*` hooks named here.
 *
 * Counts say what they are: keys in files include padding, and keys from phones (no padding) are
 * given per day only as the publisher allows (`RealKeysOfDay`), in their own column.
 */
import { el, type MarkupChild, type MarkupElement } from './markup';
import { dayOf, formatBytes, formatCount, formatInstant, formatWindowInDay, plural, shortName } from './format';

/** The page's format: the publisher fills only a page whose slots carry this number (a page of another build is left alone). */
export const PAGE_FORMAT = 1;

/** The parts of the page the publisher writes, each between `<!--keyfront:{slot}:{PAGE_FORMAT}-->` and `<!--/keyfront:{slot}-->`. */
export const PAGE_SLOTS = ['key', 'regions', 'recipe'] as const;
export type PageSlot = (typeof PAGE_SLOTS)[number];

/** The public key the page links to, written by the publisher next to config.json. */
export const SIGNING_KEY_PATH = '/site/signing-key.pem';

/** One file of a region's index as the page lists it. */
export interface ListedFile {
  /** `v1/{region}/{start}-{end}-{n}.zip`, as the index names it. */
  path: string;
  start: number;
  end: number;
  /** Keys in the file, padding included (index.json); unknown for a file the script found in index.txt only. */
  keys?: number;
  bytes?: number;
}

/** Why a day's count of keys from phones is not shown. */
export type HiddenReason = 'day_open' | 'below_floor' | 'not_recorded' | 'left_index';

/** Keys from phones (no padding) on one day, as far as the publisher may tell. */
export type RealKeysOfDay = { shown: true; keys: number } | { shown: false; why: HiddenReason };

export interface RegionListing {
  region: string;
  /** When the index was written (index.json's `generatedAt`). */
  generatedAt?: string;
  /** In the index's order (oldest first). */
  files: ListedFile[];
  /** By UTC day (`YYYY-MM-DD`); a day of the files without an entry shows as not recorded. */
  realKeys: Record<string, RealKeysOfDay>;
}

export interface PageKey {
  keyId: string;
  keyVersion: string;
  algorithm: string;
  /** SHA-256 of the SPKI DER, lower-case hex. */
  fingerprintSha256: string;
}

export interface PageContent {
  /** The key the page names (the first that signs new files). */
  key: PageKey;
  /** The other keys the page accepts: during a key rotation, files carry a signature of each. */
  otherKeys?: PageKey[];
  /** Where the health authority publishes its key's fingerprint (a setting); absent: not configured. */
  fingerprintUrl?: string;
  /** The privacy floor: a day's keys from phones are shown only from this many. */
  privacyFloor: number;
  regions: RegionListing[];
}

/** The files of one UTC day (by window start), in index order. */
export interface DayGroup {
  day: string;
  files: ListedFile[];
}

/** Groups files by the UTC day their window starts, newest day first, each day's files in index order. */
export function daysOf(files: readonly ListedFile[]): DayGroup[] {
  const byDay = new Map<string, ListedFile[]>();
  for (const file of files) {
    const day = dayOf(file.start);
    const list = byDay.get(day) ?? [];
    list.push(file);
    byDay.set(day, list);
  }
  return [...byDay].sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0)).map(([day, list]) => ({ day, files: list }));
}

function sum(values: ReadonlyArray<number | undefined>): number | undefined {
  let total = 0;
  for (const value of values) {
    if (value === undefined) return undefined;
    total += value;
  }
  return total;
}

/** `<span class="status is-{state}"><span class="mark"></span>text</span>`: the mark is drawn by CSS, never a font glyph. */
export function statusMarkup(state: 'unchecked' | 'checking' | 'verified' | 'failed' | 'gone', text: string, ...details: MarkupElement[]): MarkupElement {
  return el('span', { class: `status is-${state}` }, el('span', { class: 'mark', 'aria-hidden': 'true' }), el('span', { class: 'label' }, text), ...details);
}

/** One row of a day's table. */
export function fileRow(file: ListedFile): MarkupElement {
  const name = shortName(file.path);
  return el(
    'tr',
    { class: 'file', 'data-path': file.path, 'data-keys': file.keys === undefined ? undefined : String(file.keys), 'data-bytes': file.bytes === undefined ? undefined : String(file.bytes) },
    el('th', { scope: 'row' }, el('span', { class: 'window' }, formatWindowInDay(file.start, file.end)), ' ', el('a', { class: 'file-link', href: `/${file.path}`, download: name }, name)),
    el('td', { class: 'num keys' }, file.keys === undefined ? '—' : formatCount(file.keys)),
    el('td', { class: 'num size' }, file.bytes === undefined ? '—' : formatBytes(file.bytes)),
    el('td', { class: 'check' }, statusMarkup('unchecked', 'Not checked')),
  );
}

/** A day's facts as its summary line says them. */
export function dayFacts(files: readonly ListedFile[]): string {
  const keys = sum(files.map((file) => file.keys));
  const bytes = sum(files.map((file) => file.bytes));
  return [plural(files.length, 'file'), keys === undefined ? undefined : `${formatCount(keys)} keys in files`, bytes === undefined ? undefined : formatBytes(bytes)].filter(Boolean).join(' · ');
}

/** A day: collapsed (`open` for the newest), its summary line with a status the script updates, and its table of files. */
export function dayGroup(region: string, group: DayGroup, open: boolean): MarkupElement {
  return el(
    'details',
    { class: 'day', 'data-region': region, 'data-day': group.day, open: open ? '' : undefined },
    el('summary', {}, el('span', { class: 'day-name' }, group.day), ' ', el('span', { class: 'day-facts' }, dayFacts(group.files)), ' ', el('span', { class: 'day-status' }, statusMarkup('unchecked', 'Not checked'))),
    el(
      'div',
      { class: 'table-wrap' },
      el(
        'table',
        { class: 'files' },
        el('caption', { class: 'visually-hidden' }, `Files of ${group.day} (UTC), region ${region}`),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Window (UTC) and file'), el('th', { scope: 'col', class: 'num' }, 'Keys in file'), el('th', { scope: 'col', class: 'num' }, 'Size'), el('th', { scope: 'col' }, 'Check'))),
        el('tbody', {}, group.files.map(fileRow)),
      ),
    ),
  );
}

const HIDDEN_SHORT: Record<HiddenReason, string> = {
  day_open: 'day not over',
  below_floor: 'too few to show',
  not_recorded: 'not recorded',
  left_index: 'not shown',
};

function hiddenLegend(reason: HiddenReason, floor: number): string {
  switch (reason) {
    case 'day_open':
      return 'day not over: a day is counted once every window of it is published, so that the count never grows file by file.';
    case 'below_floor':
      return `too few to show: fewer than ${formatCount(floor)} keys (the privacy floor), so that a small number does not point at the few people who uploaded.`;
    case 'not_recorded':
      return "not recorded: the publisher's private record of these files lacks their real counts (lost and rebuilt from the files).";
    case 'left_index':
      return 'not shown: some files of the day already left the index; a count of the rest would give away the keys of the files that left.';
  }
}

/** The counts of a region: keys in files (padding included) and keys from phones (no padding), per day, in separate columns. */
function countsTable(listing: RegionListing, days: readonly DayGroup[], floor: number): MarkupChild[] {
  const real = (day: string): RealKeysOfDay => listing.realKeys[day] ?? { shown: false, why: 'not_recorded' };
  const reasons = [...new Set(days.map((group) => real(group.day)).flatMap((count) => (count.shown ? [] : [count.why])))];
  const allKeys = sum(listing.files.map((file) => file.keys));
  const shownDays = days.filter((group) => real(group.day).shown);
  const shownKeys = shownDays.reduce((total, group) => total + (real(group.day) as { keys: number }).keys, 0);
  return [
    el(
      'p',
      { class: 'counts-lede' },
      el('strong', {}, allKeys === undefined ? `${plural(listing.files.length, 'file')}` : `${formatCount(allKeys)} keys in ${plural(listing.files.length, 'file')}, padding included.`),
      ' Padding keys are generated by the server so that a file never shows how few people uploaded: this is not a count of people or uploads. ',
      shownDays.length > 0 ? `Keys from phones (no padding) on the ${plural(shownDays.length, 'day')} that can be shown: ${formatCount(shownKeys)}.` : 'No day’s count of keys from phones can be shown yet.',
    ),
    el(
      'div',
      { class: 'table-wrap' },
      el(
        'table',
        { class: 'counts' },
        el('caption', {}, `Keys per day in region ${listing.region} (UTC, by the day a file’s window starts)`),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Day'), el('th', { scope: 'col', class: 'num' }, 'Files'), el('th', { scope: 'col', class: 'num' }, 'Keys in files (padding included)'), el('th', { scope: 'col', class: 'num' }, 'Keys from phones (no padding)'))),
        el(
          'tbody',
          {},
          days.map((group) => {
            const count = real(group.day);
            const keys = sum(group.files.map((file) => file.keys));
            return el(
              'tr',
              {},
              el('th', { scope: 'row' }, group.day),
              el('td', { class: 'num' }, formatCount(group.files.length)),
              el('td', { class: 'num' }, keys === undefined ? '—' : formatCount(keys)),
              el('td', { class: count.shown ? 'num' : 'num hidden-count' }, count.shown ? formatCount(count.keys) : HIDDEN_SHORT[count.why]),
            );
          }),
        ),
      ),
    ),
    reasons.length > 0 ? el('ul', { class: 'legend' }, reasons.map((reason) => el('li', {}, hiddenLegend(reason, floor)))) : null,
  ];
}

/** A region: its index files, its counts, and its files by day (the newest day open). */
export function regionSection(listing: RegionListing, floor: number): MarkupElement {
  const { region } = listing;
  const days = daysOf(listing.files);
  const headingId = `region-${region}`;
  return el(
    'section',
    { class: 'region card', 'data-region': region, 'aria-labelledby': headingId },
    el('h2', { id: headingId }, `Region ${region}`),
    el(
      'p',
      { class: 'region-links' },
      'The index phones read: ',
      el('a', { href: `/v1/${region}/index.txt` }, 'index.txt'),
      ' (one file per line, oldest first); the same with sizes, counts and SHA-256: ',
      el('a', { href: `/v1/${region}/index.json` }, 'index.json'),
      listing.generatedAt ? `. This list was written from the index of ${formatInstant(listing.generatedAt)}.` : '.',
    ),
    days.length === 0 ? el('p', { class: 'region-empty' }, 'The index names no files at the moment.') : countsTable(listing, days, floor),
    el('h3', {}, 'Files by day'),
    el('p', { class: 'region-status', 'data-role': 'status' }, days.length === 0 ? 'No files.' : `${plural(listing.files.length, 'file')} over ${plural(days.length, 'day')}. Open a day to see its files.`),
    el('div', { class: 'region-actions', 'data-role': 'actions' }),
    el('div', { class: 'days', 'data-role': 'days' }, days.map((group, i) => dayGroup(region, group, i === 0))),
  );
}

/** `0123 4567 ...`: groups of four, easier to compare by eye and to wrap on a phone. */
export function groupFingerprint(hexDigits: string): string {
  return hexDigits.match(/.{1,4}/g)?.join(' ') ?? '';
}

/** The signing key: ids, algorithm, fingerprint, the key file, where the health authority publishes the fingerprint, and the other keys of a rotation. */
export function keyDetails(content: Pick<PageContent, 'key' | 'otherKeys' | 'fingerprintUrl'>): MarkupElement {
  const { key, otherKeys = [], fingerprintUrl } = content;
  const row = (term: string, ...value: MarkupChild[]) => [el('dt', {}, term), el('dd', {}, ...value)];
  return el(
    'dl',
    { class: 'key-details' },
    row('Key id and version', el('code', {}, key.keyId), ' / ', el('code', {}, key.keyVersion)),
    row('Algorithm', 'ECDSA P-256 with SHA-256 ', el('code', {}, key.algorithm)),
    row('SHA-256 fingerprint', el('code', { class: 'fingerprint', id: 'fingerprint', 'data-fingerprint': key.fingerprintSha256 }, groupFingerprint(key.fingerprintSha256)), el('span', { class: 'fingerprint-check', id: 'fingerprint-check' })),
    row('Public key', el('a', { href: SIGNING_KEY_PATH }, 'signing-key.pem'), ' (PEM, SubjectPublicKeyInfo)'),
    row(
      'Where the health authority publishes it',
      fingerprintUrl
        ? el('a', { href: fingerprintUrl, rel: 'noopener noreferrer', class: 'authority-link' }, fingerprintUrl)
        : el('span', { class: 'not-configured' }, 'This server does not say. Ask the health authority for its fingerprint through a channel you trust.'),
    ),
    otherKeys.length === 0
      ? []
      : row(
          'Also accepted',
          'A key rotation is under way: new files carry a signature of each key, files from before it only the previous key\'s.',
          el('ul', { class: 'other-keys' }, otherKeys.map((other) => el('li', {}, el('code', {}, `${other.keyId} / ${other.keyVersion}`), ' SHA-256 ', el('code', { class: 'fingerprint', 'data-fingerprint': other.fingerprintSha256 }, groupFingerprint(other.fingerprintSha256))))),
        ),
  );
}

/** Stands for the page's own address in the commands; the script writes the real one in. */
export const RECIPE_SITE_PLACEHOLDER = 'https://address-of-this-page';

/** The commands that check one file by hand with openssl, for the newest file when there is one. */
export function recipe(content: Pick<PageContent, 'regions' | 'otherKeys'>): MarkupElement {
  const newest = content.regions.flatMap((listing) => listing.files).sort((a, b) => b.start - a.start || (a.path < b.path ? 1 : -1))[0];
  const file = newest?.path ?? `v1/${content.regions[0]?.region ?? '440'}/START-END-00001.zip`;
  const lines = [
    `SITE=${RECIPE_SITE_PLACEHOLDER}   # this page's address, without the final /`,
    `curl -so signing-key.pem "$SITE${SIGNING_KEY_PATH}"`,
    'openssl pkey -pubin -in signing-key.pem -outform DER | openssl dgst -sha256   # the fingerprint',
    `curl -so file.zip "$SITE/${file}"`,
    'python3 -m zipfile -e file.zip .   # or: unzip -o file.zip',
    '# export.sig ends with the signature in DER (0x30, its length, r and s): cut it out',
    'size=$(wc -c < export.sig)',
    'for n in $(seq 72 -1 8); do',
    '  [ "$(od -An -tx1 -j $((size - n)) -N2 export.sig | tr -d \' \\n\')" = "30$(printf %02x $((n - 2)))" ] && { tail -c "$n" export.sig > signature.der; break; }',
    'done',
    'openssl dgst -sha256 -verify signing-key.pem -signature signature.der export.bin   # prints: Verified OK',
    ...(content.otherKeys && content.otherKeys.length > 0
      ? ["# During the key rotation the signature of this page's key ends export.sig; a file from before it holds only the previous key's: check it with that key's publicKeyPem from $SITE/site/config.json"]
      : []),
  ];
  return el('pre', { class: 'recipe' }, el('code', { id: 'recipe' }, lines.join('\n')));
}

/** Every slot's markup, as the publisher renders it. */
export function pageSlots(content: PageContent): Record<PageSlot, MarkupElement | MarkupElement[]> {
  return {
    key: keyDetails(content),
    regions: content.regions.map((listing) => regionSection(listing, content.privacyFloor)),
    recipe: recipe(content),
  };
}
