/**
 * The page rendered at publish time: the built page's slots filled from what storage holds (the
 * indexes, the manifests' real counts), filled again in place on the next publication, and a
 * template or stored page without this build's slots refused rather than written half-filled.
 */
import { silentLogger } from '../platform/log';
import { PAGE_FORMAT } from '../site/page-content';
import { MemoryBlobWriter } from './blob/memory-blob-writer';
import { indexJsonName } from './export-names';
import { buildIndex } from './index-file';
import { manifestBlobName, type Manifest, type PublishedFile } from './manifest';
import { fillPage, missingSlots, PageTemplateError, readPageContent } from './site-page';

const DAY = 86400;
const day0 = 1796342400; // 2026-12-04 00:00 UTC
const key = { keyId: '440', keyVersion: 'v1', algorithm: '1.2.840.10045.4.3.2', fingerprintSha256: 'cd'.repeat(32) };
const TEMPLATE = ['key', 'regions', 'recipe'].map((slot) => `<div><!--keyfront:${slot}:${PAGE_FORMAT}--><p>placeholder</p><!--/keyfront:${slot}--></div>`).join('\n');

function published(start: number, keys: number): PublishedFile {
  return { name: `v1/440/${start}-${start + 3600}-00001.zip`, start, end: start + 3600, n: 1, keys, revisedKeys: 0, bytes: 21_000, sha256: 'a', binSha256: 'b', keyId: '440', keyVersion: 'v1' };
}

async function storage(files: PublishedFile[], realPerFile: number) {
  const exports = new MemoryBlobWriter('exports');
  const state = new MemoryBlobWriter('publisher-state');
  await exports.ensureContainer({ publicRead: true });
  await state.ensureContainer({ publicRead: false });
  const index = buildIndex('440', files, new Date((day0 + 2 * DAY) * 1000));
  await exports.replace(indexJsonName('440'), Buffer.from(index.json), { contentType: 'application/json' }, { ifMatch: null });
  const manifest: Manifest = {
    version: 1,
    region: '440',
    publishedThrough: day0 + 2 * DAY,
    ranges: files.map((file) => ({ start: file.start, end: file.end, files: [file], realKeys: realPerFile, realRevisedKeys: 0, paddingKeys: file.keys - realPerFile, publishedAt: file.end, settled: true })),
    purgePending: false,
    updatedAt: 0,
  };
  await state.replace(manifestBlobName('440'), Buffer.from(JSON.stringify(manifest)), { contentType: 'application/json' }, { ifMatch: null });
  return { exports, state, logger: silentLogger, regions: ['440', '441'], privacyFloor: 1000 };
}

describe('the page rendered at publish time', () => {
  it("lists each region's files from its index.json and the day totals its manifest allows; a region without an index lists none", async () => {
    const files = Array.from({ length: 24 }, (_, h) => published(day0 + h * 3600, 1000 + h));
    const content = await readPageContent(await storage(files, 50), { key });
    expect(content.regions.map((r) => [r.region, r.files.length, r.generatedAt])).toEqual([
      ['440', 24, '2026-12-06T00:00:00.000Z'],
      ['441', 0, undefined],
    ]);
    expect(content.regions[0].files[0]).toEqual({ path: files[0].name, start: files[0].start, end: files[0].end, keys: 1000, bytes: 21_000 });
    expect(content.regions[0].realKeys).toEqual({ '2026-12-04': { shown: true, keys: 1200 } });
    const html = fillPage(TEMPLATE, content);
    for (const file of files) expect(html).toContain(`href="/${file.name}"`);
    expect(html).toContain('<td class="num">1,200</td>');
    expect(html).not.toContain('placeholder');
  });

  it('fills the slots of a page it filled before, in place, and gives the same page for the same content', async () => {
    const sources = await storage([published(day0, 1000)], 10);
    const first = fillPage(TEMPLATE, await readPageContent(sources, { key }));
    expect(fillPage(first, await readPageContent(sources, { key }))).toBe(first);
    const more = await storage([published(day0, 1000), published(day0 + DAY, 1001)], 10);
    const second = fillPage(first, await readPageContent(more, { key }));
    expect(second).toContain(`href="/v1/440/${day0 + DAY}-${day0 + DAY + 3600}-00001.zip"`);
    expect(missingSlots(second)).toEqual([]);
    expect(second.split('<!--keyfront:').length).toBe(first.split('<!--keyfront:').length);
  });

  it.each([
    ['no slot at all', '<!doctype html><p>an old page</p>', ['key', 'regions', 'recipe']],
    ['a slot of another format', TEMPLATE.replace(`<!--keyfront:key:${PAGE_FORMAT}-->`, `<!--keyfront:key:${PAGE_FORMAT + 1}-->`), ['key']],
    ['a slot twice', `${TEMPLATE}\n<!--keyfront:recipe:${PAGE_FORMAT}--><!--/keyfront:recipe-->`, ['recipe']],
  ])('refuses to fill a page with %s', async (_what, html, missing) => {
    expect(missingSlots(html)).toEqual(missing);
    expect(() => fillPage(html, { key, privacyFloor: 1000, regions: [] })).toThrow(PageTemplateError);
  });

  it('shows no real counts for a region whose manifest is unreadable', async () => {
    const sources = await storage([published(day0, 1000)], 10);
    await sources.state.replace(manifestBlobName('440'), Buffer.from('not json'), { contentType: 'application/json' }, { ifMatch: (await sources.state.read(manifestBlobName('440')))!.etag });
    expect((await readPageContent(sources, { key })).regions[0].realKeys).toEqual({});
  });
});
