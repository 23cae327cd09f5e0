/**
 * The transparency page's content, rendered at publish time: each region's index.json (what the
 * page lists: every file with its link, window, keys and size), the day totals of real keys the
 * manifest allows (site-counts.ts), the signing key and where the health authority publishes its
 * fingerprint. `fillPage` writes the markup of site/page-content.ts into the slots of the built
 * index.html, so the page reads fully without JavaScript; the script then checks what it lists.
 */
import { toHtml } from '../site/markup';
import { PAGE_FORMAT, PAGE_SLOTS, pageSlots, type ListedFile, type PageContent, type PageKey, type PageSlot, type RegionListing } from '../site/page-content';
import type { Logger } from '../platform/log';
import type { BlobRequestOptions, BlobWriter } from './blob/blob-writer';
import { indexJsonName } from './export-names';
import type { IndexJson } from './index-file';
import { manifestBlobName, type Manifest } from './manifest';
import { realKeysPerDay } from './site-counts';

/** The page's template or stored page lacks a slot of this build's format. */
export class PageTemplateError extends Error {
  override readonly name = 'PageTemplateError';
}

function markers(slot: PageSlot): { begin: string; end: string } {
  return { begin: `<!--keyfront:${slot}:${PAGE_FORMAT}-->`, end: `<!--/keyfront:${slot}-->` };
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

/** The slots of this build's format that `html` lacks or holds twice; empty when it can be filled. */
export function missingSlots(html: string): PageSlot[] {
  return PAGE_SLOTS.filter((slot) => {
    const { begin, end } = markers(slot);
    return occurrences(html, begin) !== 1 || occurrences(html, end) !== 1 || html.indexOf(begin) > html.indexOf(end);
  });
}

/**
 * `html` with every slot holding the content's markup (whatever it held before: the build's
 * placeholder or an earlier publication). Rendered text is escaped, so it never holds a marker.
 */
export function fillPage(html: string, content: PageContent): string {
  const missing = missingSlots(html);
  if (missing.length > 0) throw new PageTemplateError(`the page has no slot ${missing.map((slot) => `<!--keyfront:${slot}:${PAGE_FORMAT}-->`).join(', ')} (or holds one twice)`);
  const slots = pageSlots(content);
  let filled = html;
  for (const slot of PAGE_SLOTS) {
    const { begin, end } = markers(slot);
    const from = filled.indexOf(begin) + begin.length;
    filled = `${filled.slice(0, from)}${toHtml(slots[slot])}${filled.slice(filled.indexOf(end))}`;
  }
  return filled;
}

export interface PageSources {
  exports: BlobWriter;
  state: BlobWriter;
  logger: Logger;
  regions: readonly string[];
  privacyFloor: number;
  fingerprintUrl?: string;
}

function listedFilesOf(json: unknown): { generatedAt?: string; files: ListedFile[] } {
  const index = json as Partial<IndexJson>;
  if (!Array.isArray(index.files)) throw new Error('index.json has no files list');
  const files = index.files.map((file, i) => {
    if (typeof file?.path !== 'string' || !Number.isSafeInteger(file.start) || !Number.isSafeInteger(file.end)) throw new Error(`index.json file ${i} has no path, start and end`);
    return { path: file.path, start: file.start, end: file.end, ...(Number.isSafeInteger(file.keys) ? { keys: file.keys } : {}), ...(Number.isSafeInteger(file.bytes) ? { bytes: file.bytes } : {}) };
  });
  return { ...(typeof index.generatedAt === 'string' ? { generatedAt: index.generatedAt } : {}), files };
}

/** The manifest for its real counts only; `undefined` (no real counts shown) when it cannot be read. */
async function readManifestForCounts(sources: PageSources, region: string, options: BlobRequestOptions): Promise<Manifest | undefined> {
  const blob = await sources.state.read(manifestBlobName(region), options);
  if (!blob || blob.data.length === 0) return undefined;
  try {
    const manifest = JSON.parse(blob.data.toString('utf8')) as Manifest;
    return manifest.region === region && Array.isArray(manifest.ranges) ? manifest : undefined;
  } catch {
    sources.logger.warn('the manifest of a region is not JSON: the page shows no real counts for it', { region });
    return undefined;
  }
}

async function regionListing(sources: PageSources, region: string, options: BlobRequestOptions): Promise<RegionListing> {
  const blob = await sources.exports.read(indexJsonName(region), options);
  if (!blob) return { region, files: [], realKeys: {} };
  const listing = listedFilesOf(JSON.parse(blob.data.toString('utf8')));
  const manifest = await readManifestForCounts(sources, region, options);
  return { region, ...listing, realKeys: manifest ? realKeysPerDay(manifest, listing.files, sources.privacyFloor) : {} };
}

/** What the page says now: each region's index.json and manifest, read once each; the key it names and the others it accepts (a key rotation). */
export async function readPageContent(sources: PageSources, keys: { key: PageKey; otherKeys?: readonly PageKey[] }, options: BlobRequestOptions = {}): Promise<PageContent> {
  const regions = await Promise.all(sources.regions.map((region) => regionListing(sources, region, options)));
  const otherKeys = keys.otherKeys && keys.otherKeys.length > 0 ? { otherKeys: [...keys.otherKeys] } : {};
  return { key: keys.key, ...otherKeys, privacyFloor: sources.privacyFloor, regions, ...(sources.fingerprintUrl ? { fingerprintUrl: sources.fingerprintUrl } : {}) };
}
