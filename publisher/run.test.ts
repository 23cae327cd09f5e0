/**
 * A run killed between any two steps, and resumed: on memory parts, the run crashes at every step
 * boundary it crosses (each occurrence of each, through publishing, unlisting, deleting files and
 * deleting keys). Right after each crash the index names only existing, complete files and no key
 * is in two files; the next run finishes the job, and in the end every stored key was published
 * exactly once and everything left storage on time. Both privacy floors: `pad` (a file per window)
 * and `hold` (the second window's keys, below the floor, wait over a run for the third window's).
 */
import { INDEX_CACHE_GRACE_SECONDS } from './index-file';
import { createMemoryPublisher, type MemoryPublisher } from './memory-publisher';
import { readManifest } from './manifest';
import type { PublisherSettings } from './publisher-deps';
import { publishExports, type PublishOptions } from './run';
import type { PublishStep } from './steps';
import { DAY, expectComplete, expectConsistent, exposuresInWindow, hex, HOUR, readPublished, RecordingPurger, T0, TEST_SETTINGS } from '../test/support/publisher-harness';

const REGION = '440';
/**
 * Publish the first two windows (hold: the first, the second's keys held), then the third (hold: with
 * the held ones), unlist past the file retention, delete a cache lifetime after the purge, delete old keys.
 */
const PHASES = [T0 + 2 * HOUR + 300, T0 + 3 * HOUR + 300, T0 + 3 * HOUR + 14 * DAY + 1, T0 + 3 * HOUR + 14 * DAY + 1 + INDEX_CACHE_GRACE_SECONDS, T0 + 3 * HOUR + 15 * DAY];
const [, PUBLISHED, UNLISTED, DELETED] = PHASES.keys();

interface Crash {
  phase: number;
  step: PublishStep;
  occurrence: number;
}

async function seeded(settings: PublisherSettings): Promise<{ publisher: MemoryPublisher; keys: string[]; ids: string[] }> {
  const publisher = await createMemoryPublisher(settings, { purger: new RecordingPurger() });
  const exposures = [...exposuresInWindow(REGION, T0, 9), ...exposuresInWindow(REGION, T0 + HOUR, 2), ...exposuresInWindow(REGION, T0 + 2 * HOUR, 5)];
  await publisher.store.insert(exposures);
  return { publisher, keys: exposures.map((e) => hex(e.tek.keyData)), ids: exposures.map((e) => e.id) };
}

/** The wall clock stands at `now`: the clean-up grace counts by it. */
const at = (now: number, onStep?: PublishOptions['onStep']): PublishOptions => ({ now: new Date(now * 1000), wallClock: () => now * 1000, onStep });

/** Every boundary a run without crashes crosses, phase by phase, each with its occurrence. */
async function boundaries(settings: PublisherSettings): Promise<Crash[]> {
  const { publisher } = await seeded(settings);
  const crossed: Crash[] = [];
  for (const [phase, now] of PHASES.entries()) {
    const counts = new Map<PublishStep, number>();
    const outcome = await publishExports(publisher, at(now, (step) => void crossed.push({ phase, step, occurrence: counts.set(step, (counts.get(step) ?? 0) + 1).get(step)! })));
    expect(outcome.regions[0].status).toBe('done');
  }
  return crossed;
}

/** Crashes at `crash`, checks storage right after, resumes, and follows the remaining phases to the end. */
async function crashAndResume(settings: PublisherSettings, crash: Crash): Promise<void> {
  const { publisher, keys, ids } = await seeded(settings);
  const seen = new Map<string, string>();
  let crashed = false;
  for (const [phase, now] of PHASES.entries()) {
    let count = 0;
    const onStep = (step: PublishStep) => {
      if (phase === crash.phase && step === crash.step && ++count === crash.occurrence) throw new Error(`killed at ${step} #${crash.occurrence}`);
    };
    const run = await publishExports(publisher, at(now, onStep));
    await expectConsistent(await readPublished(publisher.exports, REGION), publisher.publicKey, seen);
    if (run.regions[0].status === 'failed') {
      crashed = true;
      expect(run.regions[0].error).toBe(`killed at ${crash.step} #${crash.occurrence}`);
      const resumed = await publishExports(publisher, at(now));
      expect(resumed.regions[0].status).toBe('done');
      await expectConsistent(await readPublished(publisher.exports, REGION), publisher.publicKey, seen);
    }
    const view = await readPublished(publisher.exports, REGION);
    if (phase === PUBLISHED) {
      expectComplete(view, { keys });
      expect((await readManifest(publisher.state, REGION)).manifest.purgePending).toBe(false);
    }
    if (phase === UNLISTED) expect({ index: view.indexTxt, files: view.files.size }).toEqual({ index: '', files: seen.size });
    if (phase === DELETED) expect({ files: view.files.size, ranges: (await readManifest(publisher.state, REGION)).manifest.ranges }).toEqual({ files: 0, ranges: [] });
  }
  expect(await publisher.store.get(REGION, ids)).toEqual([]);
  expect(crashed).toBe(true);
}

const KINDS: PublishStep[] = ['locked', 'file-written', 'range-recorded', 'files-done', 'index-txt-written', 'index-written', 'purged', 'file-deleted', 'files-deleted', 'keys-deleted'];

/** Several files per window (4 keys each), padding on the small ones; in hold mode the 2 keys of the second window are below the floor. */
describe.each([
  ['pad', { ...TEST_SETTINGS, maxKeysPerFile: 4, minKeysPerFile: 3, paddingJitter: 1 }],
  ['hold', { ...TEST_SETTINGS, privacyFloor: 'hold', maxKeysPerFile: 4, minKeysPerFile: 3, paddingJitter: 1 }],
] satisfies [string, PublisherSettings][])('privacy floor %s', (_floor, settings) => {
  let crashes: Crash[] = [];

  beforeAll(async () => {
    crashes = await boundaries(settings);
  });

  it('crosses every kind of step boundary over the phases, and several files are written', () => {
    expect(new Set(crashes.map((c) => c.step))).toEqual(new Set(KINDS));
    expect(crashes.filter((c) => c.step === 'file-written').length).toBeGreaterThanOrEqual(5);
  });

  it.each(KINDS)('killed at each %s boundary of any phase (every occurrence), the next run finishes the job', async (kind) => {
    const cases = crashes.filter((c) => c.step === kind);
    expect(cases.length).toBeGreaterThan(0);
    for (const crash of cases) await crashAndResume(settings, crash);
  });
});

it('in hold mode the first phase leaves the second window held, and the second publishes it with the third', async () => {
  const { publisher } = await seeded({ ...TEST_SETTINGS, privacyFloor: 'hold', maxKeysPerFile: 4, minKeysPerFile: 3, paddingJitter: 1 });
  const first = await publishExports(publisher, at(PHASES[0]));
  expect(first.regions[0]).toMatchObject({ status: 'done', heldSince: T0 + HOUR, publishedThrough: T0 + HOUR });
  const second = await publishExports(publisher, at(PHASES[1]));
  expect(second.regions[0].filesWritten).toEqual([`v1/${REGION}/${T0 + HOUR}-${T0 + 3 * HOUR}-00001.zip`, `v1/${REGION}/${T0 + HOUR}-${T0 + 3 * HOUR}-00002.zip`]);
});
