/**
 * `npm run bench:edge`: many phones polling the index and downloading the files it names, through
 * the local edge and, in the same run, straight from the origin (Azurite). Prints and saves
 * (bench-results/edge.json):
 *
 * - origin requests and cache hit ratio per client count, each from a cold edge cache: the design
 *   holds when origin requests do not grow with the number of clients (files + index only);
 * - throughput (requests/s) of the edge against the raw origin under the same load, as a ratio
 *   measured in one run (median of repetitions, after a warm-up).
 *
 * Clients, the edge and the load generator share this process (Azurite runs in its own), so the
 * absolute figures are modest; the ratios are what the benchmark is for.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { localEdgeEnvironment } from '../../edge-config/config';
import { keyfrontEdge } from '../../edge-config/keyfront';
import { startLocalEdge, type LocalEdge } from '../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import { startAzurite } from '../local-stack/azurite';
import { BlobServiceClient } from '@azure/storage-blob';

const REGION = '440';
const FILES = 8;
const FILE_BYTES = 64 * 1024;
const POLLS_PER_CLIENT = 20;

/** `--clients 10,100 --repetitions 1`: a smaller run on a busy machine; the defaults are the full benchmark. */
function benchOptions(): { clientCounts: number[]; repetitions: number } {
  const { values } = parseArgs({ options: { clients: { type: 'string', default: '10,100,400' }, repetitions: { type: 'string', default: '3' } } });
  const clientCounts = values.clients.split(',').map(Number);
  const repetitions = Number(values.repetitions);
  if (clientCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 2000) || !Number.isInteger(repetitions) || repetitions < 1 || repetitions > 10) {
    process.stderr.write('usage: bench:edge [--clients N,N,...] (1..2000 each) [--repetitions N] (1..10)\n');
    process.exit(2);
  }
  return { clientCounts, repetitions };
}
const { clientCounts: CLIENT_COUNTS, repetitions: REPETITIONS } = benchOptions();

interface Session {
  requests: number;
  failures: number;
}

/** One phone: reads the index, downloads every file it names, then polls the index conditionally. */
async function phone(baseUrl: string, dispatcher: Agent, session: Session): Promise<void> {
  const get = async (url: string, headers: Record<string, string> = {}) => {
    session.requests += 1;
    try {
      const response = await request(url, { headers, dispatcher });
      const body = await response.body.arrayBuffer();
      if (response.statusCode !== 200 && response.statusCode !== 304) session.failures += 1;
      return { status: response.statusCode, etag: response.headers.etag as string | undefined, text: Buffer.from(body).toString('utf8') };
    } catch {
      // A dropped connection (Azurite under load closes some) is a failed request, counted, not the end of the run.
      session.failures += 1;
      return { status: 0, etag: undefined, text: '' };
    }
  };
  const index = await get(`${baseUrl}/v1/${REGION}/index.txt`);
  for (const name of index.text.split('\n').filter(Boolean)) await get(`${baseUrl}/${name}`);
  for (let poll = 0; poll < POLLS_PER_CLIENT; poll += 1) await get(`${baseUrl}/v1/${REGION}/index.txt`, index.etag ? { 'if-none-match': index.etag } : {});
}

