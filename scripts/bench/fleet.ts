/**
 * `npm run bench:fleet`: a million phones on the real edge cache code.
 *
 *   npm run bench:fleet -- --phones 1000000 --pops 20 --days 3 [--compare 100000] [--json FILE]
 *   npm run bench:fleet -- --http --phones 2000 [--base URL] [--public-key FILE] [--region R]
 *
 * Simulation mode: phones poll on the apps' schedule (every --poll-hours, with --jitter), routed to
 * --pops POPs, each POP the local edge's cache over the exports origin, on a virtual clock; the
 * publisher's cadence (hourly windows, runs every 15 min, 5 min margin, index purged at every POP)
 * and file sizes from real exports of --keys-per-file keys. Header bytes and the idle poll are
 * measured on the real local edge in front of Azurite. With --compare, a second fleet of that size
 * runs in the same process, so the origin requests per day of both sit side by side.
 *
 * HTTP mode: --phones client-library phones sync through a running local stack (npm start).
 */
import { SingleBar } from 'cli-progress';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { buildExport } from '../../proto/codec';
import { realisticKeys } from '../../proto/test-keys';
import { LocalSigner } from '../../publisher/signers/local';
import { loadLocalStackConfig } from '../local-stack/config';
import { runHttpFleet } from './fleet/http-fleet';
import { simulateFleet, type FleetConfig, type FleetCounters } from './fleet/simulate';
import { measureOnLocalEdge, type WireBytes } from './fleet/wire-bytes';

/**
 * Azure Front Door Standard/Premium, North America and Europe zone, first 10 TB: data transfer
 * from the edge to clients per GB, and Standard's request price per 10,000 (README "The phone").
 */
const PRICE_PER_GB = 0.083;
const PRICE_PER_10K_REQUESTS = 0.009;

class UsageError extends Error {}

function count(value: string | undefined, flag: string, fallback: number, { min = 1, max = 10_000_000 } = {}): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

