/**
 * The publisher of the fleet simulation: the real one (`publishExports`, its steps, privacy floor,
 * manifest, lock and index) on memory parts, configured by `loadPublisherConfig` from the same
 * environment variables as production (window, floor, schedule, purge attempts...), run at the
 * instants its NCRONTAB schedule names on the simulation's clock. Uploads arrive as a Poisson
 * process, each about 10 keys (the keys of the last days and today's, whose embargo ends two hours
 * after the day), stored as the API stores them. Purges go to the simulated edge through a
 * `Purger` that can fail and whose purges reach each site after a delay.
 *
 * It measures what only the publisher knows: each file's real (not padding) keys, from the private
 * manifest; when each key's file first entered the index (from the key's `publishAt`: its upload, or
 * the end of its embargo for a key still in use when uploaded); files written.
 */
import { randomBytes } from 'node:crypto';
import { Cron } from 'croner';
import { exposureId, publishAtOf, type Exposure } from '../../../exposures/exposure-store';
import { INTERVALS_PER_DAY, type Tek } from '../../../proto/tek';
import { loadPublisherConfig, type PublisherConfig } from '../../../publisher/config';
import { indexTxtName, parseExportFileName } from '../../../publisher/export-names';
import { readManifest } from '../../../publisher/manifest';
import { createMemoryPublisher, type MemoryPublisher } from '../../../publisher/memory-publisher';
import { SimExposureStore } from './sim-store';
import { PurgeError } from '../../../publisher/purgers/purge-error';
import type { Purger } from '../../../publisher/purgers/purger';
import { publisherSettings } from '../../../publisher/publisher-deps';
import { publishExports } from '../../../publisher/run';
import type { Random } from './random';

const DAY = 86_400;

/** Settings the simulation gives the publisher unless the environment sets them: where nothing real is reached. */
const SIMULATION_ENV = {
  KEYFRONT_COSMOS_ENDPOINT: 'https://keyfront-fleet-simulation.invalid',
  KEYFRONT_BLOB_CONNECTION_STRING: 'UseDevelopmentStorage=true',
  // Retries of a purge wait a few seconds (less than a tick); the simulation does not wait them out.
  KEYFRONT_PURGE_BACKOFF_MS: '0',
  KEYFRONT_LOG_LEVEL: 'error',
};

/** The publisher's configuration as production reads it, from `env` (KEYFRONT_PRIVACY_FLOOR, KEYFRONT_WINDOW_SECONDS, ...). */
export function simulatedPublisherConfig(env: Record<string, string | undefined>): PublisherConfig {
  return loadPublisherConfig({ ...SIMULATION_ENV, ...Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('KEYFRONT_'))) });
}

export interface PurgeModel {
  /** Each purge request fails with this probability. */
  failureRate: number;
  /** Purge requests fail during this many minutes of each day (an outage at a random time of day). */
  outageMinutesPerDay: number;
  /** A purge reaches each site after a delay drawn uniformly from this range (ms). */
  delayInMs: { min: number; max: number };
}

export interface SimPublisherOptions {
  config: PublisherConfig;
  uploadsPerDay: number;
  purge: PurgeModel;
  /** Where purges go: the simulation delivers `paths` to every site at `atMs` plus that site's delay. */
  onPurge: (paths: readonly string[], atMs: number) => void;
  random: Random;
  /** The measured period (ms): keys with a `publishAt` in it, files written in it. */
  measureFromMs: number;
  measureToMs: number;
}

export interface PublisherCounters {
  runs: number;
  filesWritten: number;
  /** Files written since `measureFromMs`. */
  filesMeasured: number;
  purgeRequests: number;
  purgeFailures: number;
  uploads: number;
  keys: number;
  /** Real keys in the files written since `measureFromMs`, and all keys in them (padding included). */
  realKeysMeasured: number;
  keysMeasured: number;
}

/** A purger whose requests fail at a rate and during a daily outage; the purges it accepts reach the edge later. */
class SimPurger implements Purger {
  readonly name = 'simulated-front-door';
  requests = 0;
  failures = 0;

  constructor(
    private readonly model: PurgeModel,
    private readonly random: Random,
    private readonly deliver: (paths: readonly string[], atMs: number) => void,
    private readonly outageStartOfDay: (day: number) => number,
  ) {}