async function load(baseUrl: string, clients: number): Promise<{ requests: number; failures: number; seconds: number }> {
  const dispatcher = new Agent({ connections: Math.min(clients, 256), keepAliveTimeout: 10_000 });
  const session: Session = { requests: 0, failures: 0 };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: clients }, () => phone(baseUrl, dispatcher, session)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await dispatcher.close();
  return { ...session, seconds };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const azurite = await startAzurite();
  let edge: LocalEdge | undefined;
  try {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('exports');
    await container.create({ access: 'blob' });
    const names = Array.from({ length: FILES }, (_, i) => `v1/${REGION}/${1_700_000_000 + i * 3600}-${1_700_003_600 + i * 3600}-00001.zip`);
    for (const name of names) await container.getBlockBlobClient(name).uploadData(randomBytes(FILE_BYTES), { blobHTTPHeaders: { blobContentType: 'application/zip', blobCacheControl: 'public, max-age=1209600, immutable' } });
    const indexText = `${names.join('\n')}\n`;
    await container.getBlockBlobClient(`v1/${REGION}/index.txt`).upload(indexText, indexText.length, { blobHTTPHeaders: { blobContentType: 'text/plain', blobCacheControl: 'public, max-age=60, s-maxage=3600' } });

    const declaration = validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: 'http://127.0.0.1:9', blobPrimary: azurite.blobEndpoint, probeRegion: REGION })), 'local');
    edge = await startLocalEdge(declaration, { frontDoorId: '00000000-0000-4000-8000-000000000000', probeIntervalInMs: 600_000 });
    const origin = `${azurite.blobEndpoint}/exports`;
    const originRequests = () => (edge as LocalEdge).metrics().routes.exports.originRequests;
    const cacheCounters = () => (edge as LocalEdge).metrics().routes.exports;

    process.stdout.write(`edge benchmark: ${FILES} files of ${FILE_BYTES / 1024} KiB, each phone reads the index, every file, then polls the index ${POLLS_PER_CLIENT} times (If-None-Match)\n`);
    // Warm-up: JIT, connection pools, Azurite's first reads.
    await load(edge.url, 20);
    await load(origin, 20);

    const byClients = [];
    for (const clients of CLIENT_COUNTS) {
      const edgeRates: number[] = [];
      const originRates: number[] = [];
      const originCounts: number[] = [];
      let hitRatio = 0;
      let answeredByEdge = 0;
      let requestsPerRun = 0;
      let failures = 0;
      for (let rep = 0; rep < REPETITIONS; rep += 1) {
        edge.purge(['/*']); // a cold edge, as after a new file: what reaches the origin then?
        const beforeOrigin = originRequests();
        const before = cacheCounters();
        const throughEdge = await load(edge.url, clients);
        const after = cacheCounters();
        originCounts.push(originRequests() - beforeOrigin);
        const requests = after.requests - before.requests;
        hitRatio = (after.hits - before.hits) / requests;
        answeredByEdge = (requests - (after.originRequests - before.originRequests)) / requests;
        const raw = await load(origin, clients);
        edgeRates.push(throughEdge.requests / throughEdge.seconds);
        originRates.push(raw.requests / raw.seconds);
        requestsPerRun = throughEdge.requests;
        failures += throughEdge.failures + raw.failures;
      }
      byClients.push({
        clients,
        requests: requestsPerRun,
        originRequests: median(originCounts),
        hitRatio,
        answeredByEdge,
        edgeRequestsPerSecond: median(edgeRates),
        originRequestsPerSecond: median(originRates),
        edgeToOriginThroughput: median(edgeRates) / median(originRates),
        failures,
      });
    }

    const header = '| clients | requests | origin requests | X-Cache TCP_HIT | answered without origin | edge req/s | raw origin req/s | edge / origin |';
    process.stdout.write(`\n${header}\n|${header.replace(/[^|]/g, '-').slice(1)}\n`);
    for (const row of byClients) {
      process.stdout.write(
        `| ${String(row.clients).padStart(7)} | ${String(row.requests).padStart(8)} | ${String(row.originRequests).padStart(15)} | ${(row.hitRatio * 100).toFixed(2).padStart(14)}% | ${(row.answeredByEdge * 100).toFixed(3).padStart(22)}% | ${row.edgeRequestsPerSecond.toFixed(0).padStart(10)} | ${row.originRequestsPerSecond.toFixed(0).padStart(16)} | ${row.edgeToOriginThroughput.toFixed(2).padStart(12)}x |\n`,
      );
    }
    const counts = byClients.map((row) => row.originRequests);
    const independent = counts.every((count) => count === counts[0]);
    process.stdout.write(
      `\norigin requests per cold run: ${counts.join(', ')} for ${CLIENT_COUNTS.join(', ')} clients — ${independent ? `independent of the client count (${FILES} files + 1 index)` : 'NOT independent of the client count'}\n`,
    );
    const failures = byClients.reduce((sum, row) => sum + row.failures, 0);
    if (failures > 0) process.stdout.write(`${failures} request(s) failed\n`);

    const file = path.join('bench-results', 'edge.json');
    await mkdir('bench-results', { recursive: true });
    await writeFile(file, `${JSON.stringify({ files: FILES, fileBytes: FILE_BYTES, pollsPerClient: POLLS_PER_CLIENT, repetitions: REPETITIONS, byClients, originRequestsIndependentOfClients: independent }, null, 2)}\n`);
    process.stdout.write(`wrote ${file}\n`);
  } finally {
    await edge?.stop();
    await azurite.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:edge failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
