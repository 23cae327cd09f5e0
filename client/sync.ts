/**
 * One sync of a region, as a phone does it: a conditional read of the index (an unchanged index is
 * a 304 of a few hundred bytes), then each file the phone does not hold yet, downloaded and
 * verified. Every good file is kept and counted; a file that fails (it does not verify, it is
 * missing, the download broke) is reported with its code, stays pending in the state and is tried
 * again on the next sync, also when the index is then unchanged; it never blocks the others. A
 * failure of the server or the network stops the sync early (the files not tried stay pending)
 * rather than spending every file's retries on an outage. When the index itself cannot be read, or
 * the sync is cancelled, it throws and the caller's state stays as it was. Either way the state
 * is consistent: it names only verified files, and everything else the index names is pending.
 *
 * Windows are judged against the server's time (the index's `Date`), not only the phone's clock,
 * which may be a day off either way (clock.ts).
 */
import { MAX_EXPORT_FILE_BYTES } from '../proto/tek';
import { serverSecondsOf } from './clock';
import { ClientError, type ClientErrorCode } from './errors';
import { MAX_INDEX_BYTES, parseExportPath, parseIndex, type ExportPath } from './index-file';
import { fetchWithRetry, runtimeOf, type ClientEnvironment, type RetryOptions, type RetryPolicy, type Runtime } from './retry';
import { emptyState, type PhoneState } from './state';
import { verifyExportFile, type AcceptedKeys, type VerifiedExport, type VerifyExpectations } from './verify-export';

/** How a sync checks a downloaded file: `verifyExportFile`'s signature. */
export type ExportVerifier = (bytes: Uint8Array, keys: AcceptedKeys, expect: VerifyExpectations) => Promise<VerifiedExport>;

export interface SyncOptions {
  /** The edge's base URL, e.g. `https://keyfront.example` (no trailing slash needed). */
  baseUrl: string;
  region: string;
  /** The health authority's key, or its keys during a key rotation (a file passes when one of them verifies it). */
  key: AcceptedKeys;
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

/** A file of the index this sync could not download or verify: it stays pending. */
export interface FailedFile {
  path: string;
  /** The code `keyfront export verify` gives a file that breaks the format, or `file_missing`, `http_error`, ... */
  code: ClientErrorCode;
  message: string;
  statusCode?: number;
}

export interface SyncReport {
  region: string;
  /** 200: the index changed (or was read for the first time); 304: unchanged. */
  indexStatus: 200 | 304;
  /** Files downloaded and verified by this sync, now held. */
  fetched: FetchedFile[];
  /** Files the index names that the phone already had. */
  skipped: string[];
  /** Files the phone had that left the index (older than the retention). */
  dropped: string[];
  /** Files tried by this sync that failed, each with its code. */
  failed: FailedFile[];
  /** Files the index names that the phone does not hold after this sync (failed or not tried): the next sync tries them. */
  pending: string[];
  /** The time the server gave with the index (its `Date` plus `Age`, or `Last-Modified`), UTC seconds, when it gave one. */
  serverTimeSeconds?: number;
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
  serverSeconds?: number;
  bodyBytes: number;
}

async function readIndex(options: SyncOptions, state: PhoneState, runtime: Runtime): Promise<IndexRead> {
  const url = join(options.baseUrl, `v1/${options.region}/index.txt`);
  const headers: Record<string, string> = {};
  if (state.index.etag) headers['if-none-match'] = state.index.etag;
  else if (state.index.lastModified) headers['if-modified-since'] = state.index.lastModified;
  const response = await fetchWithRetry(url, { method: 'GET', headers }, runtime, { policy: options.retry ?? {}, abortSignal: options.abortSignal, onRetry: options.onRetry });
  const serverSeconds = serverSecondsOf(response.headers);
  const time = serverSeconds === undefined ? {} : { serverSeconds };
  if (response.status === 304) {
    await response.body?.cancel().catch(() => undefined);
    return { status: 304, bodyBytes: 0, ...time };
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
  return { status: 200, paths, bodyBytes: bytes.length, ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}), ...time };
}

