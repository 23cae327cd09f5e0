/**
 * The region's index as phones read it (`index.txt`, the GAEN convention): one path per line,
 * relative to the edge root, oldest first. Anything else (an HTML error page, a JSON body, a
 * path that leaves the export tree) is `not_an_index`, so a phone never fetches what it names.
 */
import { ClientError } from './errors';

/** `v1/{region}/{start}-{end}-{n}.zip`: what the publisher writes. */
const EXPORT_PATH = /^v1\/([A-Za-z0-9_-]{1,16})\/(\d{1,12})-(\d{1,12})-(\d{5})\.zip$/;
/** The longest index accepted: 14 days of files, each a few dozen characters, with a wide margin. */
export const MAX_INDEX_BYTES = 1024 * 1024;

export interface ExportPath {
  path: string;
  region: string;
  /** Window the name announces, UTC seconds. */
  start: number;
  end: number;
  n: number;
}

/** Parses one path of an index; `undefined` unless it is an export path of the publisher's layout. */
export function parseExportPath(path: string): ExportPath | undefined {
  const match = EXPORT_PATH.exec(path);
  if (!match) return undefined;
  return { path, region: match[1], start: Number(match[2]), end: Number(match[3]), n: Number(match[4]) };
}

/**
 * The paths of an index.txt, in its order. An empty index (no files yet) is an empty list. Every
 * line must be an export path, of `region` when one is given; `not_an_index` names the first line
 * that is not.
 */
export function parseIndex(text: string, options: { region?: string } = {}): ExportPath[] {
  if (text.length > MAX_INDEX_BYTES) throw new ClientError('not_an_index', `the index is ${text.length} characters, more than the ${MAX_INDEX_BYTES} accepted`);
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const seen = new Set<string>();
  return lines.map((line, i) => {
    const parsed = parseExportPath(line);
    const shown = JSON.stringify(line.slice(0, 80));
    if (!parsed) throw new ClientError('not_an_index', `line ${i + 1} of the index is not an export path (v1/{region}/{start}-{end}-{n}.zip): ${shown}`);
    if (options.region !== undefined && parsed.region !== options.region) throw new ClientError('not_an_index', `line ${i + 1} of the index names a file of region ${JSON.stringify(parsed.region)}, not ${JSON.stringify(options.region)}`);
    if (seen.has(line)) throw new ClientError('not_an_index', `line ${i + 1} of the index repeats ${shown}`);
    seen.add(line);
    return parsed;
  });
}
