/**
 * A peer's index.txt, read strictly: one path per line, oldest first, relative to the peer's root
 * (keyfront: its edge root, `v1/{region}/{start}-{end}-{n}.zip`; Google's reference server: its
 * bucket root, `{filenameRoot}/{start}-{end}-{batch}.zip`). In both layouts the files sit beside the
 * index, so each path must lie in the index's own folder: a line pointing anywhere else (another
 * host, another folder, `..`) makes the whole index `index_invalid`, never a fetch.
 */
import { FederationError } from './codes';
import type { IndexFormat } from './peer';

/** The longest index accepted: 14 days of files, each a few dozen characters, with a wide margin (as phones accept). */
export const MAX_INDEX_BYTES = 1024 * 1024;

const LINE_PATTERN: Record<IndexFormat, RegExp> = {
  keyfront: /^v1\/([A-Za-z0-9_-]{1,16})\/\d{1,12}-\d{1,12}-\d{5}\.zip$/,
  google: /^((?:[A-Za-z0-9_.-]+\/)*)\d{1,12}-\d{1,12}-\d{1,8}\.zip$/,
};

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
  if (text.length > MAX_INDEX_BYTES) invalid(`the index is ${text.length} characters, more than the ${MAX_INDEX_BYTES} accepted`);
  const folder = new URL('.', options.indexUrl);
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const seen = new Set<string>();
  return lines.map((line, i) => {
    const shown = JSON.stringify(line.slice(0, 80));
    const match = LINE_PATTERN[options.format].exec(line);
    if (!match) invalid(`line ${i + 1} of the index is not a ${options.format} export path: ${shown}`);
    if (options.format === 'keyfront' && match[1] !== options.sourceRegion) invalid(`line ${i + 1} of the index names a file of region ${JSON.stringify(match[1])}, not ${JSON.stringify(options.sourceRegion)}`);
    if (seen.has(line)) invalid(`line ${i + 1} of the index repeats ${shown}`);
    seen.add(line);
    const base = line.slice(line.lastIndexOf('/') + 1);
    const directory = line.slice(0, line.length - base.length);
    // The path's folder must be the index's folder, seen from the root.
    if (!folder.pathname.endsWith(`/${directory}`)) invalid(`line ${i + 1} of the index names a file outside the index's folder (${folder.pathname}): ${shown}`);
    return { path: line, url: new URL(base, folder).href };
  });
}
