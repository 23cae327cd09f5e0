/**
 * `npm run bench:publish`: the publisher end to end (store read, build, sign, zip, Blob write,
 * index) over 100,000 and 1,000,000 stored keys, with the in-memory store and with the Cosmos
 * DB emulator, always writing to Azurite through the Azure SDK. Each measured run is a child
 * process of its own, so that its peak RSS is its own. Reported: keys/s; how the time splits
 * between waiting for the store, waiting for Blob storage and our own code (ratios of the same
 * run); the publisher's working memory (peak RSS over the RSS before the run) against the size of
 * the largest file, to show that memory follows one file, not the number of keys stored.
 *
 * The Cosmos emulator (@vercel/cosmosdb-server) evaluates each query by scanning its documents,
 * so reads slow down with the number stored: the emulator runs get a time budget each, and a run
 * that does not finish within it is reported as such with the keys it read. Writes
 * bench-results/publish.json. `--quick`: small sizes only; `--only TEXT`: the scenarios whose name
 * contains TEXT.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CosmosClient, type JSONObject } from '@azure/cosmos';
import { silentLogger } from '../../platform/log';
import { CosmosExposureStore, ensureExposuresContainer } from '../../exposures/cosmos-store';
import { exposureId, publishAtOf, type Exposure, type ExposureStore, type ListOptions } from '../../exposures/exposure-store';
import { MemoryExposureStore } from '../../exposures/memory-store';
import { openExport } from '../../proto/codec';
import { realisticKeys } from '../../proto/test-keys';
import { INTERVALS_PER_DAY } from '../../proto/tek';
import { AzureBlobWriter } from '../../publisher/blob/azure-blob-writer';
import type { BlobWriter } from '../../publisher/blob/blob-writer';
import { LogOnlyPurger } from '../../publisher/purgers/log-only';
import type { PublisherDeps, PublisherSettings } from '../../publisher/publisher-deps';
import { publishExports } from '../../publisher/run';
import { prepareStorage } from '../../publisher/setup';
import { LocalSigner } from '../../publisher/signers/local';
import { startAzurite } from '../local-stack/azurite';
import { cosmosEmulatorClientOptions, startCosmosEmulator } from '../local-stack/cosmos-emulator';

/** The window every key of a run is published in: 2026-11-02 10:00-11:00 UTC. */
const WINDOW_START = Date.UTC(2026, 10, 2, 10) / 1000;
const WINDOW = 3600;
const WARM_UP_KEYS = 20_000;

interface Scenario {
  name: string;
  /** memory: MemoryExposureStore in the publisher's process; stream: keys generated page by page as a remote store would send them (nothing held); cosmos: the emulator. */
  store: 'memory' | 'stream' | 'cosmos';
  keys: number;
  maxKeysPerFile: number;
  runs: number;
  /** Cosmos: load and publish each get this long before the run is reported unfinished. */
  budgetInMs?: number;
  /** Caps V8's old space (a run that finishes under the cap held no more than that, whatever it read), and records the heap left after a full GC at every file written. */
  heapMiB?: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'memory 100k', store: 'memory', keys: 100_000, maxKeysPerFile: 100_000, runs: 3 },
  { name: 'memory 1M', store: 'memory', keys: 1_000_000, maxKeysPerFile: 100_000, runs: 1 },
  { name: 'memory 1M, 750k/file', store: 'memory', keys: 1_000_000, maxKeysPerFile: 750_000, runs: 1 },
  { name: 'stream 100k', store: 'stream', keys: 100_000, maxKeysPerFile: 100_000, runs: 3 },
  { name: 'stream 1M', store: 'stream', keys: 1_000_000, maxKeysPerFile: 100_000, runs: 1 },
  { name: 'stream 10M', store: 'stream', keys: 10_000_000, maxKeysPerFile: 100_000, runs: 1 },
  { name: 'stream 1M, 750k/file', store: 'stream', keys: 1_000_000, maxKeysPerFile: 750_000, runs: 1 },
  { name: 'stream 10M, heap capped 128 MiB', store: 'stream', keys: 10_000_000, maxKeysPerFile: 100_000, runs: 1, heapMiB: 128 },
  { name: 'cosmos 5k', store: 'cosmos', keys: 5_000, maxKeysPerFile: 100_000, runs: 3, budgetInMs: 60_000 },
  { name: 'cosmos 10k', store: 'cosmos', keys: 10_000, maxKeysPerFile: 100_000, runs: 3, budgetInMs: 60_000 },
  { name: 'cosmos 20k', store: 'cosmos', keys: 20_000, maxKeysPerFile: 100_000, runs: 1, budgetInMs: 60_000 },
  { name: 'cosmos 100k', store: 'cosmos', keys: 100_000, maxKeysPerFile: 100_000, runs: 1, budgetInMs: 60_000 },
  { name: 'cosmos 1M', store: 'cosmos', keys: 1_000_000, maxKeysPerFile: 100_000, runs: 1, budgetInMs: 60_000 },
];

