/**
 * What the publisher writes into the page, as HTML text: files grouped by UTC day (newest day
 * open, the rest collapsed), a link per file, the index files, counts that say whether they hold
 * padding, hidden day totals with their reason, the key and the commands to check a file by hand.
 */
import { toHtml } from './markup';
import { daysOf, keyDetails, pageSlots, recipe, regionSection, type ListedFile, type PageContent } from './page-content';

const DAY = 86400;
const day0 = 1796515200; // 2026-12-06 00:00 UTC
const file = (start: number, end = start + 3600, n = 1, keys = 1000 + (start % 7)): ListedFile => ({ path: `v1/440/${start}-${end}-${String(n).padStart(5, '0')}.zip`, start, end, keys, bytes: 20_000 });

const key = { keyId: '440', keyVersion: 'v1', algorithm: '1.2.840.10045.4.3.2', fingerprintSha256: 'ab'.repeat(32) };

function html(content: Partial<PageContent> & Pick<PageContent, 'regions'>): string {
  const slots = pageSlots({ key, privacyFloor: 1000, ...content });
  return [slots.key, ...[slots.regions].flat(), slots.recipe].map((markup) => toHtml(markup)).join('\n');
}

describe('the page content the publisher renders', () => {
  it('groups files by the UTC day their window starts, newest day first, each day in index order', () => {
    const files = [file(day0 - DAY + 3600), file(day0 - 3600, day0 + 3600), file(day0), file(day0, day0 + 3600, 2), file(day0 + 7200)];
    expect(daysOf(files).map((group) => [group.day, group.files.map((f) => f.path.slice(7))])).toEqual([
      ['2026-12-06', [`${day0}-${day0 + 3600}-00001.zip`, `${day0}-${day0 + 3600}-00002.zip`, `${day0 + 7200}-${day0 + 10800}-00001.zip`]],
      ['2026-12-05', [`${day0 - DAY + 3600}-${day0 - DAY + 7200}-00001.zip`, `${day0 - 3600}-${day0 + 3600}-00001.zip`]],
    ]);
  });

  it('lists every file with its link, window, keys and size; the newest day open, older days collapsed', () => {
    const files = [file(day0 - DAY), file(day0 - DAY + 3600), file(day0)];
    const text = toHtml(regionSection({ region: '440', files, realKeys: {} }, 1000));
    for (const f of files) expect(text).toContain(`<a class="file-link" href="/${f.path}" download="${f.path.slice(7)}">${f.path.slice(7)}</a>`);
    expect(text).toContain('<a href="/v1/440/index.txt">index.txt</a>');
    expect(text).toContain('<a href="/v1/440/index.json">index.json</a>');
    expect(text.match(/<details class="day"[^>]*>/g)).toEqual([
      '<details class="day" data-region="440" data-day="2026-12-06" open="">',
      '<details class="day" data-region="440" data-day="2026-12-05">',
    ]);
    expect(text).toContain(`<tr class="file" data-path="${files[2].path}" data-keys="${files[2].keys}" data-bytes="20000"><th scope="row"><span class="window">00:00–01:00</span>`);
    expect(text).toContain('2 files · ');
    // Tables stay tables: a header row per day, headers scoped.
    expect(text).toContain('<th scope="col">Window (UTC) and file</th><th scope="col" class="num">Keys in file</th>');
  });

  it('says that counts in files include padding, and shows keys from phones only where allowed, with the reason otherwise', () => {
    const files = [file(day0 - 2 * DAY), file(day0 - DAY), file(day0)];
    const text = html({
      regions: [{ region: '440', files, realKeys: { '2026-12-04': { shown: true, keys: 1312 }, '2026-12-05': { shown: false, why: 'below_floor' }, '2026-12-06': { shown: false, why: 'day_open' } } }],
    });
    const keys = files.reduce((sum, f) => sum + (f.keys ?? 0), 0).toLocaleString('en');
    expect(text).toContain(`<strong>${keys} keys in 3 files, padding included.</strong>`);
    expect(text).toContain('<th scope="col" class="num">Keys in files (padding included)</th><th scope="col" class="num">Keys from phones (no padding)</th>');
    expect(text).toMatch(/<th scope="row">2026-12-04<\/th><td class="num">1<\/td><td class="num">[\d,]+<\/td><td class="num">1,312<\/td>/);
    expect(text).toContain('<td class="num hidden-count">too few to show</td>');
    expect(text).toContain('<td class="num hidden-count">day not over</td>');
    expect(text).toContain('fewer than 1,000 keys (the privacy floor)');
    expect(text).toContain('Keys from phones (no padding) on the 1 day that can be shown: 1,312.');
    // A day without an entry is not recorded, never a zero.
    expect(html({ regions: [{ region: '440', files: [file(day0)], realKeys: {} }] })).toContain('<td class="num hidden-count">not recorded</td>');
  });

  it('says so when the index names no file', () => {
    expect(html({ regions: [{ region: '440', files: [], realKeys: {} }] })).toContain('The index names no files at the moment.');
  });

  it('shows the key, its file, and where the health authority publishes the fingerprint, or that this server does not say', () => {
    const withUrl = toHtml(keyDetails({ key, fingerprintUrl: 'https://health.example/key?x=1&y=2' }));
    expect(withUrl).toContain(`data-fingerprint="${key.fingerprintSha256}">abab abab`);
    expect(withUrl).toContain('<a href="/site/signing-key.pem">signing-key.pem</a>');
    expect(withUrl).toContain('<a href="https://health.example/key?x=1&amp;y=2" rel="noopener noreferrer" class="authority-link">');
    expect(toHtml(keyDetails({ key }))).toContain('This server does not say.');
  });

  it('lists the other keys of a rotation with their fingerprints', () => {
    const html = toHtml(keyDetails({ key, otherKeys: [{ ...key, keyVersion: 'v2', fingerprintSha256: 'b'.repeat(64) }] }));
    expect(html).toContain('<dt>Also accepted</dt><dd>A key rotation is under way: new files carry a signature of each key, files from before it only the previous key&#39;s.');
    expect(html).toContain(`<code>440 / v2</code> SHA-256 <code class="fingerprint" data-fingerprint="${'b'.repeat(64)}">${'bbbb '.repeat(15)}bbbb</code>`);
    expect(toHtml(keyDetails({ key }))).not.toContain('Also accepted');
  });

  it('checks the newest file by hand in the commands', () => {
    const text = toHtml(recipe({ regions: [{ region: '440', files: [file(day0 - DAY), file(day0), file(day0 - 3600)], realKeys: {} }] }));
    expect(text).toContain(`curl -so file.zip &quot;$SITE/${file(day0).path}&quot;`);
    expect(text).toContain('openssl dgst -sha256 -verify signing-key.pem -signature signature.der export.bin');
  });
});
