/**
 * `npm run bench:fleet`: a million phones through Front Door's shape, against the real publisher.
 *
 *   npm run bench:fleet -- --phones 1000000 --pops 190 --days 3 --new-installs 0.02 --uploads-per-day 1000 [--json FILE]
 *   npm run bench:fleet -- --http --phones 2000 [--base URL] [--public-key FILE] [--region R]
 *
 * Simulation mode (scripts/bench/fleet/simulate.ts): the publisher with its production settings
 * (KEYFRONT_PRIVACY_FLOOR, KEYFRONT_MAX_HOLD_SECONDS, KEYFRONT_WINDOW_SECONDS, KEYFRONT_PUBLISH_SCHEDULE,
 * ... from the environment; --privacy-floor sets the first) publishes --uploads-per-day real uploads
 * of about 10 keys; --pops edge sites of --nodes-per-site cache nodes each, built from the production
 * edge declaration (edge-config/keyfront.ts) with the local edge's cache code, serve the phones; the
 * phones run the client library's sync. Figures are for --days after --warm-up-hours of phones
 * (the publisher runs alone for the file retention before them). Header bytes and the idle poll are
 * measured on the real local edge in front of Azurite.
 *
 * Options (simulation): --phones N, --pops N, --nodes-per-site N, --site-skew S (Zipf exponent of
 * the load per site), --days N, --warm-up-hours H, --new-installs FRACTION (per day), --offline
 * FRACTION (phones going offline per day, each for 1..--offline-days days), --wrong-clocks FRACTION
 * (clocks off by minutes to a day), --uploads-per-day N, --poll-hours H, --jitter FRACTION,
 * --tick-seconds S, --purge-delay-minutes M (a purge reaches each site within 0..M), --purge-failures
 * FRACTION (of purge requests), --purge-outage-minutes M (a daily outage of the purge API),
 * --origin-latency-ms MS (median), --origin-errors FRACTION (503s), --privacy-floor pad|hold, --seed N.
 *
 * HTTP mode: --phones client-library phones sync through a running local stack (npm start).
 */
import { SingleBar } from 'cli-progress';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadAzureEdgeConfig } from '../../edge-config/config';
import { keyfrontEdge } from '../../edge-config/keyfront';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import { buildExport } from '../../proto/codec';
import { realisticKeys } from '../../proto/test-keys';
import { LocalSigner } from '../../publisher/signers/local';
import { loadLocalStackConfig } from '../local-stack/config';
import { runHttpFleet } from './fleet/http-fleet';
import { simulateFleet, type FleetConfig, type FleetResult } from './fleet/simulate';
import { simulatedPublisherConfig } from './fleet/sim-publisher';
import { measureOnLocalEdge, type WireBytes } from './fleet/wire-bytes';

/**
 * Azure Front Door Standard/Premium, North America and Europe zone, first 10 TB: data transfer
 * from the edge to clients per GB, and Standard's request price per 10,000 (README "The phone").
 */
const PRICE_PER_GB = 0.083;
const PRICE_PER_10K_REQUESTS = 0.009;
/** Bytes of an error answer's status line and headers (a 503 the edge passes on); its body is counted as sent. */
const ERROR_HEADER_BYTES = 400;

class UsageError extends Error {}

function count(value: string | undefined, flag: string, fallback: number, { min = 1, max = 10_000_000 } = {}): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

const SIMULATION_FLAGS = [
  'phones', 'pops', 'nodes-per-site', 'site-skew', 'days', 'warm-up-hours', 'new-installs', 'offline', 'offline-days', 'wrong-clocks', 'uploads-per-day', 'poll-hours', 'jitter', 'tick-seconds',
  'purge-delay-minutes', 'purge-failures', 'purge-outage-minutes', 'origin-latency-ms', 'origin-errors', 'privacy-floor', 'seed', 'json',
] as const;