interface ChildInput {
  scenario: Scenario;
  region: string;
  blobConnectionString: string;
  privateKeyPem: string;
  cosmos?: { endpoint: string; containerId: string };
}

interface RunResult {
  finished: boolean;
  keysRead: number;
  files: number;
  totalMs: number;
  storeMs: number;
  blobMs: number;
  oursMs: number;
  keysPerSecond: number;
  rssBeforeMiB: number;
  /** V8 heap in use after a full GC before the run: code, clients, the memory store's keys. */
  heapBeforeMiB: number;
  /** Capped runs: V8 heap in use after a full GC at each file written, first and last file and the largest. */
  retainedMiB?: { firstFile: number; lastFile: number; max: number };
  peakRssMiB: number;
  /** Peak of live memory (V8 heap in use plus buffers) during the run over its level before: what the publisher holds, whatever the store holds. */
  workingMiB: number;
  largestFileKeys: number;
  largestZipBytes: number;
  /** The largest file's own size in memory: its keys in columns (24 B each), its export.bin and its zip. */
  largestFileMiB: number;
  error?: string;
}

const MiB = 2 ** 20;
const execFileAsync = promisify(execFile);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Exposures of realistic keys, all published in the benchmark window. */
function* exposures(region: string, count: number, chunk = 10_000): Generator<Exposure[]> {
  const today = (Math.floor(WINDOW_START / 86400) - 1) * INTERVALS_PER_DAY; // the day before the window: past the embargo
  for (let done = 0; done < count; done += chunk) {
    const n = Math.min(chunk, count - done);
    const keys = realisticKeys(n, { today });
    yield Array.from({ length: n }, (_, i) => {
      const tek = keys.get(i);
      const uploadedAt = WINDOW_START + ((done + i) % WINDOW);
      return { id: exposureId(region, tek.keyData), region, tek, uploadedAt, publishAt: publishAtOf(tek, uploadedAt) };
    });
  }
}

/**
 * A store that holds nothing: it generates the benchmark window's keys page by page as they are
 * asked for, as a remote store streams them. With it, the publisher process's RSS is the
 * publisher's own, however many keys are "stored".
 */
class StreamStore implements ExposureStore {
  constructor(
    private readonly region: string,
    private readonly count: number,
  ) {}
  insert: ExposureStore['insert'] = async () => ({ inserted: 0, insertedIds: [] });
  get: ExposureStore['get'] = async () => [];
  revise: ExposureStore['revise'] = async () => ({ revised: 0 });
  deleteUploadedBefore: ExposureStore['deleteUploadedBefore'] = async () => ({ deleted: 0 });
  ping: ExposureStore['ping'] = async () => undefined;
  async *listForPublication(region: string, from: number, to: number, options: ListOptions = {}): AsyncIterable<Exposure[]> {
    if (region !== this.region || to <= WINDOW_START || from >= WINDOW_START + WINDOW) return;
    // The window's keys, in order of publishAt; only those inside [from, to).
    for (const page of exposures(region, this.count, options.pageSize ?? 1000)) {
      const inside = page.filter((exposure) => exposure.publishAt >= from && exposure.publishAt < to);
      if (inside.length > 0) yield inside;
    }
  }
  async *listRevisionsForPublication(): AsyncIterable<Exposure[]> {}
}