  async purge(contentPaths: readonly string[]): Promise<void> {
    this.requests += 1;
    const now = Date.now();
    const day = Math.floor(now / 1000 / DAY);
    const outageStart = day * DAY * 1000 + this.outageStartOfDay(day);
    const inOutage = now >= outageStart && now < outageStart + this.model.outageMinutesPerDay * 60_000;
    if (inOutage || this.random() < this.model.failureRate) {
      this.failures += 1;
      throw new PurgeError(`${this.name}: the purge request failed (simulated)`, { statusCode: 503, code: 'ServiceUnavailable', retryable: true });
    }
    this.deliver(contentPaths, now);
  }
}

export class SimPublisher {
  readonly counters: PublisherCounters = { runs: 0, filesWritten: 0, filesMeasured: 0, purgeRequests: 0, purgeFailures: 0, uploads: 0, keys: 0, realKeysMeasured: 0, keysMeasured: 0 };
  /** Real keys of each export file (by path without the leading `/`). */
  readonly realKeys = new Map<string, number>();
  /** How long each measured key waited, from its `publishAt`, for its file to enter the index (seconds), with the count of keys. */
  readonly delays: { publishAt: number; seconds: number; keys: number }[] = [];
  private readonly schedule: Cron;
  private readonly region: string;
  private nextUploadAt: number;
  /** Keys not yet in a listed file: count per `publishAt`. */
  private readonly waiting = new Map<number, number>();
  private readonly listed = new Set<string>();
  private readonly purger: SimPurger;
  private lastRunAt: number;
  private readonly outageStarts = new Map<number, number>();

  private constructor(
    readonly publisher: Omit<MemoryPublisher, 'store'> & { store: SimExposureStore },
    private readonly options: SimPublisherOptions,
    startMs: number,
  ) {
    this.region = options.config.regions[0];
    // The timer fires in UTC (WEBSITE_TIME_ZONE is not set).
    this.schedule = new Cron(options.config.schedule, { paused: true, timezone: 'Etc/UTC' });
    this.nextUploadAt = startMs / 1000 + this.interArrival();
    this.lastRunAt = startMs;
    this.purger = new SimPurger(options.purge, options.random, options.onPurge, (day) => {
      if (!this.outageStarts.has(day)) this.outageStarts.set(day, Math.floor(options.random() * DAY * 1000));
      return this.outageStarts.get(day) as number;
    });
    this.publisher.purger = this.purger;
  }

  static async create(options: SimPublisherOptions, startMs: number): Promise<SimPublisher> {
    const publisher = await createMemoryPublisher(publisherSettings(options.config), { leaseClock: () => Date.now() });
    return new SimPublisher({ ...publisher, store: new SimExposureStore() }, options, startMs);
  }

  get regionName(): string {
    return this.region;
  }