function readFlags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      options: {
        ...Object.fromEntries(SIMULATION_FLAGS.map((flag) => [flag, { type: 'string' as const }])),
        http: { type: 'boolean' }, base: { type: 'string' }, 'public-key': { type: 'string' }, region: { type: 'string' }, concurrency: { type: 'string' }, help: { type: 'boolean' },
      },
    }).values as Partial<Record<(typeof SIMULATION_FLAGS)[number] | 'base' | 'public-key' | 'region' | 'concurrency', string>> & { http?: boolean; help?: boolean };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Zip bytes per key of a large real export (the format's cost of a key), and a 1,000-key file to measure header bytes with. */
async function formatBytes(): Promise<{ bytesPerKey: number; sample: Buffer }> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signer = new LocalSigner(privateKey, { keyId: '440', keyVersion: 'v1' });
  const start = Math.floor(Date.now() / 3_600_000) * 3600 - 7200;
  const large = await buildExport({ region: '440', startTimestamp: start, endTimestamp: start + 3600, keys: realisticKeys(100_000) }, signer);
  const sample = await buildExport({ region: '440', startTimestamp: start, endTimestamp: start + 3600, keys: realisticKeys(1000) }, signer);
  return { bytesPerKey: large.zip.length / 100_000, sample: sample.zip };
}

function progressBar(label: string): SingleBar | undefined {
  return process.stderr.isTTY ? new SingleBar({ format: `${label} {bar} {value}/{total}`, stream: process.stderr }) : undefined;
}

/** The benchmark's figures, per day over the measured days. */
export function fleetFigures(config: FleetConfig, result: FleetResult, seconds: number) {
  const c = result.counters;
  const perDay = (value: number) => value / config.days;
  const bytesPerPhonePerDay = perDay(c.bytesToPhones) / config.phones;
  const realKeyBytesPerPhonePerDay = perDay(c.realKeyBytes) / config.phones;
  const requestsPerPhonePerDay = perDay(c.clientRequests) / config.phones;
  const publisherConfig = simulatedPublisherConfig(config.publisherEnv);
  const p = result.publisher.counters;
  return {
    phones: config.phones,
    pops: config.sites,
    nodesPerSite: config.nodesPerSite,
    days: config.days,
    edgeShare: 1 - c.originRequests / c.clientRequests,
    originRequestsPerDay: perDay(c.originRequests),
    originRequestsByDay: c.originRequestsByDay,
    originIndexRequestsPerDay: perDay(c.originIndexRequests),
    originFileRequestsPerDay: perDay(c.originFileRequests),
    probeRequestsPerDay: Object.values(result.probesPerDay).reduce((sum, value) => sum + value, 0),
    probeRequestsPerDayByOriginGroup: result.probesPerDay,
    clientRequestsPerDay: perDay(c.clientRequests),
    collapsedRequestsPerDay: perDay(c.collapsedRequests),
    notModifiedShare: c.notModified / c.indexRequests,
    bytesPerPhonePerDay,
    realKeyBytesPerPhonePerDay,
    bytesRatio: bytesPerPhonePerDay / realKeyBytesPerPhonePerDay,
    filesPerDay: perDay(p.filesMeasured),
    realKeyShareOfFiles: p.realKeysMeasured / p.keysMeasured,
    publishDelayP95Hours: result.publishDelayP95Hours,
    keysNeverListed: result.keysNeverListed,
    syncsPerDay: perDay(c.syncs),
    failedSyncs: c.failedSyncs,
    failures: c.failures,
    installsPerDay: perDay(c.installs),
    offlinePerDay: perDay(c.offline),
    phonesInSync: c.phonesInSync,
    egressAt1MPhones: {
      gbPerDay: (bytesPerPhonePerDay * 1e6) / 1e9,
      costPerMonthUsd: ((bytesPerPhonePerDay * 1e6 * 30) / 1e9) * PRICE_PER_GB,
      requestCostPerMonthUsd: ((requestsPerPhonePerDay * 1e6 * 30) / 1e4) * PRICE_PER_10K_REQUESTS,
      pricePerGbUsd: PRICE_PER_GB,
      pricePer10kRequestsUsd: PRICE_PER_10K_REQUESTS,
      priceSource: 'README.md, "The fleet": Azure Front Door pricing',
    },
    publisher: {
      privacyFloor: publisherConfig.privacyFloor,
      maxHoldSeconds: publisherConfig.maxHoldSeconds,
      minKeysPerFile: publisherConfig.minKeysPerFile,
      paddingJitter: publisherConfig.paddingJitter,
      windowSeconds: publisherConfig.windowSeconds,
      schedule: publisherConfig.schedule,
      uploadsPerDay: config.uploadsPerDay,
      uploads: p.uploads,
      runs: p.runs,
      purgeRequests: p.purgeRequests,
      purgeFailures: p.purgeFailures,
    },
    simulation: { realSyncs: c.realSyncs, realEdgeRequests: c.realEdgeRequests, verify: result.verify, seconds, publisherWarmUpSeconds: result.publisherWarmUpSeconds, peakRssMb: c.peakRssBytes / 2 ** 20 },
  };
}

