/**
 * One sync of a region, as a phone does it: a conditional read of the index (an unchanged index is
 * a 304 of a few hundred bytes), then each file the phone has not seen, downloaded and verified.
 * Either the whole sync succeeds and a new state is returned, or it throws and the caller's state
 * stays as it was: a file that does not verify, a truncated zip, an index naming a missing file or
 * a page that is no index never leave a phone half-updated.
 */
import { MAX_EXPORT_FILE_BYTES } from '../proto/tek';
import { ClientError } from './errors';
import { MAX_INDEX_BYTES, parseIndex, type ExportPath } from './index-file';
import type { VerificationKey } from './public-key';
import { fetchWithRetry, runtimeOf, type ClientEnvironment, type RetryOptions, type RetryPolicy, type Runtime } from './retry';
import { emptyState, type PhoneState } from './state';
import { verifyExportFile, type VerifiedExport, type VerifyExpectations } from './verify-export';

/** How a sync checks a downloaded file: `verifyExportFile`'s signature. */
export type ExportVerifier = (bytes: Uint8Array, key: VerificationKey, expect: VerifyExpectations) => Promise<VerifiedExport>;

export interface SyncOptions {
  /** The edge's base URL, e.g. `https://keyfront.example` (no trailing slash needed). */
  baseUrl: string;
  region: string;
  key: VerificationKey;
  env?: ClientEnvironment;
  retry?: Partial<RetryPolicy>;
  onRetry?: RetryOptions['onRetry'];
  /**
   * Checks each downloaded file: `verifyExportFile` (the default). The fleet simulation passes a
   * memo of it, because thousands of simulated phones verify the same file.
   */
  verify?: ExportVerifier;
  /** Called once the new files are known and after each is verified: `done` of `total` new files. */
  onProgress?: (done: number, total: number) => void;
  abortSignal?: AbortSignal;
}

export interface FetchedFile extends VerifiedExport {
  path: string;
}

export interface SyncReport {
  region: string;
  /** 200: the index changed (or was read for the first time); 304: unchanged. */
  indexStatus: 200 | 304;
  fetched: FetchedFile[];
  /** Files the index names that the phone already had. */
  skipped: string[];
  /** Files the phone had that left the index (older than the retention). */
  dropped: string[];
  /** Bytes of bodies received. */
  bodyBytes: number;
  requests: number;
}

export interface SyncResult {
  report: SyncReport;
  state: PhoneState;
}