  /** The publisher's verification key, SPKI PEM. */
  publicKeyPem(): string {
    return this.publisher.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** Takes uploads and runs the publisher at every scheduled instant up to `nowMs`; the clock (`Date.now`) must stand at `nowMs`. */
  async advanceTo(nowMs: number, setClock: (ms: number) => void): Promise<void> {
    for (let run = this.schedule.nextRun(new Date(this.lastRunAt)); run && run.getTime() <= nowMs; run = this.schedule.nextRun(new Date(this.lastRunAt))) {
      const at = run.getTime();
      await this.takeUploads(at / 1000);
      setClock(at);
      await this.runOnce(at);
      this.lastRunAt = at;
    }
    setClock(nowMs);
    await this.takeUploads(nowMs / 1000);
  }

  private interArrival(): number {
    return (-Math.log(1 - this.options.random()) * DAY) / this.options.uploadsPerDay;
  }

  /** Uploads up to `now` (seconds), stored as the API stores them. */
  private async takeUploads(now: number): Promise<void> {
    const exposures: Exposure[] = [];
    for (; this.nextUploadAt <= now; this.nextUploadAt += this.interArrival()) {
      const uploadedAt = Math.floor(this.nextUploadAt);
      const today = Math.floor(uploadedAt / DAY) * INTERVALS_PER_DAY;
      // About 10 keys: today's (published once its day is over) and those of the days before.
      const count = 6 + Math.floor(this.options.random() * 9);
      const data = randomBytes(16 * count);
      for (let i = 0; i < count; i++) {
        const tek: Tek = { keyData: data.subarray(16 * i, 16 * i + 16), rollingStartIntervalNumber: today - i * INTERVALS_PER_DAY, rollingPeriod: INTERVALS_PER_DAY, transmissionRiskLevel: 1 + Math.floor(this.options.random() * 8), reportType: 1 };
        const publishAt = publishAtOf(tek, uploadedAt);
        exposures.push({ id: exposureId(this.region, tek.keyData), region: this.region, tek, uploadedAt, publishAt, healthAuthorityId: 'fleet-simulation' });
        this.waiting.set(publishAt, (this.waiting.get(publishAt) ?? 0) + 1);
      }
      this.counters.uploads += 1;
      this.counters.keys += count;
    }
    if (exposures.length > 0) await this.publisher.store.insert(exposures);
  }

  private async runOnce(atMs: number): Promise<void> {
    const run = await publishExports(this.publisher, { now: new Date(atMs), wallClock: () => atMs });
    this.counters.runs += 1;
    const outcome = run.regions[0];
    if (outcome.status !== 'done') throw new Error(`the simulated publisher failed at ${new Date(atMs).toISOString()}: ${outcome.error ?? outcome.status}`);
    this.counters.purgeRequests = this.purger.requests;
    this.counters.purgeFailures = this.purger.failures;
    this.counters.filesWritten += outcome.filesWritten.length;
    const measured = atMs >= this.options.measureFromMs && atMs < this.options.measureToMs;
    if (outcome.filesWritten.length > 0) await this.noteRealKeys(measured ? new Set(outcome.filesWritten) : new Set());
    if (outcome.indexChanged) await this.noteListed(atMs);
  }

  /** Real keys per file from the private manifest (padding sits in a range's last file); counts the measured files. */
  private async noteRealKeys(measured: Set<string>): Promise<void> {
    const { manifest } = await readManifest(this.publisher.state, this.region);
    for (const range of manifest.ranges) {
      let real = range.realKeys + range.realRevisedKeys;
      for (const file of range.files) {
        const inFile = Math.min(real, file.keys + file.revisedKeys);
        real -= inFile;
        this.realKeys.set(file.name, inFile);
        if (measured.has(file.name)) {
          this.counters.filesMeasured += 1;
          this.counters.realKeysMeasured += inFile;
          this.counters.keysMeasured += file.keys + file.revisedKeys;
        }
      }
    }
  }

  /** Files the index names for the first time: the keys they carry stop waiting. */
  private async noteListed(atMs: number): Promise<void> {
    const index = await this.publisher.exports.read(indexTxtName(this.region));
    for (const path of index?.data.toString('utf8').split('\n') ?? []) {
      if (path === '' || this.listed.has(path)) continue;
      this.listed.add(path);
      const file = parseExportFileName(path);
      if (!file) continue;
      for (const [publishAt, keys] of this.waiting) {
        if (publishAt < file.start || publishAt >= file.end) continue;
        this.waiting.delete(publishAt);
        if (publishAt * 1000 >= this.options.measureFromMs && publishAt * 1000 < this.options.measureToMs) this.delays.push({ publishAt, seconds: atMs / 1000 - publishAt, keys });
      }
    }
  }

  /** Keys whose file is not in the index yet, with a `publishAt` in [fromMs, toMs). */
  waitingKeys(fromMs: number, toMs: number): number {
    let keys = 0;
    for (const [publishAt, count] of this.waiting) if (publishAt * 1000 >= fromMs && publishAt * 1000 < toMs) keys += count;
    return keys;
  }
}

/** The smallest p such that at least `share` of the weight lies at or below it. */
export function weightedQuantile(samples: readonly { seconds: number; keys: number }[], share: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a.seconds - b.seconds);
  const total = sorted.reduce((sum, s) => sum + s.keys, 0);
  let seen = 0;
  for (const sample of sorted) {
    seen += sample.keys;
    if (seen >= share * total) return sample.seconds;
  }
  return Number.NaN;
}