type Figures = ReturnType<typeof fleetFigures>;

function printTable(f: Figures, wire: WireBytes): void {
  const rows: [string, string][] = [
    ['phones / POPs x nodes', `${f.phones} / ${f.pops} x ${f.nodesPerSite}`],
    ['publisher', `${f.publisher.privacyFloor} (min ${f.publisher.minKeysPerFile} keys, hold up to ${f.publisher.maxHoldSeconds} s), ${f.publisher.uploadsPerDay} uploads/day`],
    ['edgeShare', f.edgeShare.toFixed(6)],
    ['client requests/day', f.clientRequestsPerDay.toFixed(0)],
    ['origin requests/day', `${f.originRequestsPerDay.toFixed(0)} (index ${f.originIndexRequestsPerDay.toFixed(0)}, files ${f.originFileRequestsPerDay.toFixed(0)})`],
    ['probe requests/day', f.probeRequestsPerDay.toFixed(0)],
    ['collapsed requests/day', f.collapsedRequestsPerDay.toFixed(1)],
    ['bytes/phone/day', f.bytesPerPhonePerDay.toFixed(0)],
    ['real key bytes/phone/day', f.realKeyBytesPerPhonePerDay.toFixed(0)],
    ['bytes / real key bytes', f.bytesRatio.toFixed(3)],
    ['files/day', f.filesPerDay.toFixed(2)],
    ['real keys in files', `${(100 * f.realKeyShareOfFiles).toFixed(1)}%`],
    ['publish delay p95 (h)', f.publishDelayP95Hours.toFixed(2)],
    ['failed syncs', `${f.failedSyncs} ${JSON.stringify(f.failures)}`],
    ['304 share of index polls', f.notModifiedShare.toFixed(3)],
    ['egress at 1M phones', `${f.egressAt1MPhones.gbPerDay.toFixed(1)} GB/day, $${f.egressAt1MPhones.costPerMonthUsd.toFixed(0)}/month (+ $${f.egressAt1MPhones.requestCostPerMonthUsd.toFixed(0)} requests)`],
    ['real syncs / edge requests', `${f.simulation.realSyncs} / ${f.simulation.realEdgeRequests}, file checks ${f.simulation.verify.real} real, ${f.simulation.verify.reused} reused (${f.simulation.verify.mismatches} of ${f.simulation.verify.rechecked} rechecked differ)`],
    ['seconds (publisher warm-up) / peak RSS MB', `${f.simulation.seconds.toFixed(0)} (${f.simulation.publisherWarmUpSeconds.toFixed(0)}) / ${f.simulation.peakRssMb.toFixed(0)}`],
  ];
  process.stdout.write(`\n| figure | value |\n|---|---|\n${rows.map(([name, value]) => `| ${name} | ${value} |`).join('\n')}\n`);
  process.stdout.write(`\nidle poll (304 of an unchanged index, headers counted): ${wire.idlePollBytes} bytes (the request: ${wire.idlePollRequestBytes} bytes) — goal < 1024\n`);
}

