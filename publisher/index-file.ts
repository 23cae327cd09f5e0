/**
 * The index of a region, in two forms: `index.txt`, the GAEN convention (one path per line,
 * relative to the edge root, oldest first), and `index.json` with what a client or an operator
 * wants to know about each file. It never names a file before that file exists and is complete:
 * the run builds it from the manifest, which records only files already written.
 *
 * Cache headers: `public, max-age=60, s-maxage=3600`. Phones keep the index a minute (a poll is
 * then a conditional GET answered 304 by the edge); the edge keeps it an hour, because every
 * change is followed by a purge of exactly these two paths. If a purge fails, the edge serves
 * the previous index (which names only files that still exist) for at most that hour.
 */
import { signaturesOf, type PublishedFile, type SignatureRef } from './manifest';

export const INDEX_CACHE_CONTROL = 'public, max-age=60, s-maxage=3600';
export const INDEX_TXT_CONTENT_TYPE = 'text/plain; charset=utf-8';
export const INDEX_JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
/** Longest any cache may hold an index: files it stopped naming are deleted only after this. */
export const INDEX_CACHE_GRACE_SECONDS = 3600 + 60;

/** Export files: immutable, cached by the edge and phones for a year. */
export const EXPORT_CACHE_CONTROL = 'public, max-age=31536000, immutable';
export const EXPORT_CONTENT_TYPE = 'application/zip';

export interface IndexJsonFile {
  path: string;
  start: number;
  end: number;
  keys: number;
  revisedKeys: number;
  bytes: number;
  sha256: string;
  /** The first key that signed the file. */
  keyId: string;
  keyVersion: string;
  /** Every key that signed the file, in export.sig's order: during a key rotation, the old key and the new one. */
  signatures: SignatureRef[];
}

export interface IndexJson {
  region: string;
  generatedAt: string;
  files: IndexJsonFile[];
}

export interface IndexContent {
  txt: string;
  json: string;
  files: IndexJsonFile[];
}

function entry(file: PublishedFile): IndexJsonFile {
  return { path: file.name, start: file.start, end: file.end, keys: file.keys, revisedKeys: file.revisedKeys, bytes: file.bytes, sha256: file.sha256, keyId: file.keyId, keyVersion: file.keyVersion, signatures: signaturesOf(file).map(({ keyId, keyVersion }) => ({ keyId, keyVersion })) };
}

/** Both index files for `files`, oldest first. */
export function buildIndex(region: string, files: readonly PublishedFile[], generatedAt: Date): IndexContent {
  const sorted = [...files].sort((a, b) => a.start - b.start || a.end - b.end || a.n - b.n).map(entry);
  const json: IndexJson = { region, generatedAt: generatedAt.toISOString(), files: sorted };
  // No trailing newline, as the reference server writes it: some clients read every line as a path.
  return { txt: sorted.map((file) => file.path).join('\n'), json: `${JSON.stringify(json, null, 2)}\n`, files: sorted };
}

/** Whether a stored index.json lists exactly `files` (its `generatedAt` does not count). */
export function indexJsonListsFiles(stored: string | undefined, files: readonly IndexJsonFile[]): boolean {
  if (stored === undefined) return false;
  try {
    const parsed = JSON.parse(stored) as Partial<IndexJson>;
    return JSON.stringify(parsed.files) === JSON.stringify(files);
  } catch {
    return false;
  }
}
