/**
 * A peer's index.txt, read strictly: one path per line, oldest first, relative to the peer's root
 * (keyfront: its edge root, `v1/{region}/{start}-{end}-{n}.zip`; Google's reference server: its
 * bucket root, `{filenameRoot}/{start}-{end}-{batch}.zip`). In both layouts the files sit beside the
 * index, so each path must lie in the index's own folder: a line pointing anywhere else (another
 * host, another folder, `..`) makes the whole index `index_invalid`, never a fetch.
 */
import { readIndexLines } from '../../proto/index-lines';
import { parseExportFileName } from '../export-names';
import { FederationError } from './codes';
import type { IndexFormat } from './peer';

export { MAX_INDEX_BYTES } from '../../proto/index-lines';

/** Google's reference server: `{filenameRoot}/{start}-{end}-{batch}.zip` below its bucket root. */
const GOOGLE_PATH = /^(?:[A-Za-z0-9_.-]+\/)*\d{1,12}-\d{1,12}-\d{1,8}\.zip$/;

export interface PeerFile {
  /** The line of the index: the file's name in progress, provenance and logs. */
  path: string;
  url: string;
}

function invalid(message: string): never {
  throw new FederationError('index_invalid', message, true);
}

/** The files an index names, in its order; `index_invalid` names the first line that breaks the layout. */
export function parsePeerIndex(text: string, options: { indexUrl: string; format: IndexFormat; sourceRegion: string }): PeerFile[] {
  const folder = new URL('.', options.indexUrl);
  return readIndexLines(text, invalid, (line, number, shown) => {
    // keyfront's layout is our own export file name (publisher/export-names.ts), of the peer's region.
    const keyfront = options.format === 'keyfront' ? parseExportFileName(line) : undefined;
    const inLayout = options.format === 'keyfront' ? keyfront !== undefined : GOOGLE_PATH.test(line);
    if (!inLayout) invalid(`line ${number} of the index is not a ${options.format} export path: ${shown}`);
    if (keyfront && keyfront.region !== options.sourceRegion) invalid(`line ${number} of the index names a file of region ${JSON.stringify(keyfront.region)}, not ${JSON.stringify(options.sourceRegion)}`);
    const base = line.slice(line.lastIndexOf('/') + 1);
    const directory = line.slice(0, line.length - base.length);
    // The path's folder must be the index's folder, seen from the root.
    if (!folder.pathname.endsWith(`/${directory}`)) invalid(`line ${number} of the index names a file outside the index's folder (${folder.pathname}): ${shown}`);
    return { path: line, url: new URL(base, folder).href };
  });
}