/** Counts the time spent waiting for the store's pages, and the keys they held. */
class TimedStore implements ExposureStore {
  ms = 0;
  keys = 0;
  constructor(private readonly inner: ExposureStore) {}
  insert: ExposureStore['insert'] = (...args) => this.inner.insert(...args);
  get: ExposureStore['get'] = (...args) => this.inner.get(...args);
  revise: ExposureStore['revise'] = (...args) => this.inner.revise(...args);
  deleteUploadedBefore: ExposureStore['deleteUploadedBefore'] = (...args) => this.timed(() => this.inner.deleteUploadedBefore(...args));
  ping: ExposureStore['ping'] = (...args) => this.inner.ping(...args);
  listForPublication(region: string, from: number, to: number, options?: ListOptions): AsyncIterable<Exposure[]> {
    return this.pages(this.inner.listForPublication(region, from, to, options));
  }
  listRevisionsForPublication(region: string, from: number, to: number, options?: ListOptions): AsyncIterable<Exposure[]> {
    return this.pages(this.inner.listRevisionsForPublication(region, from, to, options));
  }
  private async timed<T>(work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.ms += performance.now() - start;
    }
  }
  private async *pages(pages: AsyncIterable<Exposure[]>): AsyncIterable<Exposure[]> {
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      const next = await this.timed(() => iterator.next());
      if (next.done) return;
      this.keys += next.value.length;
      yield next.value;
    }
  }
}

/** Counts the time spent waiting for Blob storage. */
function timedBlob(inner: BlobWriter, clock: { ms: number }): BlobWriter {
  const timed =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const start = performance.now();
      try {
        return await fn(...args);
      } finally {
        clock.ms += performance.now() - start;
      }
    };
  return {
    containerName: inner.containerName,
    ensureContainer: timed(inner.ensureContainer.bind(inner)),
    create: timed(inner.create.bind(inner)),
    replace: timed(inner.replace.bind(inner)),
    read: timed(inner.read.bind(inner)),
    delete: timed(inner.delete.bind(inner)),
    acquireLease: timed(inner.acquireLease.bind(inner)),
    list: async function* (prefix, options) {
      const iterator = inner.list(prefix, options)[Symbol.asyncIterator]();
      for (;;) {
        const start = performance.now();
        const next = await iterator.next();
        clock.ms += performance.now() - start;
        if (next.done) return;
        yield next.value;
      }
    },
  };
}

function settings(scenario: Scenario, region: string): PublisherSettings {
  return {
    regions: [region],
    windowSeconds: WINDOW,
    safetyMarginSeconds: 300,
    privacyFloor: 'pad',
    minKeysPerFile: 1000,
    paddingJitter: 100,
    maxHoldSeconds: 86400,
    maxKeysPerFile: scenario.maxKeysPerFile,
    storePageSize: 1000,
    fileRetentionDays: 14,
    keyRetentionDays: 15,
    leaseSeconds: 60,
    deadlineSeconds: 3600,
    purgeAttempts: 1,
    purgeBackoffInMs: 0,
  };
}

