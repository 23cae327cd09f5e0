/**
 * Where things live in the export container, and the URL paths phones (and purges) use for
 * them: `v1/{region}/{startUnix}-{endUnix}-{n:05}.zip`, `v1/{region}/index.txt`,
 * `v1/{region}/index.json`. The edge serves the container at `/`, so a blob name is also the
 * path below the edge host.
 */

export const EXPORT_PREFIX = 'v1';

export interface ExportFileName {
  region: string;
  /** Range of `publishAt` the file covers, UTC seconds. */
  start: number;
  end: number;
  /** 1-based number of the file within its range. */
  n: number;
}

const FILE_NAME = /^v1\/([A-Za-z0-9_-]{1,16})\/(\d{1,12})-(\d{1,12})-(\d{5})\.zip$/;

export function exportFileName(file: ExportFileName): string {
  if (!Number.isInteger(file.n) || file.n < 1 || file.n > 99999) throw new RangeError(`file number ${file.n} is outside 1..99999`);
  return `${EXPORT_PREFIX}/${file.region}/${file.start}-${file.end}-${String(file.n).padStart(5, '0')}.zip`;
}

/** Parses an export file's blob name; `undefined` for any other blob (index, foreign names). */
export function parseExportFileName(name: string): ExportFileName | undefined {
  const match = FILE_NAME.exec(name);
  if (!match) return undefined;
  return { region: match[1], start: Number(match[2]), end: Number(match[3]), n: Number(match[4]) };
}

/** Blob prefix of every file of a region. */
export function regionPrefix(region: string): string {
  return `${EXPORT_PREFIX}/${region}/`;
}

export function indexTxtName(region: string): string {
  return `${regionPrefix(region)}index.txt`;
}

export function indexJsonName(region: string): string {
  return `${regionPrefix(region)}index.json`;
}

/** The edge paths of a region's index: the only paths the publisher ever purges. */
export function indexPurgePaths(region: string): string[] {
  return [`/${indexTxtName(region)}`, `/${indexJsonName(region)}`];
}

/** Orders export files oldest first: by range start, then end, then number. */
export function compareExportFiles(a: ExportFileName, b: ExportFileName): number {
  return a.start - b.start || a.end - b.end || a.n - b.n;
}
