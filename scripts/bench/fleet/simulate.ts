/**
 * The fleet simulation: phones of one region syncing through Front Door's shape, against the real
 * publisher, on a virtual clock.
 *
 * - The publisher (`sim-publisher.ts`) is the real one with the production configuration, fed by
 *   uploads; it publishes, writes the index and purges on its schedule. It runs alone for the file
 *   retention first, so that the index is full when the phones come.
 * - The edge is `sites` sites of `nodesPerSite` cache nodes each (`edge-node.ts`: the production
 *   declaration and the local edge's cache code), over the exports origin (`sim-origin.ts`, the
 *   publisher's own blobs). Site load is skewed (Zipf); each request goes to a node of its site at
 *   random; each node caches on its own. A purge reaches each site after its own delay.
 * - Phones run the client library's `syncRegion` with injected fetch, clock, sleep and randomness.
 *   Each polls every `pollIntervalSeconds` ± `pollJitter`; at a poll it may be a new install (an
 *   empty state: the full catch-up) or go offline for days (and catch up when it comes back). A
 *   share of phones has a wrong clock (minutes to a day, either way).
 *
 * Equivalence classes: phones that poll in the same tick with the same state and the same clock
 * error send the same requests; wherever they are, they behave alike as long as the edge answers
 * them alike. So one real `syncRegion` runs per class, its every request going to each node where
 * phones of the class are (one real request per node, the others of that node counted); when nodes
 * answer differently (one still holds an index another has refilled after a purge), the class
 * splits and each part runs its own real sync. A node's answer is reused without a new request
 * while its cache entry is known to stand: the fill was confirmed by a second real request, and
 * neither its lifetime nor a purge covering it has passed (so requests for immutable files and the
 * index between purges cost nothing). Requests that arrive at a node within the origin latency of
 * a fill wait for it (Front Door shares in-flight requests for the same URL at a POP): counted as
 * collapsed, at the share of the tick that the fill took.
 */
import { gzipSync } from 'node:zlib';
import { emptyState, importVerificationKey, syncRegion, type ClientError, type PhoneState, type SyncResult } from '../../../client';
import type { EdgeDeclaration } from '../../../edge-config/declaration';
import { purgeCovers } from '../../../platform/purge-paths';
import { cacheDirectives } from '../../../edge-config/local-edge/cache';
import { EdgeNode, originGroupsOf, type EdgeAnswer } from './edge-node';
import { binomial, drawIndex, normal, seededRandom, zipfShares } from './random';
import { SimOrigin } from './sim-origin';
import { SimPublisher, simulatedPublisherConfig, weightedQuantile, type PurgeModel } from './sim-publisher';
import { VerifyMemo, type VerifyCounters } from './verify-memo';
import { VirtualClock } from './virtual-clock';

const DAY_MS = 86_400_000;
/** Front Door compresses bodies in this size range (the ARM reference: up to 1 MB; the caching page: from 1 KB). */
const COMPRESSIBLE_BYTES = { min: 1024, max: 1024 * 1024 };
const CONTENT_ENCODING_HEADER_BYTES = 'content-encoding: gzip\r\n'.length;

/** Clock errors of the phones that have one, each a share of them (either sign at random). */
export const CLOCK_ERRORS: readonly { errorInMs: number; share: number }[] = [
  { errorInMs: 2 * 60_000, share: 0.5 },
  { errorInMs: 30 * 60_000, share: 0.25 },
  { errorInMs: 2 * 3_600_000, share: 0.15 },
  { errorInMs: 9 * 3_600_000, share: 0.07 },
  { errorInMs: 24 * 3_600_000, share: 0.03 },
];

