/**
 * The publisher of a local drill: a run every interval with the drill's publisher clock, each run
 * recorded (when, whether it finished). Its dependencies can be swapped between runs, as an
 * operator re-points the publisher at a promoted storage account.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { PublisherDeps } from '../../../publisher/publisher-deps';
import { publishExports } from '../../../publisher/run';
import { drillPublishNow } from './drill-stack';

export interface PublishRunEvent {
  at: number;
  ok: boolean;
  files: number;
}

export class PublisherLoop {
  readonly runs: PublishRunEvent[] = [];
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private current = new AbortController();

  constructor(
    public deps: PublisherDeps,
    private readonly intervalInMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.runOnce();
        await sleep(this.intervalInMs);
      }
    })();
  }

  /** One run now; resolves whether it finished (a failed run is recorded, never thrown). */
  async runOnce(): Promise<boolean> {
    this.current = new AbortController();
    const event = await publishExports(this.deps, { now: drillPublishNow(), abortSignal: this.current.signal, waitForLockInMs: 5000 }).then(
      (run) => ({ at: Date.now(), ok: run.regions.every((region) => region.status === 'done'), files: run.regions.reduce((sum, region) => sum + region.filesWritten.length, 0) }),
      () => ({ at: Date.now(), ok: false, files: 0 }),
    );
    this.runs.push(event);
    return event.ok;
  }

  /** Cuts a run that hangs on a dead dependency short (it fails cleanly; the next run finishes the job). */
  abortRun(): void {
    this.current.abort();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.current.abort();
    await this.loop;
  }

  /** The first run that finished at or after `since`, or `undefined`. */
  firstOkSince(since: number): number | undefined {
    return this.runs.find((run) => run.ok && run.at >= since)?.at;
  }

  get filesWritten(): number {
    return this.runs.reduce((sum, run) => sum + run.files, 0);
  }
}