async function downloadFile(options: SyncOptions, file: ExportPath, runtime: Runtime, serverSeconds: number | undefined): Promise<FetchedFile & { bodyBytes: number }> {
  const url = join(options.baseUrl, file.path);
  const response = await fetchWithRetry(url, { method: 'GET' }, runtime, { policy: options.retry ?? {}, abortSignal: options.abortSignal, onRetry: options.onRetry });
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel().catch(() => undefined);
    throw new ClientError('file_missing', `the index names ${file.path}, but the server does not have it (${response.status})`, { statusCode: response.status });
  }
  if (response.status !== 200) throw await httpError(response, `the file ${url}`);
  const bytes = await readBounded(response, MAX_EXPORT_FILE_BYTES, () => new ClientError('file_too_large', `${file.path} is larger than the ${MAX_EXPORT_FILE_BYTES} bytes phones accept`));
  const time = { nowSeconds: Math.floor(runtime.now() / 1000), ...(serverSeconds === undefined ? {} : { serverNowSeconds: serverSeconds }) };
  const verified = await (options.verify ?? verifyExportFile)(bytes, options.key, { region: options.region, window: { start: file.start, end: file.end }, ...time });
  return { path: file.path, ...verified, bodyBytes: bytes.length };
}

/** Failures of the server or the network, after their retries: the next file would fail the same way. */
const STOPS_THE_SYNC: ReadonlySet<ClientErrorCode> = new Set(['network_error', 'http_error', 'edge_refused']);

/** Export paths in index order (the publisher's: by start, end, then number). */
function inIndexOrder(paths: Iterable<string>): string[] {
  const parsed = [...paths].map((path) => parseExportPath(path) as ExportPath);
  return parsed.sort((a, b) => a.start - b.start || a.end - b.end || a.n - b.n).map((file) => file.path);
}

/**
 * Syncs one region from `state` (a fresh phone's when absent). Resolves to the report and the new
 * state whenever the index was read: files that failed are in `report.failed` and stay pending in
 * the state. Throws `ClientError`, the caller's state unchanged, when the index cannot be read or
 * is no index, and when cancelled (`aborted`).
 */
export async function syncRegion(options: SyncOptions, state: PhoneState = emptyState(options.region)): Promise<SyncResult> {
  if (state.region !== options.region) throw new ClientError('bad_request', `the state is of region ${JSON.stringify(state.region)}, not ${JSON.stringify(options.region)}`);
  const runtime = runtimeOf(options.env);
  const index = await readIndex(options, state, runtime);
  const report: SyncReport = { region: options.region, indexStatus: index.status, fetched: [], skipped: [], dropped: [], failed: [], pending: [], bodyBytes: index.bodyBytes, requests: 1 };
  if (index.serverSeconds !== undefined) report.serverTimeSeconds = index.serverSeconds;
  const held = new Set(state.files);
  // What the index names: read now, or (304) what it named when last read.
  const named = index.paths ? index.paths.map((file) => file.path) : inIndexOrder([...state.files, ...(state.pending ?? [])]);
  const toTry = named.filter((path) => !held.has(path));
  if (index.paths) report.skipped = named.filter((path) => held.has(path));
  options.onProgress?.(0, toTry.length);
  let stoppedBy: ClientError | undefined;
  for (const path of toTry) {
    if (stoppedBy) break;
    try {
      const { bodyBytes, ...fetched } = await downloadFile(options, parseExportPath(path) as ExportPath, runtime, index.serverSeconds);
      report.fetched.push(fetched);
      report.bodyBytes += bodyBytes;
      held.add(path);
    } catch (error) {
      if (!(error instanceof ClientError) || error.code === 'aborted') throw error;
      report.failed.push({ path, code: error.code, message: `${path}: ${error.message}`, ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }) });
      if (STOPS_THE_SYNC.has(error.code)) stoppedBy = error;
    }
    report.requests += 1;
    options.onProgress?.(report.fetched.length + report.failed.length, toTry.length);
  }
  const namedSet = new Set(named);
  report.dropped = state.files.filter((path) => !namedSet.has(path));
  report.pending = named.filter((path) => !held.has(path));
  const validators = index.status === 304 ? state.index : { ...(index.etag ? { etag: index.etag } : {}), ...(index.lastModified ? { lastModified: index.lastModified } : {}) };
  const next: PhoneState = {
    version: 1,
    region: options.region,
    index: { ...validators },
    files: named.filter((path) => held.has(path)),
    ...(report.pending.length > 0 ? { pending: [...report.pending] } : {}),
    ...(state.uploads && state.uploads.length > 0 ? { uploads: state.uploads } : {}),
    lastSyncAt: runtime.now(),
  };
  return { report, state: next };
}
