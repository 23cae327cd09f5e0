/**
 * What the page checks, without the DOM: a region's index read the way a phone reads it, and a
 * list of files (one day's) downloaded from the page's own origin and verified with the phone
 * library, a few at a time, each outcome reported as it is known. The HTTP cache mode is the
 * caller's: the first check may use what the browser holds, a check the reader asks for again goes
 * to the network (`cache: 'reload'`).
 */
import { ClientError, parseIndex, serverSecondsOf, verifyExportFile, type ExportPath, type VerifiedExport } from '../client';
import type { PageKey } from './signing-key';

/** Files downloaded and verified at once: the browser's connections per host (HTTP/1.1), few enough for a phone. */
export const CHECK_CONCURRENCY = 6;

export type FileStatus = 'unchecked' | 'checking' | 'verified' | 'failed';

export interface Failure {
  code: string;
  message: string;
}

export interface FileCheck {
  /** As the index names it: `v1/{region}/{start}-{end}-{n}.zip`, with the window the name announces. */
  entry: ExportPath;
  /** Keys in the file (padding included) as the page lists them; the check fails a file that holds another count. */
  listedKeys?: number;
  status: FileStatus;
  /** Bytes downloaded, once the file arrived. */
  size?: number;
  /** Set once verified. */
  verified?: VerifiedExport;
  /** Set once failed: the phone library's code (or `http_error`, `count_mismatch`) and a sentence. */
  failure?: Failure;
}

/** The browser's fetch cache modes the page uses. */
export type CacheMode = 'default' | 'reload';

export interface CheckDeps {
  fetch: (input: string, init: { cache: CacheMode; signal?: AbortSignal }) => Promise<Response>;
  /** The page's clock, UTC seconds: the phone library refuses windows far in the future. */
  nowSeconds?: () => number;
}

export interface CheckOptions {
  cache: CacheMode;
  signal?: AbortSignal;
}

export function failureOf(error: unknown): Failure {
  if (error instanceof ClientError) return { code: error.code, message: error.message };
  return { code: 'unexpected', message: error instanceof Error ? error.message : String(error) };
}

/** Reads an error answer to its end (a few hundred bytes): a cancelled body shows in the browser as a failed request. */
async function drain(response: Response): Promise<void> {
  await response.arrayBuffer().catch(() => undefined);
}

/** The region's index (`index.txt`), as a phone parses it; throws `ClientError` (`http_error`, `not_an_index`, ...). */
export async function readIndex(region: string, deps: CheckDeps, options: CheckOptions): Promise<ExportPath[]> {
  const response = await deps.fetch(`/v1/${encodeURIComponent(region)}/index.txt`, { cache: options.cache, signal: options.signal });
  if (!response.ok) {
    await drain(response);
    throw new ClientError('http_error', `the server answered ${response.status} for the index of region ${region}`, { statusCode: response.status });
  }
  return parseIndex(await response.text(), { region });
}

/** Downloads and verifies one file with the page's keys (one passes it; `verified.signedBy` says which signed it); never throws: the outcome is in `file`. */
export async function checkFile(file: FileCheck, keys: PageKey | readonly PageKey[], deps: CheckDeps, options: CheckOptions): Promise<void> {
  file.status = 'checking';
  file.verified = undefined;
  file.failure = undefined;
  try {
    const response = await deps.fetch(`/${file.entry.path}`, { cache: options.cache, signal: options.signal });
    if (!response.ok) {
      await drain(response);
      throw new ClientError(response.status === 404 ? 'file_missing' : 'http_error', `the server answered ${response.status} for this file`, { statusCode: response.status });
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    file.size = bytes.length;
    // As a phone does (client/clock.ts): the server's time of this answer judges the window, held
    // within a day of the reader's clock, so a computer whose clock is hours off still checks every file.
    const serverNowSeconds = serverSecondsOf(response.headers);
    const verified = await verifyExportFile(bytes, keys, {
      region: file.entry.region,
      window: { start: file.entry.start, end: file.entry.end },
      ...(deps.nowSeconds ? { nowSeconds: deps.nowSeconds() } : {}),
      ...(serverNowSeconds === undefined ? {} : { serverNowSeconds }),
    });
    if (file.listedKeys !== undefined && verified.keyCount !== file.listedKeys) {
      file.failure = { code: 'count_mismatch', message: `the file is signed and holds ${verified.keyCount} keys, but this page lists ${file.listedKeys}` };
      file.status = 'failed';
      return;
    }
    file.verified = verified;
    file.status = 'verified';
  } catch (error) {
    file.status = 'failed';
    file.failure = failureOf(error);
  }
}

/** Checks `files`, `CHECK_CONCURRENCY` at a time, calling `onFile` as each is done; resolves once all are. */
export async function checkFiles(files: readonly FileCheck[], keys: PageKey | readonly PageKey[], deps: CheckDeps, options: CheckOptions & { onFile?: (file: FileCheck) => void }): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++];
      await checkFile(file, keys, deps, options);
      options.onFile?.(file);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHECK_CONCURRENCY, files.length) }, worker));
}
