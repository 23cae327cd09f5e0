/**
 * Memory of the soak's processes, read by the soak from outside (Linux `/proc`): the resident set
 * of any process by pid, and the children of a process (Azurite is the publisher service's child).
 * Then the figures the issue asks for: RSS at start and end, and its growth after the warm-up.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { median } from './routes';

/** Resident set size in bytes (`VmRSS`), `undefined` when the process is gone. */
export function rssOf(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Pids of the direct children of `pid`. */
export function childPidsOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
        .split(' ')
        .filter((field) => field.trim() !== '')
        .map(Number),
    );
  } catch {
    return [];
  }
}

export interface RssSample {
  /** Seconds since the soak began. */
  at: number;
  bytes: number;
}

export interface RssFigures {
  startMiB: number;
  /** Median over the window that starts with the end of the warm-up. */
  afterWarmUpMiB: number;
  /** Median over the window that ends the load. */
  endMiB: number;
  peakMiB: number;
  /** From after the warm-up to the end, in percent. */
  growthAfterWarmUpPercent: number;
}

const MIB = 1024 * 1024;
const mib = (bytes: number) => Math.round((bytes / MIB) * 10) / 10;

/**
 * The figures of one process's samples: medians over `windowSeconds` right after `warmUpEndsAt` and
 * right before `loadEndsAt`, so that one garbage collection does not make or hide a trend.
 */
export function rssFigures(samples: readonly RssSample[], warmUpEndsAt: number, loadEndsAt: number, windowSeconds: number): RssFigures | undefined {
  const during = samples.filter((sample) => sample.at <= loadEndsAt);
  if (during.length === 0) return undefined;
  const inWindow = (from: number, to: number) => during.filter((sample) => sample.at >= from && sample.at <= to).map((sample) => sample.bytes);
  const afterWarmUp = median(inWindow(warmUpEndsAt, warmUpEndsAt + windowSeconds)) ?? during[0].bytes;
  const end = median(inWindow(loadEndsAt - windowSeconds, loadEndsAt)) ?? during.at(-1)!.bytes;
  return {
    startMiB: mib(during[0].bytes),
    afterWarmUpMiB: mib(afterWarmUp),
    endMiB: mib(end),
    peakMiB: mib(Math.max(...during.map((sample) => sample.bytes))),
    growthAfterWarmUpPercent: Math.round(((end - afterWarmUp) / afterWarmUp) * 1000) / 10,
  };
}
