/**
 * The end checks of a drill, read straight from storage: every file the index names exists,
 * no key is published twice, and every key the system accepted was published.
 */
import { openExport } from '../../../proto/codec';
import type { BlobWriter } from '../../../publisher/blob/blob-writer';
import { indexTxtName } from '../../../publisher/export-names';

export interface AuditResult {
  indexEntries: number;
  danglingIndexEntries: string[];
  filesRead: number;
  keysPublished: number;
  duplicateKeys: number;
  /** Accepted keys (hex) missing from every published file. */
  missingKeys: string[];
}

/** Reads the region's index and every file it names; `accepted` is the set of keys (hex) that must be there. */
export async function auditPublished(exports: BlobWriter, region: string, accepted: ReadonlySet<string>): Promise<AuditResult> {
  const index = await exports.read(indexTxtName(region));
  const names = index ? index.data.toString('utf8').split('\n').filter((line) => line.trim() !== '') : [];
  const dangling: string[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  let filesRead = 0;
  for (const name of names) {
    const blob = await exports.read(name);
    if (!blob) {
      dangling.push(name);
      continue;
    }
    filesRead++;
    const opened = await openExport(blob.data);
    for (const key of opened.export.keys) {
      const hex = Buffer.from(key.keyData).toString('hex');
      if (seen.has(hex)) duplicates++;
      else seen.add(hex);
    }
  }
  const missingKeys = [...accepted].filter((hex) => !seen.has(hex));
  return { indexEntries: names.length, danglingIndexEntries: dangling, filesRead, keysPublished: seen.size, duplicateKeys: duplicates, missingKeys };
}

/**
 * Index entries (as served by `baseUrl`, the edge) whose file the edge answers as missing (404 or
 * 410). A failure of another kind (a 5xx while the edge moves to another origin) is not a missing
 * file: such a read is tried again a few times, as a phone would.
 */
export async function danglingThroughEdge(baseUrl: string, region: string, abortSignal?: AbortSignal): Promise<string[]> {
  const response = await fetch(`${baseUrl}/${indexTxtName(region)}`, { signal: abortSignal });
  if (response.status !== 200) {
    await response.body?.cancel();
    return [];
  }
  const names = (await response.text()).split('\n').filter((line) => line.trim() !== '');
  const dangling: string[] = [];
  for (const name of names) {
    for (let attempt = 0; attempt < 4; attempt++) {
      const head = await fetch(`${baseUrl}/${name}`, { method: 'HEAD', signal: abortSignal }).catch(() => undefined);
      await head?.body?.cancel();
      if (head?.status === 404 || head?.status === 410) {
        dangling.push(name);
        break;
      }
      if (head?.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return dangling;
}