function join(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** Reads a body up to `limit` bytes; more is `tooLarge()`. */
async function readBounded(response: Response, limit: number, tooLarge: () => ClientError): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    size += read.value.length;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(read.value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

async function httpError(response: Response, what: string): Promise<ClientError> {
  await response.body?.cancel().catch(() => undefined);
  return new ClientError('http_error', `${what} answered ${response.status}`, { statusCode: response.status });
}

interface IndexRead {
  status: 200 | 304;
  paths?: ExportPath[];
  etag?: string;
  lastModified?: string;
  bodyBytes: number;
}

async function readIndex(options: SyncOptions, state: PhoneState, runtime: Runtime): Promise<IndexRead> {
  const url = join(options.baseUrl, `v1/${options.region}/index.txt`);
  const headers: Record<string, string> = {};
  if (state.index.etag) headers['if-none-match'] = state.index.etag;
  else if (state.index.lastModified) headers['if-modified-since'] = state.index.lastModified;
  const response = await fetchWithRetry(url, { method: 'GET', headers }, runtime, { policy: options.retry ?? {}, abortSignal: options.abortSignal, onRetry: options.onRetry });
  if (response.status === 304) {
    await response.body?.cancel().catch(() => undefined);
    return { status: 304, bodyBytes: 0 };
  }
  if (response.status === 404) {
    await response.body?.cancel().catch(() => undefined);
    throw new ClientError('not_an_index', `the server has no index for region ${JSON.stringify(options.region)} (404 at ${url})`, { statusCode: 404 });
  }
  if (response.status !== 200) throw await httpError(response, `the index ${url}`);
  const type = (response.headers.get('content-type') ?? '').toLowerCase();
  if (/html|json|xml/.test(type)) {
    await response.body?.cancel().catch(() => undefined);
    throw new ClientError('not_an_index', `the index ${url} came back as ${type.split(';')[0]}, not a plain list of files`);
  }
  const bytes = await readBounded(response, MAX_INDEX_BYTES, () => new ClientError('not_an_index', `the index ${url} is larger than ${MAX_INDEX_BYTES} bytes`));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ClientError('not_an_index', `the index ${url} is not UTF-8 text`);
  }
  const paths = parseIndex(text, { region: options.region });
  const etag = response.headers.get('etag') ?? undefined;
  const lastModified = response.headers.get('last-modified') ?? undefined;
  return { status: 200, paths, bodyBytes: bytes.length, ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
}

async function downloadFile(options: SyncOptions, file: ExportPath, runtime: Runtime): Promise<FetchedFile & { bodyBytes: number }> {
  const url = join(options.baseUrl, file.path);
  const response = await fetchWithRetry(url, { method: 'GET' }, runtime, { policy: options.retry ?? {}, abortSignal: options.abortSignal, onRetry: options.onRetry });
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel().catch(() => undefined);
    throw new ClientError('file_missing', `the index names ${file.path}, but the server does not have it (${response.status})`, { statusCode: response.status });
  }
  if (response.status !== 200) throw await httpError(response, `the file ${url}`);
  const bytes = await readBounded(response, MAX_EXPORT_FILE_BYTES, () => new ClientError('zip_invalid', `${file.path} is larger than the ${MAX_EXPORT_FILE_BYTES} bytes phones accept`));
  try {
    const verified = await (options.verify ?? verifyExportFile)(bytes, options.key, { region: options.region, window: { start: file.start, end: file.end }, nowSeconds: Math.floor(runtime.now() / 1000) });
    return { path: file.path, ...verified, bodyBytes: bytes.length };
  } catch (error) {
    if (error instanceof ClientError) throw new ClientError(error.code, `${file.path}: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * Syncs one region from `state` (a fresh phone's when absent). Resolves to the report and the new
 * state; throws `ClientError` and changes nothing when any step fails.
 */
export async function syncRegion(options: SyncOptions, state: PhoneState = emptyState(options.region)): Promise<SyncResult> {
  if (state.region !== options.region) throw new ClientError('bad_request', `the state is of region ${JSON.stringify(state.region)}, not ${JSON.stringify(options.region)}`);
  const runtime = runtimeOf(options.env);
  const index = await readIndex(options, state, runtime);
  const report: SyncReport = { region: options.region, indexStatus: index.status, fetched: [], skipped: [], dropped: [], bodyBytes: index.bodyBytes, requests: 1 };
  if (index.status === 304 || !index.paths) {
    return { report, state: { ...state, index: { ...state.index }, files: [...state.files], lastSyncAt: runtime.now() } };
  }
  const had = new Set(state.files);
  const fresh = index.paths.filter((file) => !had.has(file.path));
  report.skipped = index.paths.filter((file) => had.has(file.path)).map((file) => file.path);
  options.onProgress?.(0, fresh.length);
  for (const file of fresh) {
    const { bodyBytes, ...fetched } = await downloadFile(options, file, runtime);
    report.fetched.push(fetched);
    report.bodyBytes += bodyBytes;
    report.requests += 1;
    options.onProgress?.(report.fetched.length, fresh.length);
  }
  const named = new Set(index.paths.map((file) => file.path));
  report.dropped = state.files.filter((path) => !named.has(path));
  const next: PhoneState = {
    version: 1,
    region: options.region,
    index: { ...(index.etag ? { etag: index.etag } : {}), ...(index.lastModified ? { lastModified: index.lastModified } : {}) },
    files: index.paths.map((file) => file.path),
    lastSyncAt: runtime.now(),
  };
  return { report, state: next };
}