/** One measured run, in this (child) process. */
async function child(input: ChildInput): Promise<RunResult> {
  const { scenario, region } = input;
  const signer = new LocalSigner(createPrivateKey(input.privateKeyPem), { keyId: '440', keyVersion: 'v1' });
  const exportsWriter = AzureBlobWriter.fromConnectionString(input.blobConnectionString, 'exports');
  const state = AzureBlobWriter.fromConnectionString(input.blobConnectionString, 'publisher-state');
  await prepareStorage({ exports: exportsWriter, state });
  const base = { exports: exportsWriter, state, signer, purger: new LogOnlyPurger(silentLogger), logger: silentLogger };
  const now = new Date((WINDOW_START + WINDOW + 600) * 1000);

  // Warm the JIT (and the connections) on a small run of its own.
  {
    const warm = new MemoryExposureStore();
    for (const batch of exposures(`${region}w`, WARM_UP_KEYS)) await warm.insert(batch);
    await publishExports({ ...base, store: warm, settings: settings(scenario, `${region}w`) }, { now });
  }

  let inner: ExposureStore;
  let client: CosmosClient | undefined;
  if (input.cosmos) {
    client = new CosmosClient(cosmosEmulatorClientOptions(input.cosmos.endpoint));
    inner = new CosmosExposureStore({ container: client.database('keyfront').container(input.cosmos.containerId) });
  } else if (scenario.store === 'stream') {
    inner = new StreamStore(region, scenario.keys);
  } else {
    const memory = new MemoryExposureStore();
    for (const batch of exposures(region, scenario.keys)) await memory.insert(batch);
    inner = memory;
  }
  const store = new TimedStore(inner);
  const blobClock = { ms: 0 };
  const deps: PublisherDeps = { ...base, store, exports: timedBlob(exportsWriter, blobClock), state: timedBlob(state, blobClock), settings: settings(scenario, region) };

  (globalThis as { gc?: () => void }).gc?.();
  const live = (usage: NodeJS.MemoryUsage) => usage.heapUsed + usage.external;
  const before = process.memoryUsage();
  const heapBeforeMiB = before.heapUsed / MiB;
  const rssBefore = before.rss;
  let peak = rssBefore;
  let peakLive = live(before);
  const sample = () => {
    const usage = process.memoryUsage();
    peak = Math.max(peak, usage.rss);
    peakLive = Math.max(peakLive, live(usage));
  };
  const sampler = setInterval(sample, 5);
  const started = performance.now();
  const retained: number[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  const onStep = scenario.heapMiB && gc ? (step: string) => void (step === 'file-written' && (gc(), retained.push(process.memoryUsage().heapUsed / MiB))) : undefined;
  const run = await publishExports(deps, { now, onStep, abortSignal: scenario.budgetInMs ? AbortSignal.timeout(scenario.budgetInMs) : undefined });
  const totalMs = performance.now() - started;
  clearInterval(sampler);
  sample();
  client?.dispose();

  const outcome = run.regions[0];
  let largest = { name: '', keys: 0, bytes: 0 };
  for await (const blob of exportsWriter.list(`v1/${region}/`)) {
    if (blob.name.endsWith('.zip') && Number(blob.metadata.keys) > largest.keys) largest = { name: blob.name, keys: Number(blob.metadata.keys), bytes: blob.contentLength };
  }
  const binBytes = largest.name ? (await openExport((await exportsWriter.read(largest.name))!.data)).bin.length : 0;
  const storeMs = store.ms;
  return {
    finished: outcome.status === 'done',
    keysRead: outcome.status === 'done' ? scenario.keys : store.keys,
    files: outcome.filesWritten.length,
    totalMs,
    storeMs,
    blobMs: blobClock.ms,
    oursMs: totalMs - storeMs - blobClock.ms,
    // A finished run published every stored key; an unfinished one, at most those it read.
    keysPerSecond: (outcome.status === 'done' ? scenario.keys : store.keys) / (totalMs / 1000),
    rssBeforeMiB: rssBefore / MiB,
    heapBeforeMiB,
    ...(retained.length > 0 ? { retainedMiB: { firstFile: retained[0], lastFile: retained.at(-1)!, max: Math.max(...retained) } } : {}),
    peakRssMiB: peak / MiB,
    workingMiB: (peakLive - live(before)) / MiB,
    largestFileKeys: largest.keys,
    largestZipBytes: largest.bytes,
    largestFileMiB: (largest.keys * 24 + binBytes + largest.bytes) / MiB,
    ...(outcome.status === 'done' ? {} : { error: outcome.error }),
  };
}

/**
 * Runs one measurement in a child process; asynchronously, as the emulator serving it runs in this
 * process. The input (with the bench's throwaway signing key) goes through a 0600 file, not argv.
 */
async function runChild(input: ChildInput, dir: string): Promise<RunResult> {
  const file = path.join(dir, `${input.region}.json`);
  writeFileSync(file, JSON.stringify(input), { mode: 0o600 });
  const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', `--max-old-space-size=${input.scenario.heapMiB ?? 4096}`, '-r', 'tsx/cjs', __filename, '--child', file], {
    encoding: 'utf8',
    maxBuffer: 16 * MiB,
    timeout: 15 * 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as RunResult;
}

/** Loads the scenario's keys into a fresh emulator container with bulk requests, within the budget; resolves to the keys loaded. */
async function loadCosmos(client: CosmosClient, containerId: string, region: string, scenario: Scenario): Promise<{ loaded: number; ms: number }> {
  const container = await ensureExposuresContainer(client, { containerId });
  const store = new CosmosExposureStore({ container });
  const started = performance.now();
  let loaded = 0;
  for (const batch of exposures(region, scenario.keys, 100)) {
    if (performance.now() - started > scenario.budgetInMs!) break;
    const results = await container.items.bulk(batch.map((exposure) => ({ operationType: 'Create' as const, resourceBody: JSON.parse(JSON.stringify(store.toDocument(exposure))) as JSONObject })));
    loaded += results.filter((result) => result.statusCode === 201).length;
  }
  return { loaded, ms: performance.now() - started };
}

const fmt = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  const all = quick ? [{ ...SCENARIOS[0], keys: 20_000, runs: 1, name: 'memory 20k (quick)' }, { ...SCENARIOS[3], keys: 20_000, runs: 1, name: 'stream 20k (quick)' }, { ...SCENARIOS[7], keys: 2_000, runs: 1, name: 'cosmos 2k (quick)' }] : SCENARIOS;
  const scenarios = only ? all.filter((scenario) => scenario.name.includes(only)) : all;
  const dir = mkdtempSync(path.join(tmpdir(), 'keyfront-bench-publish-'));
  const azurite = await startAzurite();
  const cosmos = await startCosmosEmulator();
  const client = cosmos.client();
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const rows: Array<Scenario & { load?: { loaded: number; ms: number }; result: RunResult; measured: RunResult[] }> = [];
  try {
    let regionCount = 0;
    for (const scenario of scenarios) {
      const runs: RunResult[] = [];
      let load: { loaded: number; ms: number } | undefined;
      for (let i = 0; i < scenario.runs; i++) {
        const region = `b${++regionCount}`;
        let cosmosTarget: ChildInput['cosmos'];
        if (scenario.store === 'cosmos') {
          const containerId = `bench-${region}`;
          load = await loadCosmos(client, containerId, region, scenario);
          cosmosTarget = { endpoint: cosmos.endpoint, containerId };
          process.stderr.write(`${scenario.name}: loaded ${fmt(load.loaded)} keys into the emulator in ${fmt(load.ms / 1000, 1)} s\n`);
        }
        const result = await runChild({ scenario, region, blobConnectionString: azurite.connectionString, privateKeyPem, cosmos: cosmosTarget }, dir);
        // Each emulator run starts from an emulator holding only its own keys.
        if (cosmosTarget) await client.database('keyfront').container(cosmosTarget.containerId).delete();
        process.stderr.write(`${scenario.name} run ${i + 1}: ${result.finished ? 'done' : `unfinished (${result.error})`} ${fmt(result.keysRead)} keys in ${fmt(result.totalMs / 1000, 1)} s\n`);
        runs.push(result);
        if (scenario.store === 'cosmos' && !result.finished) break;
      }
      const result = runs.length === 1 ? runs[0] : { ...runs[0], keysPerSecond: median(runs.map((r) => r.keysPerSecond)), totalMs: median(runs.map((r) => r.totalMs)), storeMs: median(runs.map((r) => r.storeMs)), blobMs: median(runs.map((r) => r.blobMs)), oursMs: median(runs.map((r) => r.oursMs)), workingMiB: Math.max(...runs.map((r) => r.workingMiB)), peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)) };
      rows.push({ ...scenario, load, result, measured: runs });
      if (scenario.store === 'cosmos' && !result.finished) {
        process.stderr.write(`${scenario.name}: the emulator did not serve the read within the budget; larger emulator runs are skipped\n`);
        break;
      }
    }
  } finally {
    await cosmos.stop();
    await azurite.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const header = ['scenario', 'keys', 'files', 'keys/s', 'store %', 'blob %', 'ours %', 'store/ours', 'ours keys/s', 'RSS before MiB', 'peak RSS MiB', 'working MiB', 'largest file MiB', 'working/file'];
  const table = rows.map(({ name, result: r }) => [
    r.finished ? name : `${name} (unfinished in budget)`,
    fmt(r.keysRead),
    fmt(r.files),
    fmt(r.keysPerSecond),
    fmt((100 * r.storeMs) / r.totalMs),
    fmt((100 * r.blobMs) / r.totalMs),
    fmt((100 * r.oursMs) / r.totalMs),
    fmt(r.storeMs / r.oursMs, 2),
    fmt(r.keysRead / (r.oursMs / 1000)),
    fmt(r.rssBeforeMiB),
    fmt(r.peakRssMiB),
    fmt(r.workingMiB),
    fmt(r.largestFileMiB),
    fmt(r.workingMiB / Math.max(r.largestFileMiB, 1), 2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  process.stdout.write(`${line(header)}\n${table.map(line).join('\n')}\n`);
  const byName = new Map(rows.map((row) => [row.name, row.result]));
  const compare = (small: string, large: string) => {
    const a = byName.get(small);
    const b = byName.get(large);
    if (!a?.finished || !b?.finished) return;
    process.stdout.write(`${large} over ${small} (same file size): ${fmt(b.keysRead / a.keysRead)}x the keys, peak RSS ${fmt(b.peakRssMiB / a.peakRssMiB, 2)}x, working memory ${fmt(b.workingMiB / a.workingMiB, 2)}x\n`);
  };
  process.stdout.write('\n');
  compare('stream 100k', 'stream 1M');
  compare('stream 100k', 'stream 10M');
  compare('memory 100k', 'memory 1M');
  for (const row of rows.filter((r) => r.heapMiB !== undefined && r.result.finished)) {
    const retainedMiB = row.result.retainedMiB;
    process.stdout.write(
      `${row.name}: ${fmt(row.result.keysRead)} keys in ${fmt(row.result.files)} files published with V8's old space capped at ${row.heapMiB} MiB (${fmt(row.result.heapBeforeMiB)} MiB in use before the run); heap after a full GC at the first file ${fmt(retainedMiB?.firstFile ?? 0, 1)} MiB, at the last ${fmt(retainedMiB?.lastFile ?? 0, 1)} MiB, at most ${fmt(retainedMiB?.max ?? 0, 1)} MiB\n`,
    );
  }
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(path.join('bench-results', 'publish.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, scenarios: rows }, null, 2)}\n`);
}

if (process.argv[2] === '--child') {
  child(JSON.parse(readFileSync(process.argv[3], 'utf8')) as ChildInput).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`bench child failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
} else {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:publish failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