export interface FleetConfig {
  phones: number;
  sites: number;
  nodesPerSite: number;
  /** Zipf exponent of the site load (0: every site alike). */
  siteSkew: number;
  /** Measured days, after the warm-up. */
  days: number;
  /** Phones sync this long before the measurement starts. */
  warmUpHours: number;
  /** The publisher runs alone this long first (the file retention fills the index). */
  publisherWarmUpDays: number;
  tickSeconds: number;
  pollIntervalSeconds: number;
  pollJitter: number;
  /** Share of the phones newly installed each day. */
  newInstallsPerDay: number;
  /** Share of the phones that go offline each day, each for 1..`offlineDaysMax` days. */
  offlinePerDay: number;
  offlineDaysMax: number;
  /** Share of the phones whose clock is wrong (see `CLOCK_ERRORS`). */
  wrongClocks: number;
  uploadsPerDay: number;
  purge: PurgeModel;
  /** Median origin latency (log-normal, sigma 1). */
  originLatencyMs: number;
  originErrorRate: number;
  /** `KEYFRONT_*` settings of the publisher (its production configuration reads them). */
  publisherEnv: Record<string, string | undefined>;
  /** The edge declaration (validated). */
  declaration: EdgeDeclaration;
  /** Replaces the Cache-Control the publisher wrote on the index (tests: "another s-maxage"). */
  indexCacheControl?: string;
  /** Header bytes of the edge's answers to phones, measured on the real local edge. */
  headerBytes: { notModified: number; index: number; file: number; error: number };
  /** Bytes a key costs in an export file (zip bytes per key of a large file). */
  bytesPerKey: number;
  cacheMaxBytes: number;
  seed: number;
  onProgress?: (hour: number, totalHours: number) => void;
}

export interface FleetCounters {
  clientRequests: number;
  indexRequests: number;
  notModified: number;
  fileRequests: number;
  errorAnswers: number;
  originRequests: number;
  originRequestsByDay: number[];
  originIndexRequests: number;
  originFileRequests: number;
  collapsedRequests: number;
  bytesToPhones: number;
  /** Bytes of the real keys in the files phones newly got (at `bytesPerKey`). */
  realKeyBytes: number;
  syncs: number;
  failedSyncs: number;
  failures: Record<string, number>;
  installs: number;
  offline: number;
  /** Real `syncRegion` runs and real requests through a node's cache code. */
  realSyncs: number;
  realEdgeRequests: number;
  /** Phones whose state names every file of the index at the end. */
  phonesInSync: number;
  peakRssBytes: number;
}

export interface FleetResult {
  counters: FleetCounters;
  publisher: SimPublisher;
  verify: VerifyCounters;
  /** Health probes per day, by origin group: sites x enabled origins x 86,400 / interval. */
  probesPerDay: Record<string, number>;
  publishDelayP95Hours: number;
  /** Keys with a `publishAt` in the measured period whose file never entered the index. */
  keysNeverListed: number;
  region: string;
  /** Wall-clock seconds the publisher's warm-up took (the file retention, alone). */
  publisherWarmUpSeconds: number;
}

function emptyCounters(days: number): FleetCounters {
  return {
    clientRequests: 0, indexRequests: 0, notModified: 0, fileRequests: 0, errorAnswers: 0, originRequests: 0, originRequestsByDay: Array.from({ length: days }, () => 0), originIndexRequests: 0, originFileRequests: 0,
    collapsedRequests: 0, bytesToPhones: 0, realKeyBytes: 0, syncs: 0, failedSyncs: 0, failures: {}, installs: 0, offline: 0, realSyncs: 0, realEdgeRequests: 0, phonesInSync: 0, peakRssBytes: 0,
  };
}

/** A node's answer while its cache entry is known to stand. */
interface KnownAnswer {
  answer: EdgeAnswer;
  validUntilMs: number;
  filledAtMs: number;
  fillLatencyMs: number;
}

/** Freshness the edge gives an answer: s-maxage, else max-age (what the cache code reads); 0 when neither. */
function edgeLifetimeInMs(answer: EdgeAnswer): number {
  const value = answer.headers['cache-control'];
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  if (!cacheDirectives(text).has('s-maxage') && !cacheDirectives(text).has('max-age')) return 0;
  const seconds = (name: string) => Number(new RegExp(`(?:^|,)\\s*${name}=(\\d+)`).exec(text)?.[1]);
  const lifetime = Number.isFinite(seconds('s-maxage')) ? seconds('s-maxage') : seconds('max-age');
  return Number.isFinite(lifetime) ? lifetime * 1000 : 0;
}

