/**
 * The region's index as phones read it (`index.txt`, the GAEN convention): one path per line,
 * relative to the edge root, oldest first. Anything else (an HTML error page, a JSON body, a
 * path that leaves the export tree) is `not_an_index`, so a phone never fetches what it names.
 */
import { readIndexLines } from '../proto/index-lines';
import { ClientError } from './errors';

export { MAX_INDEX_BYTES } from '../proto/index-lines';

/** `v1/{region}/{start}-{end}-{n}.zip`: what the publisher writes. */
const EXPORT_PATH = /^v1\/([A-Za-z0-9_-]{1,16})\/(\d{1,12})-(\d{1,12})-(\d{5})\.zip$/;

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
  return readIndexLines(text, refuse, (line, number, shown) => {
    const parsed = parseExportPath(line);
    if (!parsed) refuse(`line ${number} of the index is not an export path (v1/{region}/{start}-{end}-{n}.zip): ${shown}`);
    if (options.region !== undefined && parsed.region !== options.region) refuse(`line ${number} of the index names a file of region ${JSON.stringify(parsed.region)}, not ${JSON.stringify(options.region)}`);
    return parsed;
  });
}

function refuse(message: string): never {
  throw new ClientError('not_an_index', message);
}