function readFlags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      options: {
        phones: { type: 'string' }, pops: { type: 'string' }, days: { type: 'string' }, compare: { type: 'string' }, json: { type: 'string' },
        'poll-hours': { type: 'string' }, jitter: { type: 'string' }, 'tick-seconds': { type: 'string' }, 'keys-per-file': { type: 'string' }, seed: { type: 'string' },
        http: { type: 'boolean' }, base: { type: 'string' }, 'public-key': { type: 'string' }, region: { type: 'string' }, concurrency: { type: 'string' }, help: { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Sizes of real signed exports of about `keys` keys (the privacy floor plus its jitter). */
async function realFileSizes(keys: number): Promise<{ sizes: number[]; sample: Buffer }> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signer = new LocalSigner(privateKey, { keyId: '440', keyVersion: 'v1' });
  const sizes: number[] = [];
  let sample: Buffer = Buffer.alloc(0);
  const start = Math.floor(Date.now() / 3_600_000) * 3600 - 7200;
  for (const extra of [0, 33, 66, 99]) {
    const built = await buildExport({ region: '440', startTimestamp: start, endTimestamp: start + 3600, keys: realisticKeys(keys + extra) }, signer);
    sizes.push(built.zip.length);
    sample = built.zip;
  }
  return { sizes, sample };
}

function progressBar(label: string): SingleBar | undefined {
  return process.stderr.isTTY ? new SingleBar({ format: `${label} {bar} {value}/{total}`, stream: process.stderr }) : undefined;
}

interface FleetRow {
  phones: number;
  pops: number;
  days: number;
  clientRequests: number;
  edgeShare: number;
  originRequests: number;
  originRequestsPerDay: number;
  originRequestsByDay: number[];
  bytesPerPhonePerDay: number;
  egressGbPerDay: number;
  egressCostPerDayUsd: number;
  requestCostPerDayUsd: number;
  notModifiedShare: number;
  phonesInSync: number;
  realEdgeRequests: number;
  seconds: number;
  peakRssMb: number;
}

function rowOf(config: FleetConfig, counters: FleetCounters, seconds: number): FleetRow {
  const bytesPerDay = counters.bytesToPhones / config.days;
  const requestsPerDay = counters.clientRequests / config.days;
  return {
    phones: config.phones,
    pops: config.pops,
    days: config.days,
    clientRequests: counters.clientRequests,
    edgeShare: 1 - counters.originRequests / counters.clientRequests,
    originRequests: counters.originRequests,
    originRequestsPerDay: counters.originRequests / config.days,
    originRequestsByDay: counters.originRequestsByDay,
    bytesPerPhonePerDay: bytesPerDay / config.phones,
    egressGbPerDay: bytesPerDay / 1e9,
    egressCostPerDayUsd: (bytesPerDay / 1e9) * PRICE_PER_GB,
    requestCostPerDayUsd: (requestsPerDay / 1e4) * PRICE_PER_10K_REQUESTS,
    notModifiedShare: counters.notModified / counters.indexRequests,
    phonesInSync: counters.phonesInSync,
    realEdgeRequests: counters.realEdgeRequests,
    seconds,
    peakRssMb: counters.peakRssBytes / 2 ** 20,
  };
}

function printTable(rows: FleetRow[], wire: WireBytes): void {
  const header = '| phones | POPs | days | client requests | edgeShare | origin req/day | bytes/phone/day | egress GB/day | egress $/day | requests $/day | real edge requests | seconds | peak RSS MB |';
  process.stdout.write(`\n${header}\n|${header.replace(/[^|]/g, '-').slice(1)}\n`);
  for (const r of rows) {
    process.stdout.write(`| ${r.phones} | ${r.pops} | ${r.days} | ${r.clientRequests} | ${r.edgeShare.toFixed(6)} | ${r.originRequestsPerDay.toFixed(1)} | ${r.bytesPerPhonePerDay.toFixed(0)} | ${r.egressGbPerDay.toFixed(2)} | ${r.egressCostPerDayUsd.toFixed(2)} | ${r.requestCostPerDayUsd.toFixed(2)} | ${r.realEdgeRequests} | ${r.seconds.toFixed(1)} | ${r.peakRssMb.toFixed(0)} |\n`);
  }
  process.stdout.write(`\nidle poll (304 of an unchanged index, headers counted): ${wire.idlePollBytes} bytes (the request: ${wire.idlePollRequestBytes} bytes) — goal < 1024\n`);
  if (rows.length === 2) {
    const [a, b] = rows;
    process.stdout.write(`origin requests per day: ${a.originRequestsPerDay.toFixed(1)} at ${a.phones} phones, ${b.originRequestsPerDay.toFixed(1)} at ${b.phones} phones (ratio ${(a.originRequestsPerDay / b.originRequestsPerDay).toFixed(3)})\n`);
  }
}

async function simulationMode(flags: ReturnType<typeof readFlags>): Promise<void> {
  const phones = count(flags.phones, '--phones', 1_000_000);
  const pops = count(flags.pops, '--pops', 20, { max: 255 });
  const days = count(flags.days, '--days', 3, { max: 14 });
  if (!Number.isInteger(days) || !Number.isInteger(phones) || !Number.isInteger(pops)) throw new UsageError('--phones, --pops and --days must be whole numbers');
  const compare = flags.compare === undefined ? undefined : count(flags.compare, '--compare', 100_000);
  const pollHours = count(flags['poll-hours'], '--poll-hours', 4, { min: 0.25, max: 48 });
  const jitter = count(flags.jitter, '--jitter', 0.25, { min: 0, max: 0.9 });
  const tickSeconds = count(flags['tick-seconds'], '--tick-seconds', 60, { max: 3600 });
  const keysPerFile = count(flags['keys-per-file'], '--keys-per-file', 1000, { max: 750_000 });
  const seed = count(flags.seed, '--seed', 1, { min: 0, max: 2 ** 31 });

  process.stderr.write(`building real export files of ${keysPerFile} keys and measuring header bytes on the local edge...\n`);
  const { sizes, sample } = await realFileSizes(keysPerFile);
  const samplePath = '/v1/440/1796515200-1796518800-00001.zip';
  const wire = await measureOnLocalEdge(Array.from({ length: 336 }, () => samplePath.slice(1)).join('\n'), samplePath, sample);
  const base: Omit<FleetConfig, 'phones'> = {
    pops, days, pollIntervalSeconds: pollHours * 3600, pollJitter: jitter, firstPolls: 'random', tickSeconds,
    windowSeconds: 3600, scheduleSeconds: 900, marginSeconds: 300, retentionDays: 14,
    fileSizes: sizes, headerBytes: { notModified: wire.idlePollBytes, index: wire.indexHeaderBytes, file: wire.fileHeaderBytes }, region: '440', seed,
  };
  const rows: FleetRow[] = [];
  for (const size of [phones, ...(compare === undefined ? [] : [compare])]) {
    const bar = progressBar(`${size} phones, simulated hours`);
    const config: FleetConfig = { ...base, phones: size, onHour: (hour, total) => (hour === 0 ? bar?.start(total, 0) : bar?.update(hour)) };
    const started = performance.now();
    const counters = await simulateFleet(config);
    bar?.stop();
    rows.push(rowOf(config, counters, (performance.now() - started) / 1000));
  }
  printTable(rows, wire);
  const file = flags.json ?? path.join('bench-results', 'fleet.json');
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const [main] = rows;
  const result = {
    mode: 'simulation',
    phones: main.phones, pops: main.pops, days: main.days,
    edgeShare: main.edgeShare, originRequests: main.originRequests, originRequestsPerDay: main.originRequestsPerDay, bytesPerPhonePerDay: main.bytesPerPhonePerDay,
    idlePollBytes: wire.idlePollBytes,
    egress: { gbPerDay: main.egressGbPerDay, costPerDayUsd: main.egressCostPerDayUsd, requestCostPerDayUsd: main.requestCostPerDayUsd, pricePerGbUsd: PRICE_PER_GB, pricePer10kRequestsUsd: PRICE_PER_10K_REQUESTS, priceSource: 'README.md, "The phone": Azure Front Door pricing' },
    peakRssMb: Math.max(...rows.map((row) => row.peakRssMb)),
    settings: { pollHours, jitter, tickSeconds, keysPerFile, fileSizes: sizes, seed, windowSeconds: 3600, scheduleSeconds: 900, marginSeconds: 300 },
    wire,
    runs: rows,
  };
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
}

async function httpMode(flags: ReturnType<typeof readFlags>): Promise<void> {
  const phones = count(flags.phones, '--phones', 2000, { max: 20_000 });
  const concurrency = count(flags.concurrency, '--concurrency', 32, { max: 512 });
  const region = flags.region ?? '440';
  let baseUrl = flags.base;
  let adminUrl: string | undefined;
  const dataDir = loadLocalStackConfig(process.env).dataDir;
  if (baseUrl === undefined) {
    const stack = JSON.parse(await readFile(path.join(dataDir, 'stack.json'), 'utf8').catch(() => {
      throw new UsageError(`no running local stack (${path.join(dataDir, 'stack.json')} is missing): start one with npm start, or give --base`);
    })) as { edgeUrl?: string; edgeAdminUrl?: string };
    if (!stack.edgeUrl) throw new UsageError('stack.json names no edgeUrl');
    baseUrl = stack.edgeUrl;
    adminUrl = stack.edgeAdminUrl;
  }
  const keyFile = flags['public-key'] ?? path.join(dataDir, 'signing-public.pem');
  const publicKeyPem = await readFile(keyFile, 'utf8').catch(() => {
    throw new UsageError(`cannot read the public key ${keyFile}: give --public-key`);
  });
  const bar = progressBar('phone syncs');
  bar?.start(2 * phones, 0);
  const report = await runHttpFleet({ baseUrl, ...(adminUrl ? { adminUrl } : {}), region, publicKeyPem, phones, concurrency, onProgress: (done) => bar?.update(done) });
  bar?.stop();
  const header = '| phones | files in index | phones in sync | files verified | syncs | 304s | failures | edge requests | origin requests | edgeShare | idle poll bytes | seconds |';
  process.stdout.write(`\n${header}\n|${header.replace(/[^|]/g, '-').slice(1)}\n`);
  process.stdout.write(`| ${report.phones} | ${report.indexFiles} | ${report.phonesInSync} | ${report.filesVerified} | ${report.syncs} | ${report.notModified} | ${JSON.stringify(report.failures)} | ${report.edge?.requests ?? '-'} | ${report.edge?.originRequests ?? '-'} | ${report.edge ? report.edge.edgeShare.toFixed(5) : '-'} | ${report.wire?.idlePollBytes ?? '-'} | ${report.seconds.toFixed(1)} |\n`);
  const file = flags.json ?? path.join('bench-results', 'fleet-http.json');
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, `${JSON.stringify({ mode: 'http', baseUrl, region, ...report, idlePollBytes: report.wire?.idlePollBytes }, null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
  if (report.phonesInSync !== report.phones || Object.keys(report.failures).length > 0) {
    process.stderr.write(`bench:fleet --http: ${report.phones - report.phonesInSync} phone(s) not in sync with the index\n`);
    process.exitCode = 1;
  }
}

async function main(): Promise<void> {
  const flags = readFlags(process.argv.slice(2));
  if (flags.help) {
    process.stdout.write(`${(/\/\*\*([\s\S]*?)\*\//.exec(await readFile(__filename, 'utf8'))?.[1] ?? '').replace(/^ \* ?/gm, '').trim()}\n`);
    return;
  }
  await (flags.http ? httpMode(flags) : simulationMode(flags));
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:fleet: ${(error as Error).message}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
