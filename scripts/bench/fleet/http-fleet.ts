/**
 * The fleet over real HTTP: a few thousand `Phone`s of the client library sync one region through
 * a running local stack's edge (`npm start`), twice, then every phone must hold exactly the files
 * the index names, each verified. The edge's own counters (admin `/metrics`) give the share of
 * reads it answered without the origin.
 */
import { ClientError, parseIndex, Phone } from '../../../client';
import { measureWireBytes, type WireBytes } from './wire-bytes';

export interface HttpFleetOptions {
  baseUrl: string;
  adminUrl?: string;
  region: string;
  publicKeyPem: string;
  phones: number;
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
}

export interface HttpFleetReport {
  phones: number;
  indexFiles: number;
  phonesInSync: number;
  filesVerified: number;
  failures: Record<string, number>;
  syncs: number;
  notModified: number;
  bodyBytes: number;
  edge?: { requests: number; originRequests: number; edgeShare: number };
  wire?: WireBytes;
  seconds: number;
}

interface RouteCounters {
  requests: number;
  originRequests: number;
}

async function exportsCounters(adminUrl: string | undefined): Promise<RouteCounters | undefined> {
  if (!adminUrl) return undefined;
  const response = await fetch(`${adminUrl}/metrics`);
  if (!response.ok) return undefined;
  const metrics = (await response.json()) as { routes?: Record<string, RouteCounters> };
  return metrics.routes?.exports;
}

async function currentIndex(baseUrl: string, region: string): Promise<string[]> {
  const response = await fetch(`${baseUrl}/v1/${region}/index.txt`);
  if (!response.ok) throw new Error(`the index of region ${region} answered ${response.status}: is the stack running and has it published? (upload keys, then \`npx keyfront publish --once --now ...\`)`);
  return parseIndex(await response.text(), { region }).map((file) => file.path);
}

/** Runs `work` for 0..count-1 with at most `concurrency` at once. */
async function pool(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

export async function runHttpFleet(options: HttpFleetOptions): Promise<HttpFleetReport> {
  const started = performance.now();
  const indexAtStart = await currentIndex(options.baseUrl, options.region);
  if (indexAtStart.length === 0) throw new Error(`the index of region ${options.region} names no file yet: upload keys and publish first`);
  const before = await exportsCounters(options.adminUrl);
  const phones = Array.from({ length: options.phones }, () => new Phone({ baseUrl: options.baseUrl, region: options.region, key: { publicKey: options.publicKeyPem } }));
  const report: HttpFleetReport = { phones: options.phones, indexFiles: 0, phonesInSync: 0, filesVerified: 0, failures: {}, syncs: 0, notModified: 0, bodyBytes: 0, seconds: 0 };
  let done = 0;
  const syncAll = async (which: number[]) => {
    await pool(which.length, options.concurrency, async (i) => {
      try {
        const result = await phones[which[i]].sync();
        report.syncs += 1;
        report.filesVerified += result.fetched.length;
        for (const failed of result.failed) report.failures[failed.code] = (report.failures[failed.code] ?? 0) + 1;
        report.bodyBytes += result.bodyBytes;
        if (result.indexStatus === 304) report.notModified += 1;
      } catch (error) {
        const code = error instanceof ClientError ? error.code : 'unexpected';
        report.failures[code] = (report.failures[code] ?? 0) + 1;
      }
      options.onProgress?.(++done, 2 * options.phones);
    });
  };
  const everyone = phones.map((_, i) => i);
  await syncAll(everyone);
  await syncAll(everyone);
  // The publisher may have published meanwhile: phones behind the final index sync once more.
  let index = await currentIndex(options.baseUrl, options.region);
  const behind = everyone.filter((i) => phones[i].state.files.join('\n') !== index.join('\n'));
  if (behind.length > 0) {
    await syncAll(behind);
    index = await currentIndex(options.baseUrl, options.region);
  }
  report.indexFiles = index.length;
  report.phonesInSync = phones.filter((phone) => phone.state.files.join('\n') === index.join('\n')).length;
  const after = await exportsCounters(options.adminUrl);
  if (before && after) {
    const requests = after.requests - before.requests;
    const originRequests = after.originRequests - before.originRequests;
    report.edge = { requests, originRequests, edgeShare: requests === 0 ? 0 : 1 - originRequests / requests };
  }
  report.wire = await measureWireBytes(options.baseUrl, `/v1/${options.region}/index.txt`, `/${index[index.length - 1]}`);
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