async function simulationMode(flags: ReturnType<typeof readFlags>): Promise<void> {
  const whole = (flag: string, value: number) => {
    if (!Number.isInteger(value)) throw new UsageError(`${flag} must be a whole number, got ${value}`);
    return value;
  };
  const phones = whole('--phones', count(flags.phones, '--phones', 1_000_000));
  const pops = whole('--pops', count(flags.pops, '--pops', 190, { max: 100_000 }));
  const nodesPerSite = whole('--nodes-per-site', count(flags['nodes-per-site'], '--nodes-per-site', 2, { max: 64 }));
  const days = whole('--days', count(flags.days, '--days', 3, { max: 14 }));
  const floor = flags['privacy-floor'];
  if (floor !== undefined && floor !== 'pad' && floor !== 'hold') throw new UsageError(`--privacy-floor must be pad or hold, got ${JSON.stringify(floor)}`);
  const publisherEnv = { ...process.env, ...(floor ? { KEYFRONT_PRIVACY_FLOOR: floor } : {}) };
  simulatedPublisherConfig(publisherEnv);
  const declaration = validateEdgeDeclaration(keyfrontEdge(loadAzureEdgeConfig(process.env).environment), 'azure');

  process.stderr.write('building real export files and measuring header bytes on the local edge...\n');
  const { bytesPerKey, sample } = await formatBytes();
  const samplePath = '/v1/440/1796515200-1796518800-00001.zip';
  const wire = await measureOnLocalEdge(Array.from({ length: 140 }, () => samplePath.slice(1)).join('\n'), samplePath, sample);
  const config: FleetConfig = {
    phones,
    sites: pops,
    nodesPerSite,
    siteSkew: count(flags['site-skew'], '--site-skew', 1, { min: 0, max: 3 }),
    days,
    warmUpHours: count(flags['warm-up-hours'], '--warm-up-hours', 24, { min: 0, max: 14 * 24 }),
    publisherWarmUpDays: simulatedPublisherConfig(publisherEnv).fileRetentionDays,
    tickSeconds: count(flags['tick-seconds'], '--tick-seconds', 60, { max: 3600 }),
    pollIntervalSeconds: count(flags['poll-hours'], '--poll-hours', 4, { min: 0.25, max: 48 }) * 3600,
    pollJitter: count(flags.jitter, '--jitter', 0.25, { min: 0, max: 0.9 }),
    newInstallsPerDay: count(flags['new-installs'], '--new-installs', 0.02, { min: 0, max: 1 }),
    offlinePerDay: count(flags.offline, '--offline', 0.01, { min: 0, max: 1 }),
    offlineDaysMax: whole('--offline-days', count(flags['offline-days'], '--offline-days', 14, { max: 30 })),
    wrongClocks: count(flags['wrong-clocks'], '--wrong-clocks', 0.01, { min: 0, max: 1 }),
    uploadsPerDay: count(flags['uploads-per-day'], '--uploads-per-day', 1000, { min: 0.1, max: 1_000_000 }),
    purge: {
      failureRate: count(flags['purge-failures'], '--purge-failures', 0.05, { min: 0, max: 1 }),
      outageMinutesPerDay: count(flags['purge-outage-minutes'], '--purge-outage-minutes', 60, { min: 0, max: 1440 }),
      delayInMs: { min: 0, max: count(flags['purge-delay-minutes'], '--purge-delay-minutes', 20, { min: 0, max: 240 }) * 60_000 },
    },
    originLatencyMs: count(flags['origin-latency-ms'], '--origin-latency-ms', 80, { min: 0, max: 60_000 }),
    originErrorRate: count(flags['origin-errors'], '--origin-errors', 0.001, { min: 0, max: 1 }),
    publisherEnv,
    declaration,
    headerBytes: { notModified: wire.idlePollBytes, index: wire.indexHeaderBytes, file: wire.fileHeaderBytes, error: ERROR_HEADER_BYTES },
    bytesPerKey,
    cacheMaxBytes: 256 * 1024 * 1024,
    seed: count(flags.seed, '--seed', 1, { min: 0, max: 2 ** 31 }),
  };
  const started = performance.now();
  const bar = progressBar('simulated hours');
  // Without a terminal (a log file), a line every 12 simulated hours.
  config.onProgress = (hour, total) => {
    if (bar) return hour === 0 ? bar.start(total, 0) : bar.update(hour);
    if (hour % 12 === 0) process.stderr.write(`simulated hour ${hour} of ${total}, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  };
  const result = await simulateFleet(config);
  bar?.stop();
  const figures = fleetFigures(config, result, (performance.now() - started) / 1000);
  printTable(figures, wire);
  const file = flags.json ?? path.join('bench-results', 'fleet.json');
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const settings = { ...config, declaration: undefined, publisherEnv: undefined, onProgress: undefined, headerBytes: config.headerBytes };
  await writeFile(file, `${JSON.stringify({ mode: 'simulation', ...figures, idlePollBytes: wire.idlePollBytes, wire, bytesPerKey, settings }, null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
  if (result.verify.mismatches > 0) {
    process.stderr.write(`bench:fleet: ${result.verify.mismatches} reused file checks disagreed with a real one: the verification memo's assumption does not hold for this client\n`);
    process.exitCode = 1;
  }
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
