/**
 * `npm run bench:soak -- --minutes M [--json FILE] [--plot FILE]`: keyfront under sustained load.
 *
 * The services of `npm start` (Cosmos emulator, API, publisher with Azurite, local edge), each in
 * a process of its own, for M minutes: phones upload confirmed cases through the edge at a steady
 * rate (register, certificate, upload, each phone from a loopback address of its own), client
 * `Phone`s sync the index and verify every new file, sending chaff at a rate, and the publisher
 * publishes and purges as it goes. Then uploads stop, the publisher publishes the last window,
 * every phone syncs once more, and storage is audited against every key the API accepted.
 *
 * It prints a table and writes JSON (default bench-results/soak.json) and an SVG plot of RSS and
 * latency over time (default bench-results/soak.svg): `errors` (answers that are neither a success
 * nor an expected 304, and requests that got no answer), `lostKeys` (accepted, never published),
 * `duplicateKeys`, each process's RSS at start, after the warm-up, at the end and its growth after
 * the warm-up, open handles after the warm-up and at the end, p50/p99 per route, publisher runs.
 * A benchmark, never part of `npm test`: Linux only (RSS is read from /proc).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { fetch as undiciFetch, type Agent } from 'undici';
import { AzureBlobWriter } from '../../publisher/blob/azure-blob-writer';
import { auditPublished } from '../drills/local/audit';
import { PhoneFleet } from '../drills/local/fleet';
import { phoneAgent, UploadLoad } from '../drills/local/upload-load';
import { readDevMaterial } from '../local-stack/dev-material';
import { CosmosProber, type CosmosProbe } from './soak/cosmos-probe';
import { rssFigures, rssOf, type RssFigures, type RssSample } from './soak/memory';
import { svgDocument, type Series } from './soak/plot';
import { quantile, RouteRecorder, type RouteFigures, type RouteName } from './soak/routes';
import { handleCounts } from './soak/handles';
import type { ServiceSample } from './soak/service-process';
import { startSoakStack, type PublisherRunLine, type SoakStack } from './soak/stack';

class UsageError extends Error {}

interface SoakOptions {
  minutes: number;
  json: string;
  plot: string;
  uploadsPerMinute: number;
  phones: number;
  syncSeconds: number;
  chaffRate: number;
  publishSeconds: number;
  sampleSeconds: number;
  warmUpMinutes: number;
  windowMarginSeconds: number;
}

const USAGE = `usage: npm run bench:soak -- --minutes M [--json FILE] [--plot FILE] [--uploads-per-minute N] [--phones N] [--sync-seconds S] [--chaff-rate R] [--publish-seconds S] [--sample-seconds S] [--warm-up-minutes W] [--window-margin-seconds S]`;

function number(value: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n < min || n > max) throw new UsageError(`${flag} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

function readOptions(argv: string[]): SoakOptions {
  let values;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        minutes: { type: 'string' }, json: { type: 'string' }, plot: { type: 'string' }, 'uploads-per-minute': { type: 'string' }, phones: { type: 'string' }, 'sync-seconds': { type: 'string' },
        'chaff-rate': { type: 'string' }, 'publish-seconds': { type: 'string' }, 'sample-seconds': { type: 'string' }, 'warm-up-minutes': { type: 'string' }, 'window-margin-seconds': { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const minutes = number(values.minutes, '--minutes', 30, 0.2, 24 * 60);
  return {
    minutes,
    json: values.json ?? path.join('bench-results', 'soak.json'),
    plot: values.plot ?? path.join('bench-results', 'soak.svg'),
    uploadsPerMinute: number(values['uploads-per-minute'], '--uploads-per-minute', 10, 1, 600),
    phones: number(values.phones, '--phones', 100, 1, 2000),
    syncSeconds: number(values['sync-seconds'], '--sync-seconds', 30, 1, 3600),
    chaffRate: number(values['chaff-rate'], '--chaff-rate', 0.1, 0, 1),
    publishSeconds: number(values['publish-seconds'], '--publish-seconds', 30, 5, 600),
    sampleSeconds: number(values['sample-seconds'], '--sample-seconds', 10, 1, 300),
    warmUpMinutes: number(values['warm-up-minutes'], '--warm-up-minutes', Math.min(5, minutes / 5), 0, minutes),
    windowMarginSeconds: number(values['window-margin-seconds'], '--window-margin-seconds', 15, 0, 600),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MIB = 1024 * 1024;

/** The processes whose memory is sampled: the four services, Azurite, and this one (the phones). */
type ProcessName = 'api' | 'publisher' | 'edge' | 'cosmos' | 'azurite' | 'load';
/** keyfront's own services, held to the growth goal; the emulators hold the data they are sent. */
const OWN: readonly ProcessName[] = ['api', 'publisher', 'edge'];

