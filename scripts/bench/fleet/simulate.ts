/**
 * The fleet simulation: N phones polling one region's index on the apps' schedule (an interval with
 * jitter), each routed to one of P POPs, against the publisher's cadence (a file per window,
 * published by the first scheduled run after the window closed, followed by a purge of the index at
 * every POP), with the real edge cache code at each POP and a virtual clock.
 *
 * Phones are typed arrays (POP, index version held, files held), scheduled on a timing wheel of
 * `tickSeconds` slots: no object per phone, so memory stays bounded at a million. Phones that poll
 * in the same tick at the same POP with the same state send identical requests at the same virtual
 * instant; each distinct request goes through the real cache, and the others of its group get the
 * answer the cache gives once it holds the fill (a second real request confirms the hit; a request
 * that missed is never taken to stand for the others).
 */
import { PopCache, type EdgeAnswer } from './pop-cache';
import { SimOrigin, versionOfEtag } from './sim-origin';
import { VirtualClock } from './virtual-clock';

const DAY = 86_400;

export interface FleetConfig {
  phones: number;
  pops: number;
  days: number;
  /** Mean time between two polls of a phone. */
  pollIntervalSeconds: number;
  /** Each interval is drawn from [1 - jitter, 1 + jitter] x the mean. */
  pollJitter: number;
  /** First polls: uniform at random in one interval, or evenly spread (for hand-computed cases). */
  firstPolls: 'random' | 'even';
  tickSeconds: number;
  /** Publisher: window length, run schedule, safety margin, retention. */
  windowSeconds: number;
  scheduleSeconds: number;
  marginSeconds: number;
  retentionDays: number;
  /** Bytes of real export files; file n has size fileSizes[n % length]. */
  fileSizes: number[];
  /** Header bytes of the edge's answers to phones (measured on the real local edge). */
  headerBytes: { notModified: number; index: number; file: number };
  region: string;
  seed: number;
  /** Called after each simulated hour, for progress. */
  onHour?: (hour: number, totalHours: number) => void;
}

export interface FleetCounters {
  clientRequests: number;
  indexRequests: number;
  notModified: number;
  indexDownloads: number;
  fileRequests: number;
  originRequests: number;
  originIndexRequests: number;
  originFileRequests: number;
  originBytes: number;
  bytesToPhones: number;
  publications: number;
  /** Origin requests of each simulated day. */
  originRequestsByDay: number[];
  /** Phones whose state matched the current index at the end (polled since the last publication). */
  phonesInSync: number;
  /** Real requests through the edge cache code (the rest were answered as the group's first). */
  realEdgeRequests: number;
  peakRssBytes: number;
}

/** mulberry32: a small seeded generator, so a run can be repeated. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** When the publisher's runs publish the window ending at `end` (seconds from the start). */
export function publishTimeOf(end: number, config: Pick<FleetConfig, 'marginSeconds' | 'scheduleSeconds'>): number {
  return Math.ceil((end + config.marginSeconds) / config.scheduleSeconds) * config.scheduleSeconds;
}

/** Length of an index line for file `seq`: `v1/{region}/{start}-{end}-00001.zip`. */
function indexLine(path: string): number {
  return path.length - 1; // without the leading "/" (index.txt names paths relative to the root)
}