interface Deferred {
  promise: Promise<'parked'>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve: () => void = () => undefined;
  const promise = new Promise<'parked'>((r) => (resolve = () => r('parked')));
  return { promise, resolve };
}

/** Phones of one equivalence class in one tick. */
interface PhoneClass {
  stateId: number;
  clockClass: number;
  phones: number[];
  nodes: number[];
  parked: Deferred;
  done?: Promise<'done'>;
  outcome?: Map<number, { result?: SyncResult; error?: unknown }>;
}

export async function simulateFleet(config: FleetConfig): Promise<FleetResult> {
  const random = seededRandom(config.seed);
  const startMs = Date.UTC(2026, 11, 1);
  const measureFromMs = startMs + config.warmUpHours * 3_600_000;
  const endMs = measureFromMs + config.days * DAY_MS;
  const tickMs = config.tickSeconds * 1000;
  const clock = new VirtualClock(startMs - config.publisherWarmUpDays * DAY_MS);
  const counters = emptyCounters(config.days);
  let measuring = false;

  const nodeCount = config.sites * config.nodesPerSite;
  // Purges reach each site after its own delay; pending deliveries in time order.
  const deliveries: { atMs: number; site: number; paths: readonly string[] }[] = [];
  const publisherConfig = simulatedPublisherConfig(config.publisherEnv);
  clock.install();
  try {
    const publisher = await SimPublisher.create(
      {
        config: publisherConfig,
        uploadsPerDay: config.uploadsPerDay,
        purge: config.purge,
        random,
        measureFromMs,
        measureToMs: endMs,
        onPurge: (paths, atMs) => {
          for (let site = 0; site < config.sites; site++) deliveries.push({ atMs: atMs + config.purge.delayInMs.min + random() * (config.purge.delayInMs.max - config.purge.delayInMs.min), site, paths });
          deliveries.sort((a, b) => a.atMs - b.atMs);
        },
      },
      clock.now(),
    );
    const region = publisher.regionName;
    const warmUpStarted = performance.now();
    await publisher.advanceTo(startMs, (ms) => clock.set(ms));
    deliveries.length = 0;
    const publisherWarmUpSeconds = (performance.now() - warmUpStarted) / 1000;

    const exportsRoute = config.declaration.routes.find((route) => route.originGroup === 'exports');
    const origin = new SimOrigin(publisher.publisher.exports, {
      containerPath: exportsRoute?.originPath ?? '',
      errorRate: config.originErrorRate,
      latencyInMs: () => config.originLatencyMs * Math.exp(normal(random)),
      random,
      cacheControlOf: (name, written) => (config.indexCacheControl !== undefined && /\/index\.(txt|json)$/.test(name) ? config.indexCacheControl : written),
    });
    const groups = originGroupsOf(config.declaration);
    const nodes = Array.from({ length: nodeCount }, () => new EdgeNode(config.declaration, groups, origin, config.cacheMaxBytes));
    const known: Map<string, KnownAnswer>[] = nodes.map(() => new Map());
    const purgeSite = (site: number, paths: readonly string[]) => {
      for (let node = site * config.nodesPerSite; node < (site + 1) * config.nodesPerSite; node++) {
        nodes[node].purge(paths);
        for (const path of known[node].keys()) if (paths.some((contentPath) => purgeCovers(contentPath, path))) known[node].delete(path);
      }
    };

    const key = { publicKey: await importVerificationKey(publisher.publicKeyPem()) };
    const memo = new VerifyMemo(random);
    const siteShares = zipfShares(config.sites, config.siteSkew);
    const clockShares = new Float64Array(CLOCK_ERRORS.length + 1);
    clockShares[0] = 1 - config.wrongClocks;
    CLOCK_ERRORS.forEach((error, i) => (clockShares[i + 1] = clockShares[i] + config.wrongClocks * error.share));
    // Clock classes: 0 right; 2k-1 and 2k: the k-th error behind and ahead.
    const clockErrorOf = (cls: number) => (cls === 0 ? 0 : (cls % 2 === 1 ? -1 : 1) * CLOCK_ERRORS[(cls - 1) >> 1].errorInMs);
    const drawClock = () => {
      const k = drawIndex(random, clockShares);
      return k === 0 ? 0 : 2 * k - (random() < 0.5 ? 1 : 0);
    };

    // Phone states: interned (phones in the same state share one).
    const states: PhoneState[] = [];
    const stateIds = new Map<string, number>();
    const intern = (state: PhoneState): number => {
      const { lastSyncAt: _lastSyncAt, ...kept } = state;
      const id = JSON.stringify(kept);
      let n = stateIds.get(id);
      if (n === undefined) {
        n = states.length;
        states.push(kept as PhoneState);
        stateIds.set(id, n);
      }
      return n;
    };
    const EMPTY = intern(emptyState(region));

    // Phones: site, state, clock class; a timing wheel of ticks.
    const n = config.phones;
    const phoneSite = new Int32Array(n);
    const phoneState = new Int32Array(n);
    const phoneClock = new Uint8Array(n);
    const next = new Int32Array(n);
    const maxAheadMs = Math.max(config.pollIntervalSeconds * 1000 * (1 + config.pollJitter), config.offlineDaysMax * DAY_MS);
    const ringSize = Math.ceil(maxAheadMs / tickMs) + 2;
    const wheel = new Int32Array(ringSize).fill(-1);
    const schedule = (phone: number, tick: number) => {
      const slot = tick % ringSize;
      next[phone] = wheel[slot];
      wheel[slot] = phone;
    };
    const intervalTicks = () => Math.max(1, Math.round((config.pollIntervalSeconds * 1000 * (1 - config.pollJitter + 2 * config.pollJitter * random())) / tickMs));
    const intervalDays = config.pollIntervalSeconds / 86_400;
    const installChance = config.newInstallsPerDay * intervalDays;
    const offlineChance = config.offlinePerDay * intervalDays;

    // Every phone starts as synced just now, with its first poll within one interval.
    const initial = await syncRegion({ baseUrl: 'https://edge.sim', region, key, env: { fetch: async (url) => directFetch(new URL(url).pathname) } });
    async function directFetch(path: string): Promise<Response> {
      const answer = await new EdgeNode(config.declaration, groups, origin, config.cacheMaxBytes).get(path, {});
      return toResponse(answer);
    }
    const startState = intern(initial.state);
    for (let p = 0; p < n; p++) {
      phoneSite[p] = drawIndex(random, siteShares);
      phoneState[p] = startState;
      phoneClock[p] = drawClock();
      schedule(p, Math.floor((random() * config.pollIntervalSeconds * 1000) / tickMs));
    }
    origin.counters.requests = 0;

    let tick = 0;
    let nowMs = startMs;
    let day = 0;
    const sleepers: { atMs: number; cls: PhoneClass; wake: () => void }[] = [];

    const count = (what: (c: FleetCounters) => void) => {
      if (measuring) what(counters);
    };

    /** What `k` phones at `node` get for `path` in this tick (one real request unless the node's answer is known to stand). */
    async function requestAt(node: number, path: string, clientHeaders: Record<string, string>, k: number): Promise<EdgeAnswer> {
      let held = known[node].get(path);
      if (held && nowMs >= held.validUntilMs) {
        known[node].delete(path);
        held = undefined;
      }
      let answer: EdgeAnswer;
      let origins = 0;
      if (held) {
        answer = held.answer;
      } else {
        answer = await nodes[node].get(path, clientHeaders);
        count((c) => (c.realEdgeRequests += 1));
        if (!answer.cached) {
          origins = k;
        } else if (answer.originRequest) {
          origins = 1;
          const latency = origin.lastLatencyInMs;
          // The fill reaches the store when its write stream finishes; a second request then shows whether it was kept.
          await new Promise((resolve) => setImmediate(resolve));
          const again = await nodes[node].get(path, clientHeaders);
          count((c) => (c.realEdgeRequests += 1));
          // Not kept (an error, a 404): the node's other phones went to the origin too (the second request stands for one of them).
          if (again.originRequest) origins = k > 1 ? k : 1;
          const lifetime = edgeLifetimeInMs(again);
          if (again.status === 200 && lifetime > 0) known[node].set(path, { answer: pooled(again), validUntilMs: nowMs + lifetime - tickMs, filledAtMs: nowMs, fillLatencyMs: latency });
          held = again.originRequest ? undefined : known[node].get(path);
        } else {
          // A hit on an entry filled before: known to stand for what is left of its lifetime.
          const age = Number(answer.headers.age);
          const lifetime = edgeLifetimeInMs(answer);
          if (answer.status === 200 && Number.isFinite(age) && lifetime > 0) known[node].set(path, { answer: pooled(answer), validUntilMs: nowMs + lifetime - age * 1000 - tickMs, filledAtMs: -1, fillLatencyMs: 0 });
        }
      }
      const isIndex = /\/index\.(txt|json)$/.test(path);
      const shown = answer.cached ? clientView(answer, clientHeaders) : answer;
      count((c) => {
        c.clientRequests += k;
        if (isIndex) c.indexRequests += k;
        else c.fileRequests += k;
        c.originRequests += origins;
        c.originRequestsByDay[day] += origins;
        if (isIndex) c.originIndexRequests += origins;
        else c.originFileRequests += origins;
        if (held && held.filledAtMs === nowMs) c.collapsedRequests += binomial(random, k - (origins > 0 ? 1 : 0), Math.min(1, held.fillLatencyMs / tickMs));
        if (shown.status === 304) c.notModified += k;
        else if (shown.status !== 200) c.errorAnswers += k;
        c.bytesToPhones += k * bytesOf(shown, isIndex);
      });
      return shown;
    }

    // Answers kept for reuse share one body per blob version: hundreds of nodes hold the same files.
    const bodies = new Map<string, Buffer>();
    function pooled(answer: EdgeAnswer): EdgeAnswer {
      const id = `${String(answer.headers.etag)}\u0000${answer.body.length}`;
      if (!bodies.has(id)) bodies.set(id, answer.body);
      return { ...answer, body: bodies.get(id) as Buffer };
    }

    const gzipped = new Map<string, number>();
    function bytesOf(answer: EdgeAnswer, isIndex: boolean): number {
      if (answer.status === 304) return config.headerBytes.notModified;
      if (answer.status !== 200) return config.headerBytes.error + answer.body.length;
      const headers = isIndex ? config.headerBytes.index : config.headerBytes.file;
      if (!answer.compressible || answer.body.length < COMPRESSIBLE_BYTES.min || answer.body.length > COMPRESSIBLE_BYTES.max) return headers + answer.body.length;
      const id = `${String(answer.headers.etag)}\u0000${answer.body.length}`;
      if (!gzipped.has(id)) gzipped.set(id, gzipSync(answer.body).length);
      return headers + CONTENT_ENCODING_HEADER_BYTES + (gzipped.get(id) as number);
    }

    /** Runs the class's syncs: one real `syncRegion` per set of nodes that answer alike. */
    function startClass(cls: PhoneClass): void {
      const perNode = new Map<number, number>();
      for (const node of cls.nodes) perNode.set(node, (perNode.get(node) ?? 0) + 1);
      const state = states[cls.stateId];
      const errorInMs = clockErrorOf(cls.clockClass);
      cls.outcome = new Map();
      // Answers already counted for this class: each request of a replayed sync is counted once per node.
      const asked = new Map<string, EdgeAnswer>();
      const pending: number[][] = [[...perNode.keys()]];
      const env = {
        now: () => Date.now() + errorInMs,
        random,
        sleep: (ms: number) =>
          new Promise<void>((resolve) => {
            sleepers.push({ atMs: Date.now() + ms, cls, wake: resolve });
            cls.parked.resolve();
          }),
      };
      cls.done = (async () => {
        while (pending.length > 0) {
          const part = pending.shift() as number[];
          const occurrences = new Map<string, number>();
          const fetch = async (url: string, init?: { headers?: Record<string, string> }): Promise<Response> => {
            const path = new URL(url).pathname;
            const headers = Object.fromEntries(Object.entries(init?.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
            const occurrence = (occurrences.get(path) ?? 0) + 1;
            occurrences.set(path, occurrence);
            const answerOf = async (node: number) => {
              const id = `${node}\u0000${path}\u0000${occurrence}`;
              if (!asked.has(id)) asked.set(id, await requestAt(node, path, headers, perNode.get(node) as number));
              return asked.get(id) as EdgeAnswer;
            };
            const first = await answerOf(part[0]);
            const apart: number[] = [];
            for (const node of part.slice(1)) {
              const answer = await answerOf(node);
              if (answer.status !== first.status || answer.headers.etag !== first.headers.etag || answer.body.length !== first.body.length) apart.push(node);
            }
            if (apart.length > 0) {
              for (const node of apart) part.splice(part.indexOf(node), 1);
              pending.push(apart);
            }
            return toResponse(first);
          };
          count((c) => (c.realSyncs += 1));
          let outcome: { result?: SyncResult; error?: unknown };
          try {
            outcome = { result: await syncRegion({ baseUrl: 'https://edge.sim', region, key, env: { ...env, fetch }, verify: memo.verify }, state) };
          } catch (error) {
            outcome = { error };
          }
          for (const node of part) cls.outcome?.set(node, outcome);
        }
        return 'done' as const;
      })();
    }

    /** Lets a class run until it is done or waits on the virtual clock. */
    async function drive(cls: PhoneClass): Promise<void> {
      const how = await Promise.race([cls.done as Promise<'done'>, cls.parked.promise]);
      if (how === 'done') finishClass(cls);
    }

    function finishClass(cls: PhoneClass): void {
      const outcome = cls.outcome as Map<number, { result?: SyncResult; error?: unknown }>;
      // What the phones at each node ended with: the state they keep and the real keys they got.
      const ended = new Map<number, { stateId: number; realKeys: number; failure?: string }>();
      for (const [node, result] of outcome) {
        // A client that keeps the good files (issue 23) reports the others as `failed`: the sync failed too, for those files.
        const failedFiles = (result.result?.report as { failed?: { code: string }[] } | undefined)?.failed ?? [];
        if (result.result) ended.set(node, { stateId: intern(result.result.state), realKeys: result.result.report.fetched.reduce((sum, file) => sum + (publisher.realKeys.get(file.path) ?? 0), 0), ...(failedFiles.length > 0 ? { failure: failedFiles[0].code } : {}) });
        else ended.set(node, { stateId: cls.stateId, realKeys: 0, failure: (result.error as ClientError | undefined)?.code ?? String(result.error) });
      }
      let realKeys = 0;
      for (let i = 0; i < cls.phones.length; i++) {
        const end = ended.get(cls.nodes[i]) as { stateId: number; realKeys: number; failure?: string };
        phoneState[cls.phones[i]] = end.stateId;
        realKeys += end.realKeys;
        schedule(cls.phones[i], tick + intervalTicks());
      }
      if (!measuring) return;
      counters.syncs += cls.phones.length;
      counters.realKeyBytes += realKeys * config.bytesPerKey;
      for (const node of cls.nodes) {
        const failure = (ended.get(node) as { failure?: string }).failure;
        if (failure === undefined) continue;
        counters.failedSyncs += 1;
        counters.failures[failure] = (counters.failures[failure] ?? 0) + 1;
      }
    }

    // A long-running edge holds every file of the index (immutable, cached for a year): each node
    // gets them once now, before the warm-up, as it would have over the weeks before.
    for (let node = 0; node < nodeCount; node++) for (const path of initial.state.files) await requestAt(node, `/${path}`, {}, 1);

    const totalTicks = Math.ceil((endMs - startMs) / tickMs);
    for (; tick < totalTicks; tick++) {
      nowMs = startMs + tick * tickMs;
      measuring = nowMs >= measureFromMs;
      day = Math.min(config.days - 1, Math.max(0, Math.floor((nowMs - measureFromMs) / DAY_MS)));
      await publisher.advanceTo(nowMs, (ms) => clock.set(ms));
      while (deliveries.length > 0 && deliveries[0].atMs <= nowMs) {
        const delivery = deliveries.shift() as (typeof deliveries)[number];
        purgeSite(delivery.site, delivery.paths);
      }
      // Classes waiting out a retry whose time has come go on first.
      const due = sleepers.filter((s) => s.atMs <= nowMs);
      for (const sleeper of due) {
        sleepers.splice(sleepers.indexOf(sleeper), 1);
        sleeper.cls.parked = deferred();
        sleeper.wake();
        await drive(sleeper.cls);
      }
      // This tick's polls, by class.
      const slot = tick % ringSize;
      let p = wheel[slot];
      wheel[slot] = -1;
      const classes = new Map<number, PhoneClass>();
      for (; p !== -1; ) {
        const following = next[p];
        const u = random();
        if (u < installChance) {
          // A new install in this phone's place: an empty state, somewhere, with its own clock.
          phoneState[p] = EMPTY;
          phoneSite[p] = drawIndex(random, siteShares);
          phoneClock[p] = drawClock();
          count((c) => (c.installs += 1));
        } else if (u < installChance + offlineChance) {
          count((c) => (c.offline += 1));
          schedule(p, tick + Math.ceil(((1 + Math.floor(random() * config.offlineDaysMax)) * DAY_MS) / tickMs));
          p = following;
          continue;
        }
        const id = phoneState[p] * 256 + phoneClock[p];
        let cls = classes.get(id);
        if (!cls) {
          cls = { stateId: phoneState[p], clockClass: phoneClock[p], phones: [], nodes: [], parked: deferred() };
          classes.set(id, cls);
        }
        cls.phones.push(p);
        cls.nodes.push(phoneSite[p] * config.nodesPerSite + Math.floor(random() * config.nodesPerSite));
        p = following;
      }
      for (const cls of classes.values()) {
        startClass(cls);
        await drive(cls);
      }
      if (tick % Math.max(1, Math.round(3_600_000 / tickMs)) === 0) {
        counters.peakRssBytes = Math.max(counters.peakRssBytes, process.memoryUsage.rss());
        config.onProgress?.(Math.round((nowMs - startMs) / 3_600_000), Math.round((endMs - startMs) / 3_600_000));
      }
    }
    const current = await publisher.publisher.exports.read(`v1/${region}/index.txt`);
    const named = new Set(current?.data.toString('utf8').split('\n').filter((line) => line !== ''));
    const inSync = states.map((state) => state.files.length === named.size && state.files.every((file) => named.has(file)));
    for (let phone = 0; phone < n; phone++) if (inSync[phoneState[phone]]) counters.phonesInSync += 1;
    // The publisher goes on alone until every key of the measured period can have been listed.
    await publisher.advanceTo(endMs + (publisherConfig.maxHoldSeconds + 2 * 3600) * 1000, (ms) => clock.set(ms));
    counters.peakRssBytes = Math.max(counters.peakRssBytes, process.memoryUsage.rss());
    const probesPerDay: Record<string, number> = {};
    for (const group of config.declaration.originGroups) {
      if (group.healthProbe) probesPerDay[group.name] = config.sites * group.origins.filter((o) => o.enabled).length * (86_400 / group.healthProbe.intervalInSeconds);
    }
    return {
      counters,
      publisher,
      verify: memo.counters,
      probesPerDay,
      publishDelayP95Hours: weightedQuantile(publisher.delays, 0.95) / 3600,
      keysNeverListed: publisher.waitingKeys(measureFromMs, endMs),
      region,
      publisherWarmUpSeconds,
    };
  } finally {
    clock.restore();
  }
}

/** The client's view of a cached answer: `If-None-Match` answered by the edge. */
function clientView(answer: EdgeAnswer, clientHeaders: Record<string, string>): EdgeAnswer {
  return EdgeNode.notModifiedFor(answer, clientHeaders) ? { ...answer, status: 304, body: Buffer.alloc(0), compressible: false } : answer;
}

function toResponse(answer: EdgeAnswer): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !name.startsWith('x-keyfront-')) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  return new Response(answer.status === 304 || answer.body.length === 0 ? null : answer.body, { status: answer.status, headers });
}
