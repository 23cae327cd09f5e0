/**
 * What the page does for one region, without the DOM: read the region's index the way a phone
 * does, download every file it names (same origin, through the edge) and verify each with the
 * phone library, a few at a time. Each file's outcome is reported as it is known, so the page
 * fills in while the rest still download.
 */
import { ClientError, parseIndex, verifyExportFile, type ExportPath, type VerifiedExport } from '../client';
import type { PageKey } from './signing-key';

/** Files downloaded and verified at once: enough to keep the connection busy, few enough for a phone. */
export const CHECK_CONCURRENCY = 4;

export type FileStatus = 'checking' | 'verified' | 'failed';

export interface FileCheck {
  /** As the index names it: `v1/{region}/{start}-{end}-{n}.zip`, with the window the name announces. */
  entry: ExportPath;
  path: string;
  status: FileStatus;
  /** Bytes downloaded, once the file arrived. */
  size?: number;
  /** Set once verified. */
  verified?: VerifiedExport;
  /** Set once failed: the phone library's code (or `http_error`) and a sentence. */
  failure?: { code: string; message: string };
}

export interface RegionCheck {
  region: string;
  /** The index could not be read or is not an index: no file is listed. */
  indexFailure?: { code: string; message: string };
  files: FileCheck[];
}

export interface CheckDeps {
  fetch: typeof fetch;
  /** Called whenever a file's status changes (and once with the list, all `checking`). */
  onUpdate: (check: RegionCheck) => void;
  /** The page's clock, UTC seconds: the phone library refuses windows far in the future. */
  nowSeconds?: () => number;
}

function failureOf(error: unknown): { code: string; message: string } {
  if (error instanceof ClientError) return { code: error.code, message: error.message };
  return { code: 'unexpected', message: error instanceof Error ? error.message : String(error) };
}

async function checkFile(file: FileCheck, region: string, key: PageKey, deps: CheckDeps, signal?: AbortSignal): Promise<void> {
  try {
    const response = await deps.fetch(`/${file.path}`, { signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw new ClientError(response.status === 404 ? 'file_missing' : 'http_error', `the server answered ${response.status} for this file`, { statusCode: response.status });
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    file.size = bytes.length;
    file.verified = await verifyExportFile(bytes, key, {
      region,
      window: { start: file.entry.start, end: file.entry.end },
      ...(deps.nowSeconds ? { nowSeconds: deps.nowSeconds() } : {}),
    });
    file.status = 'verified';
  } catch (error) {
    file.status = 'failed';
    file.failure = failureOf(error);
  }
}

/** Reads the region's index and verifies every file it names; resolves once all are done. */
export async function checkRegion(region: string, key: PageKey, deps: CheckDeps, options: { signal?: AbortSignal } = {}): Promise<RegionCheck> {
  const check: RegionCheck = { region, files: [] };
  try {
    const response = await deps.fetch(`/v1/${encodeURIComponent(region)}/index.txt`, { signal: options.signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw new ClientError('http_error', `the server answered ${response.status} for the index of region ${region}`, { statusCode: response.status });
    }
    check.files = parseIndex(await response.text(), { region }).map((entry) => ({ entry, path: entry.path, status: 'checking' as const }));
  } catch (error) {
    check.indexFailure = failureOf(error);
    deps.onUpdate(check);
    return check;
  }
  deps.onUpdate(check);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < check.files.length) {
      const file = check.files[next++];
      await checkFile(file, region, key, deps, options.signal);
      deps.onUpdate(check);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHECK_CONCURRENCY, check.files.length) }, worker));
  return check;
}