export async function simulateFleet(config: FleetConfig): Promise<FleetCounters> {
  const startInMs = Date.UTC(2026, 11, 1);
  const t0 = startInMs / 1000;
  const random = seededRandom(config.seed);
  const clock = new VirtualClock(startInMs);
  const filesPerRetention = Math.round((config.retentionDays * DAY) / config.windowSeconds);
  // File seq s covers the window [t0 + (s - filesPerRetention) * window, +window): seq 0..filesPerRetention-1 exist at the start.
  const windowStart = (seq: number) => t0 + (seq - filesPerRetention) * config.windowSeconds;
  const pathOf = (seq: number) => `/v1/${config.region}/${windowStart(seq)}-${windowStart(seq) + config.windowSeconds}-00001.zip`;
  const bodies = config.fileSizes.map((size) => Buffer.alloc(size, 0x5a));
  const origin = new SimOrigin(`/v1/${config.region}/index.txt`, (seq) => bodies[seq % bodies.length], (seq) => (windowStart(seq) + config.windowSeconds) * 1000);
  const lineBytes: number[] = [];
  const indexBytesOf = (first: number, end: number) => {
    let bytes = 0;
    for (let s = first; s < end; s++) bytes += lineBytes[s] + (s > first ? 1 : 0);
    return bytes;
  };
  const addFile = (seq: number) => {
    const path = pathOf(seq);
    origin.addFile(path, seq);
    lineBytes[seq] = indexLine(path);
  };
  for (let s = 0; s < filesPerRetention; s++) addFile(s);
  origin.publishIndex({ version: 0, firstFile: 0, endFile: filesPerRetention, publishedAtInMs: startInMs, indexBytes: indexBytesOf(0, filesPerRetention) });

  const pops = Array.from({ length: config.pops }, () => new PopCache(origin));
  const indexPath = origin.indexPath;

  // Phones: POP, index version held, end of the files held (all files below it).
  const n = config.phones;
  const phonePop = new Uint8Array(n);
  const phoneVersion = new Uint16Array(n);
  const phoneFiles = new Uint16Array(n);
  const next = new Int32Array(n);
  const durationTicks = Math.ceil((config.days * DAY) / config.tickSeconds);
  const ringSize = Math.ceil((config.pollIntervalSeconds * (1 + config.pollJitter)) / config.tickSeconds) + 2;
  const wheel = new Int32Array(ringSize).fill(-1);
  const schedule = (phone: number, tick: number) => {
    const slot = tick % ringSize;
    next[phone] = wheel[slot];
    wheel[slot] = phone;
  };
  for (let p = 0; p < n; p++) {
    phonePop[p] = p % config.pops;
    phoneFiles[p] = filesPerRetention;
    const offset = config.firstPolls === 'even' ? (p * config.pollIntervalSeconds) / n : random() * config.pollIntervalSeconds;
    schedule(p, Math.floor(offset / config.tickSeconds));
  }
  const nextInterval = () => config.pollIntervalSeconds * (1 - config.pollJitter + 2 * config.pollJitter * random());

  const counters: FleetCounters = {
    clientRequests: 0, indexRequests: 0, notModified: 0, indexDownloads: 0, fileRequests: 0,
    originRequests: 0, originIndexRequests: 0, originFileRequests: 0, originBytes: 0, bytesToPhones: 0,
    publications: 0, originRequestsByDay: Array.from({ length: config.days }, () => 0), phonesInSync: 0, realEdgeRequests: 0, peakRssBytes: 0,
  };

  // Answers the cache gave as a hit in the current tick, per POP and path.
  const hitsThisTick: Array<Map<string, EdgeAnswer>> = pops.map(() => new Map());
  /** `count` identical requests at one POP; resolves to the answer they all got. */
  async function requests(pop: number, path: string, count: number): Promise<EdgeAnswer> {
    let answer: EdgeAnswer | undefined;
    for (let left = count; left > 0; ) {
      const hit = hitsThisTick[pop].get(path);
      if (hit) return hit;
      const before = origin.counters.requests;
      answer = await pops[pop].get(path);
      counters.realEdgeRequests += 1;
      left -= 1;
      // The fill reaches the store when its write stream finishes.
      if (answer.miss) await new Promise((resolve) => setImmediate(resolve));
      else if (origin.counters.requests === before) hitsThisTick[pop].set(path, answer);
    }
    return answer as EdgeAnswer;
  }

  let nextWindowEnd = t0 + config.windowSeconds; // the first window closing during the run
  let nextFile = filesPerRetention;
  let version = 0;
  const groupOf = new Map<number, number>();
  let groupPop = new Int32Array(1024);
  let groupVersion = new Int32Array(1024);
  let groupFiles = new Int32Array(1024);
  let groupCount = new Int32Array(1024);
  let groupResultVersion = new Int32Array(1024);
  let groupResultFiles = new Int32Array(1024);
  const growGroups = () => {
    const grow = (a: Int32Array) => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    [groupPop, groupVersion, groupFiles, groupCount, groupResultVersion, groupResultFiles] = [groupPop, groupVersion, groupFiles, groupCount, groupResultVersion, groupResultFiles].map(grow);
  };

  clock.install();
  try {
    for (let tick = 0; tick < durationTicks; tick++) {
      const now = tick * config.tickSeconds;
      clock.set(startInMs + now * 1000);
      const day = Math.min(config.days - 1, Math.floor(now / DAY));
      const originBefore = origin.counters.requests;
      // The publisher: every window closed and due by now is published, then the index is purged at every POP.
      while (publishTimeOf(nextWindowEnd - t0, config) <= now) {
        addFile(nextFile);
        nextFile += 1;
        version += 1;
        const first = Math.max(0, nextFile - filesPerRetention);
        origin.publishIndex({ version, firstFile: first, endFile: nextFile, publishedAtInMs: clock.now(), indexBytes: indexBytesOf(first, nextFile) });
        for (const pop of pops) pop.purge([indexPath, `/v1/${config.region}/index.json`]);
        counters.publications += 1;
        nextWindowEnd += config.windowSeconds;
      }
      for (const map of hitsThisTick) map.clear();
      // Group the phones of this tick by POP and state.
      const slot = tick % ringSize;
      const head = wheel[slot];
      wheel[slot] = -1;
      groupOf.clear();
      let groups = 0;
      for (let p = head; p !== -1; p = next[p]) {
        const key = phonePop[p] * 2 ** 32 + phoneVersion[p] * 2 ** 16 + phoneFiles[p];
        let g = groupOf.get(key);
        if (g === undefined) {
          if (groups === groupPop.length) growGroups();
          g = groups++;
          groupOf.set(key, g);
          groupPop[g] = phonePop[p];
          groupVersion[g] = phoneVersion[p];
          groupFiles[g] = phoneFiles[p];
          groupCount[g] = 0;
        }
        groupCount[g] += 1;
      }
      for (let g = 0; g < groups; g++) {
        const count = groupCount[g];
        const pop = groupPop[g];
        counters.clientRequests += count;
        counters.indexRequests += count;
        const answer = await requests(pop, indexPath, count);
        const served = versionOfEtag(answer.headers.etag);
        groupResultVersion[g] = groupVersion[g];
        groupResultFiles[g] = groupFiles[g];
        if (PopCache.notModified(`"v${groupVersion[g]}"`, answer)) {
          counters.notModified += count;
          counters.bytesToPhones += count * config.headerBytes.notModified;
          continue;
        }
        counters.indexDownloads += count;
        counters.bytesToPhones += count * (config.headerBytes.index + answer.bodyBytes);
        if (served < 0) continue;
        const listed = origin.version(served);
        for (let seq = Math.max(groupFiles[g], listed.firstFile); seq < listed.endFile; seq++) {
          const file = await requests(pop, pathOf(seq), count);
          counters.clientRequests += count;
          counters.fileRequests += count;
          counters.bytesToPhones += count * (config.headerBytes.file + file.bodyBytes);
        }
        groupResultVersion[g] = served;
        groupResultFiles[g] = Math.max(groupFiles[g], listed.endFile);
      }
      // Apply each group's outcome to its phones and schedule their next poll.
      for (let p = head; p !== -1; ) {
        const following = next[p];
        const g = groupOf.get(phonePop[p] * 2 ** 32 + phoneVersion[p] * 2 ** 16 + phoneFiles[p]) as number;
        phoneVersion[p] = groupResultVersion[g];
        phoneFiles[p] = groupResultFiles[g];
        schedule(p, tick + Math.max(1, Math.round(nextInterval() / config.tickSeconds)));
        p = following;
      }
      counters.originRequestsByDay[day] += origin.counters.requests - originBefore;
      if (tick % Math.max(1, Math.round(3600 / config.tickSeconds)) === 0) {
        counters.peakRssBytes = Math.max(counters.peakRssBytes, process.memoryUsage.rss());
        config.onHour?.(Math.round(now / 3600), Math.round((durationTicks * config.tickSeconds) / 3600));
      }
    }
  } finally {
    clock.restore();
  }
  for (let p = 0; p < n; p++) if (phoneVersion[p] === version && phoneFiles[p] === nextFile) counters.phonesInSync += 1;
  counters.originRequests = origin.counters.requests;
  counters.originIndexRequests = origin.counters.indexRequests;
  counters.originFileRequests = origin.counters.fileRequests;
  counters.originBytes = origin.counters.bytes;
  counters.peakRssBytes = Math.max(counters.peakRssBytes, process.memoryUsage.rss());
  return counters;
}
