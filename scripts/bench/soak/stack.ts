/**
 * The soak's stack: the services of `npm start` (Cosmos emulator, API, publisher with Azurite,
 * local edge), in the same order and with the same settings, but each in a process of its own
 * (`service-process.ts`), on fresh loopback ports and a data directory of its own, so that memory
 * and open handles are measured per service. Each service's log (JSON lines on its stdout) is
 * read: lines per level, and the publisher's run lines (duration, outcome, purge).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { STACK_PORTS, type PortName } from '../../local-stack/config';
import { freePorts } from '../../local-stack/ports';
import { childPidsOf } from './memory';
import type { ServiceReply, ServiceRequest, ServiceSample } from './service-process';

/** The services of `npm start` the soak runs (telemetry is off without a connection string). */
export const SOAK_SERVICES = ['cosmos', 'api', 'publisher', 'edge'] as const;
export type SoakServiceName = (typeof SOAK_SERVICES)[number];

/** One publisher run, from its log line. */
export interface PublisherRunLine {
  /** Seconds since the soak began. */
  at: number;
  durationInMs: number;
  failed: boolean;
  files: number;
  keys: number;
  purged: boolean | null;
}

export interface SoakService {
  name: SoakServiceName;
  pid: number;
  /** Log lines by level. */
  logLevels: Record<string, number>;
  /** The first error lines (message only). */
  errorMessages: string[];
  /** The first warnings (message and reason only). */
  warnMessages: string[];
  sample(): Promise<ServiceSample>;
}

export interface SoakStack {
  dataDir: string;
  stack: Record<string, unknown>;
  services: SoakService[];
  publisherRuns: PublisherRunLine[];
  /** Azurite, the publisher service's child. */
  azuritePid(): number | undefined;
  stop(): Promise<void>;
}

const SERVICE_SCRIPT = path.join(__dirname, 'service-process.ts');
const EXIT_WITH_PARENT = path.join(__dirname, '..', '..', 'local-stack', 'exit-with-parent.js');
const TSX = require.resolve('tsx/cjs');
const START_TIMEOUT_IN_MS = 180_000;

/** The next reply of `child` that satisfies `accept`, or a failure after `timeoutInMs`. */
function nextReply<T extends ServiceReply>(child: ChildProcess, accept: (reply: ServiceReply) => reply is T, timeoutInMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what}: no answer in ${timeoutInMs} ms`)), timeoutInMs);
    const onMessage = (reply: ServiceReply) => {
      if (reply.type === 'failed') done(new Error(`${what}: ${reply.message}`));
      else if (accept(reply)) done(undefined, reply);
    };
    const onExit = (code: number | null) => done(new Error(`${what}: the process exited (${code})`));
    function done(error?: Error, reply?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(reply!);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export interface SoakStackOptions {
  dataDir: string;
  publishIntervalInMs: number;
  /** performance.now() when the soak began (publisher runs are timed from it). */
  startedAt: number;
  /** Settings on top of the environment, for every service. */
  settings?: Record<string, string>;
}

export async function startSoakStack(options: SoakStackOptions): Promise<SoakStack> {
  const names = Object.keys(STACK_PORTS) as PortName[];
  const free = await freePorts(names.length);
  const ports = Object.fromEntries(names.map((name, i) => [STACK_PORTS[name].env, String(free[i])])) as Record<string, string>;
  const env = { ...process.env, ...options.settings, ...ports, KEYFRONT_DATA_DIR: options.dataDir };
  const children: ChildProcess[] = [];
  const services: SoakService[] = [];
  const publisherRuns: PublisherRunLine[] = [];
  const stack: Record<string, unknown> = {};
  const stop = async () => {
    for (const child of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' } satisfies ServiceRequest);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    for (const name of SOAK_SERVICES) {
      const child = spawn(process.execPath, ['--require', EXIT_WITH_PARENT, '--require', TSX, SERVICE_SCRIPT], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      children.push(child);
      const service: SoakService = {
        name,
        pid: child.pid!,
        logLevels: {},
        errorMessages: [],
        warnMessages: [],
        sample: async () => {
          const reply = nextReply(child, (r): r is Extract<ServiceReply, { type: 'sample' }> => r.type === 'sample', 10_000, `${name} sample`);
          child.send({ type: 'sample' } satisfies ServiceRequest);
          return (await reply).sample;
        },
      };
      readLog(child, service, publisherRuns, options.startedAt);
      const started = nextReply(child, (r): r is Extract<ServiceReply, { type: 'started' }> => r.type === 'started', START_TIMEOUT_IN_MS, `starting ${name}`);
      child.send({ type: 'start', service: name, stack: { ...stack }, ...(name === 'publisher' ? { publishIntervalInMs: options.publishIntervalInMs } : {}) } satisfies ServiceRequest);
      Object.assign(stack, (await started).stack);
      services.push(service);
    }
    // Every service sees every entry, as with `npm start`'s one stack object.
    for (const child of children) child.send({ type: 'stack', stack } satisfies ServiceRequest);
  } catch (error) {
    await stop();
    throw error;
  }
  const publisherPid = services.find((service) => service.name === 'publisher')!.pid;
  return { dataDir: options.dataDir, stack, services, publisherRuns, azuritePid: () => childPidsOf(publisherPid)[0], stop };
}

interface LogLine {
  level?: string;
  message?: string;
  error?: { message?: string };
  durationInMs?: number;
  regions?: Array<{ status: string; fileCount: number; keyCount: number; purged: boolean | null }>;
}

/** Counts the service's log lines by level; keeps the publisher's run lines. Stderr is counted as errors. */
function readLog(child: ChildProcess, service: SoakService, runs: PublisherRunLine[], startedAt: number): void {
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { level: 'unparsed', message: text.slice(0, 200) };
    }
    const level = line.level ?? 'unparsed';
    service.logLevels[level] = (service.logLevels[level] ?? 0) + 1;
    const said = `${line.message ?? ''}${line.error?.message ? `: ${line.error.message}` : ''}`;
    if ((level === 'error' || level === 'unparsed') && service.errorMessages.length < 10) service.errorMessages.push(said);
    if (level === 'warn' && service.warnMessages.length < 10) service.warnMessages.push(said);
    if (line.message === 'publisher run' && line.regions) {
      runs.push({
        at: (performance.now() - startedAt) / 1000,
        durationInMs: line.durationInMs ?? 0,
        failed: line.regions.some((region) => region.status === 'failed'),
        files: line.regions.reduce((sum, region) => sum + region.fileCount, 0),
        keys: line.regions.reduce((sum, region) => sum + region.keyCount, 0),
        purged: line.regions.some((region) => region.purged === true) ? true : line.regions.some((region) => region.purged === false) ? false : null,
      });
    }
  });
  createInterface({ input: child.stderr! }).on('line', (text) => {
    service.logLevels.stderr = (service.logLevels.stderr ?? 0) + 1;
    if (service.errorMessages.length < 10) service.errorMessages.push(text.slice(0, 200));
  });
}