interface HandleSnapshot {
  total: number;
  byKind: Record<string, number>;
}

function snapshot(byKind: Record<string, number>): HandleSnapshot {
  return { total: Object.values(byKind).reduce((sum, n) => sum + n, 0), byKind };
}

async function sampleServices(stack: SoakStack): Promise<Map<string, ServiceSample>> {
  const samples = new Map<string, ServiceSample>();
  for (const service of stack.services) samples.set(service.name, await service.sample());
  return samples;
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  if (process.platform !== 'linux') throw new UsageError('bench:soak reads process memory from /proc: Linux only');
  const startedAt = performance.now();
  const since = () => (performance.now() - startedAt) / 1000;
  const loadAverageAtStart = loadavg();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'keyfront-soak-'));
  const log = (text: string) => process.stderr.write(`[${since().toFixed(0).padStart(5)} s] ${text}\n`);
  log(`starting the stack (each service in its own process; data in ${dataDir})`);
  // `npm start`'s settings; the window margin (by default npm start's 15 s) must stay beyond the API's
  // store deadline (5 s): an upload stored at the end of it must still find its window open.
  const settings = { KEYFRONT_WINDOW_SAFETY_MARGIN_SECONDS: String(options.windowMarginSeconds) };
  const stack = await startSoakStack({ dataDir, publishIntervalInMs: options.publishSeconds * 1000, startedAt, settings });
  const agents: Agent[] = [];
  const probers: CosmosProber[] = [];
  try {
    const edgeUrl = String(stack.stack.edgeUrl);
    const region = String(stack.stack.region);
    const material = await readDevMaterial(dataDir);
    const publicKeyPem = await readFile(path.join(dataDir, 'signing-public.pem'), 'utf8');
    const exports = AzureBlobWriter.fromConnectionString(String(stack.stack.blobConnectionString), 'exports');
    const recorder = new RouteRecorder(startedAt);
    const prober = new CosmosProber(String(stack.stack.cosmosEndpoint));
    probers.push(prober);
    const uploads = new UploadLoad({ baseUrl: edgeUrl, material, concurrency: 1, pauseInMs: 0, wrapFetch: (fetch) => recorder.wrap(fetch) });
    const fleet = new PhoneFleet({
      baseUrl: edgeUrl,
      region,
      publicKeyPem,
      phones: options.phones,
      syncIntervalInMs: options.syncSeconds * 1000,
      chaffRate: options.chaffRate,
      // Each phone from its own loopback address, as the edge's per-client limits see phones.
      fetchFor: (i) => {
        const agent = phoneAgent(`127.1.${Math.floor(i / 250)}.${1 + (i % 250)}`);
        agents.push(agent);
        return recorder.wrap(async (input, init) => (await undiciFetch(input, { ...(init as object), dispatcher: agent })) as unknown as Response);
      },
    });

    const rss = new Map<ProcessName, RssSample[]>();
    // Beside RSS, V8's heap and the memory outside it (Buffers, zlib, TLS): which of them grows, if RSS does.
    const heap = new Map<ProcessName, Array<{ at: number; heapUsed: number; external: number }>>();
    const record = (name: ProcessName, bytes: number | undefined, js?: { heapUsed: number; external: number }) => {
      if (bytes === undefined) return;
      const at = since();
      if (!rss.has(name)) rss.set(name, []);
      rss.get(name)!.push({ at, bytes });
      if (js === undefined) return;
      if (!heap.has(name)) heap.set(name, []);
      heap.get(name)!.push({ at, ...js });
    };
    const handles = new Map<string, { afterWarmUp?: HandleSnapshot; end?: HandleSnapshot }>();
    const sampleAll = async (handleMoment?: 'afterWarmUp' | 'end') => {
      const samples = await sampleServices(stack);
      for (const [name, sample] of samples) {
        record(name as ProcessName, rssOf(stack.services.find((s) => s.name === name)!.pid) ?? sample.rss, sample);
        if (handleMoment) handles.set(name, { ...handles.get(name), [handleMoment]: snapshot(sample.handles) });
      }
      const azurite = stack.azuritePid();
      if (azurite !== undefined) record('azurite', rssOf(azurite));
      const own = process.memoryUsage();
      record('load', own.rss, own);
      if (handleMoment) handles.set('load', { ...handles.get('load'), [handleMoment]: snapshot(handleCounts()) });
    };

    await sampleAll();
    await prober.probe(since());
    log(`load: ${options.uploadsPerMinute} uploads/min, ${options.phones} phones syncing every ~${options.syncSeconds} s (chaff rate ${options.chaffRate}), publisher every ${options.publishSeconds} s, for ${options.minutes} min (warm-up ${options.warmUpMinutes} min)`);
    const loadStartedAt = since();
    const loadEndsAt = loadStartedAt + options.minutes * 60;
    const warmUpEndsAt = loadStartedAt + options.warmUpMinutes * 60;
    fleet.start();
    // Uploads at a steady rate: one starts every interval, whatever the previous ones are doing.
    const inFlight = new Set<Promise<unknown>>();
    let uploadsStarted = 0;
    const uploadEvery = 60_000 / options.uploadsPerMinute;
    const uploading = (async () => {
      while (since() < loadEndsAt) {
        const next = startedAt + loadStartedAt * 1000 + (uploadsStarted + 1) * uploadEvery;
        const upload = uploads.uploadOne().finally(() => inFlight.delete(upload));
        inFlight.add(upload);
        uploadsStarted++;
        await sleep(Math.max(0, next - performance.now()));
      }
      await Promise.all(inFlight);
    })();
    let warmUpSampled = false;
    let nextReport = loadStartedAt + 60;
    while (since() < loadEndsAt) {
      await sleep(options.sampleSeconds * 1000);
      const atWarmUp: boolean = !warmUpSampled && since() >= warmUpEndsAt;
      await sampleAll(atWarmUp ? 'afterWarmUp' : undefined);
      warmUpSampled ||= atWarmUp;
      if (since() >= nextReport) {
        nextReport += 60;
        await prober.probe(since());
        const accepted = uploads.events.filter((e) => e.ok).length;
        const last = (name: ProcessName) => ((rss.get(name)?.at(-1)?.bytes ?? 0) / MIB).toFixed(0);
        log(`minute ${Math.round((since() - loadStartedAt) / 60)}/${options.minutes}: ${accepted} uploads accepted, ${fleet.events.length} syncs, ${recorder.errorCount} errors, publisher runs ${stack.publisherRuns.length}; RSS MiB api ${last('api')} publisher ${last('publisher')} edge ${last('edge')} cosmos ${last('cosmos')} azurite ${last('azurite')}`);
      }
    }
    await uploading;
    await fleet.stop();
    await sampleAll('end');
    const loadEndedAt = since();

    log('uploads stopped: the publisher publishes the last window, then every phone syncs once more');
    const accepted = uploads.events.filter((event) => event.ok);
    const acceptedKeys = new Set(accepted.flatMap((event) => event.keys));
    const drainUntil = since() + 60 + 15 + 2 * options.publishSeconds + 60;
    let audit = await auditPublished(exports, region, acceptedKeys);
    while (audit.missingKeys.length > 0 && since() < drainUntil) {
      await sleep(5000);
      audit = await auditPublished(exports, region, acceptedKeys);
    }
    const indexNames = new Set((await exports.read(`v1/${region}/index.txt`))?.data.toString('utf8').split('\n').filter((line) => line !== '') ?? []);
    const syncsBefore = fleet.events.length;
    await fleet.syncAll();
    const finalSyncsFailed = fleet.events.slice(syncsBefore).filter((event) => !event.ok).length;
    const phonesBehind = Array.from({ length: fleet.size }, (_, i) => fleet.filesOf(i)).filter((files) => [...indexNames].some((name) => !files.includes(name))).length;
    const edgeMetrics = await fetch(`${String(stack.stack.edgeAdminUrl)}/metrics`).then((response) => response.json() as Promise<unknown>);

    // Figures.
    const windowSeconds = Math.max(3 * options.sampleSeconds, Math.min(120, (options.minutes * 60) / 10));
    const rssResult = Object.fromEntries([...rss].map(([name, samples]) => [name, rssFigures(samples, warmUpEndsAt, loadEndedAt, windowSeconds)])) as Record<ProcessName, RssFigures | undefined>;
    const runs = stack.publisherRuns;
    const runDurations = runs.map((run) => run.durationInMs).sort((a, b) => a - b);
    const result = {
      benchmark: 'soak',
      startedAt: new Date(Date.now() - since() * 1000).toISOString(),
      settings: options,
      machine: { cpus: cpus().length, node: process.version, loadAverageAtStart: loadAverageAtStart.map((n) => Math.round(n * 100) / 100), loadAverageAtEnd: loadavg().map((n) => Math.round(n * 100) / 100) },
      loadSeconds: Math.round(loadEndedAt - loadStartedAt),
      errors: recorder.errorCount,
      errorsByKind: recorder.errorsByKind,
      firstErrors: recorder.errors.slice(0, 20),
      lostKeys: audit.missingKeys.length,
      duplicateKeys: audit.duplicateKeys,
      danglingIndexEntries: audit.danglingIndexEntries.length,
      uploadsAccepted: accepted.length,
      uploadsFailed: uploads.events.length - accepted.length,
      keysAccepted: acceptedKeys.size,
      keysPublished: audit.keysPublished,
      filesInIndex: audit.indexEntries,
      syncs: fleet.events.length,
      syncsFailed: fleet.events.filter((event) => !event.ok).length,
      finalSyncsFailed,
      phonesBehind,
      publisher: {
        runs: runs.length,
        failedRuns: runs.filter((run) => run.failed).length,
        filesWritten: runs.reduce((sum, run) => sum + run.files, 0),
        purges: runs.filter((run) => run.purged === true).length,
        purgesFailed: runs.filter((run) => run.purged === false).length,
        p50Ms: quantile(runDurations, 0.5),
        p99Ms: quantile(runDurations, 0.99),
      },
      logs: Object.fromEntries(stack.services.map((service) => [service.name, { levels: service.logLevels, firstErrors: service.errorMessages, firstWarnings: service.warnMessages }])),
      publisherRuns: runs.map((run) => ({ ...run, at: Math.round(run.at) })),
      cosmosProbes: prober.probes,
      rss: rssResult,
      rssGoal: Object.fromEntries(OWN.map((name) => [name, (rssResult[name]?.growthAfterWarmUpPercent ?? Infinity) < 10])),
      handles: Object.fromEntries(handles),
      latency: recorder.figures(),
      latencyAfterWarmUp: recorder.figures(warmUpEndsAt),
      edgeMetrics,
      series: {
        rssMiB: Object.fromEntries([...rss].map(([name, samples]) => [name, samples.map((s) => [Math.round(s.at), Math.round((s.bytes / MIB) * 10) / 10])])),
        heapUsedMiB: Object.fromEntries([...heap].map(([name, samples]) => [name, samples.map((s) => [Math.round(s.at), Math.round((s.heapUsed / MIB) * 10) / 10])])),
        externalMiB: Object.fromEntries([...heap].map(([name, samples]) => [name, samples.map((s) => [Math.round(s.at), Math.round((s.external / MIB) * 10) / 10])])),
        latencyPerMinute: recorder.series(60),
      },
    };

    await mkdir(path.dirname(path.resolve(options.json)), { recursive: true });
    await writeFile(options.json, `${JSON.stringify(result, null, 2)}\n`);
    await mkdir(path.dirname(path.resolve(options.plot)), { recursive: true });
    await writeFile(options.plot, plotOf(result.series.rssMiB, result.series.latencyPerMinute, runs, prober.probes, { loadStartedAt, warmUpEndsAt, loadEndedAt, endedAt: since() }, `keyfront soak: ${options.minutes} min, ${options.uploadsPerMinute} uploads/min, ${options.phones} phones every ~${options.syncSeconds} s, ${cpus().length} cores (load average ${result.machine.loadAverageAtStart[0]} at start)`));
    printTable(result);
    process.stdout.write(`\nwrote ${options.json} and ${options.plot}\n`);
  } finally {
    await Promise.all(agents.map((agent) => agent.close().catch(() => undefined)));
    for (const prober of probers) prober.close();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The plot: RSS per process, p99 per route, publisher runs and the emulator's probes over the minutes of the load (one time line). */
function plotOf(
  rssMiB: Record<string, Array<number[]>>,
  latency: Partial<Record<RouteName, Array<{ at: number; p50Ms: number; p99Ms: number }>>>,
  runs: readonly PublisherRunLine[],
  probes: readonly CosmosProbe[],
  times: { loadStartedAt: number; warmUpEndsAt: number; loadEndedAt: number; endedAt: number },
  title: string,
): string {
  const minutes = (seconds: number) => (seconds - times.loadStartedAt) / 60;
  const rssSeries: Series[] = Object.entries(rssMiB).map(([name, points]) => ({ name, points: points.map(([at, mib]) => [minutes(at), mib] as const) }));
  const latencySeries: Series[] = Object.entries(latency).map(([route, points]) => ({ name: `${route} p99`, points: points!.map((p) => [minutes(p.at), p.p99Ms] as const) }));
  const markers = [
    { x: minutes(times.warmUpEndsAt), label: 'end of warm-up' },
    { x: minutes(times.loadEndedAt), label: 'uploads stop' },
  ];
  const xRange = [Math.min(0, ...rssSeries.flatMap((series) => series.points.map(([x]) => x))), minutes(times.endedAt)] as const;
  return svgDocument(title, [
    { title: 'RSS per process (MiB)', xLabel: 'minutes of load', yLabel: 'MiB', series: rssSeries, markers, xRange },
    { title: 'p99 latency per route, per minute (ms, log scale; to the answer, through the edge)', xLabel: 'minutes of load', yLabel: 'ms', series: latencySeries, logY: true, markers, xRange },
    {
      title: 'publisher runs, and the Cosmos emulator probed once a minute (ms, log scale)',
      xLabel: 'minutes of load',
      yLabel: 'ms',
      logY: true,
      markers,
      xRange,
      series: [
        { name: 'publisher run (duration)', points: runs.map((run) => [minutes(run.at), run.durationInMs] as const) },
        { name: 'emulator: count query', points: probes.filter((p) => p.queryMs >= 0).map((p) => [minutes(p.at), p.queryMs] as const), dashed: true },
        { name: 'emulator: point read', points: probes.filter((p) => p.pointReadMs >= 0).map((p) => [minutes(p.at), p.pointReadMs] as const), dashed: true },
      ],
    },
  ]);
}

function printTable(result: {
  errors: number;
  lostKeys: number;
  duplicateKeys: number;
  danglingIndexEntries: number;
  uploadsAccepted: number;
  keysAccepted: number;
  syncs: number;
  phonesBehind: number;
  publisher: { runs: number; failedRuns: number; purges: number; p50Ms: number | null; p99Ms: number | null };
  rss: Partial<Record<ProcessName, RssFigures | undefined>>;
  handles: Record<string, { afterWarmUp?: HandleSnapshot; end?: HandleSnapshot }>;
  latencyAfterWarmUp: Partial<Record<RouteName, RouteFigures>>;
  logs: Record<string, { levels: Record<string, number> }>;
}): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out('');
  out(`errors ${result.errors} | lostKeys ${result.lostKeys} | duplicateKeys ${result.duplicateKeys} | dangling index entries ${result.danglingIndexEntries} | uploads accepted ${result.uploadsAccepted} (${result.keysAccepted} keys) | syncs ${result.syncs} | phones behind at the end ${result.phonesBehind}`);
  out(`publisher: ${result.publisher.runs} runs, ${result.publisher.failedRuns} failed, ${result.publisher.purges} purges, run p50 ${result.publisher.p50Ms} ms, p99 ${result.publisher.p99Ms} ms`);
  out('');
  out('| process | RSS start MiB | after warm-up | end | peak | growth after warm-up | handles after warm-up | at end | error log lines |');
  out('|---|---|---|---|---|---|---|---|---|');
  for (const name of ['api', 'publisher', 'edge', 'cosmos', 'azurite', 'load'] as const) {
    const r = result.rss[name];
    if (!r) continue;
    const h = result.handles[name];
    const errorLines = (result.logs[name]?.levels.error ?? 0) + (result.logs[name]?.levels.stderr ?? 0);
    out(`| ${name}${OWN.includes(name) ? '' : name === 'load' ? ' (the phones)' : ' (stand-in)'} | ${r.startMiB} | ${r.afterWarmUpMiB} | ${r.endMiB} | ${r.peakMiB} | ${r.growthAfterWarmUpPercent}% | ${h?.afterWarmUp?.total ?? '-'} | ${h?.end?.total ?? '-'} | ${name === 'load' || name === 'azurite' ? '-' : errorLines} |`);
  }
  out('');
  out('| route (after warm-up) | requests | errors | p50 ms | p99 ms | max ms |');
  out('|---|---|---|---|---|---|');
  for (const [route, f] of Object.entries(result.latencyAfterWarmUp)) out(`| ${route} | ${f!.requests} | ${f!.errors} | ${f!.p50Ms} | ${f!.p99Ms} | ${f!.maxMs} |`);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`bench:soak: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench:soak failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
