import { createLogger } from '../platform/log';
import { noopMetrics, type Metrics, type RegionRunFigures } from '../platform/metrics';
import { publishWithTelemetry, regionFigures } from './run-telemetry';
import type { PublishRun, RegionOutcome } from './run';

function outcome(fields: Partial<RegionOutcome> = {}): RegionOutcome {
  return { region: '440', status: 'done', rangesPublished: 1, filesWritten: ['v1/440/1-2-00001.zip'], keysPublished: 12, revisedKeysPublished: 2, newestPublishAt: 1_000_000, deadlineReached: false, indexChanged: true, purged: true, purgeAttempts: 1, filesDeleted: 0, keysDeleted: 3, publishedThrough: 2, filesAwaitingReplication: 0, ...fields };
}

describe('regionFigures', () => {
  it('counts the lag from the newest published key to the end of the run', () => {
    expect(regionFigures(outcome(), 1_000_900_400)).toEqual({ region: '440', status: 'done', fileCount: 1, keyCount: 14, lagSeconds: 900, purged: true, filesDeleted: 0, keysDeleted: 3 });
  });

  it.each([
    ['nothing was published', { filesWritten: [], keysPublished: 0, revisedKeysPublished: 0, newestPublishAt: null }],
    ['the region failed before its index was written', { status: 'failed' as const }],
  ])('has no lag when %s', (_name, fields) => {
    expect(regionFigures(outcome(fields), 1_000_900_000)).not.toHaveProperty('lagSeconds');
  });
});

describe('publishWithTelemetry', () => {
  function recorder() {
    const regions: RegionRunFigures[] = [];
    const durations: number[] = [];
    const metrics: Metrics = { ...noopMetrics, publishRegion: (figures) => void regions.push(figures), publishRun: (seconds) => void durations.push(seconds) };
    return { metrics, regions, durations };
  }

  it('records each region and the run, and writes one info line with the figures', async () => {
    const { metrics, regions, durations } = recorder();
    const lines: string[] = [];
    const clock = [1_000_000_000, 1_000_002_500];
    const run: PublishRun = { now: 1_000_000, regions: [outcome(), outcome({ region: 'DE', status: 'busy', filesWritten: [], keysPublished: 0, revisedKeysPublished: 0, newestPublishAt: null, purged: null })] };
    const result = await publishWithTelemetry(async () => run, { metrics, logger: createLogger('publisher', { write: (line) => lines.push(line) }), now: () => clock.shift()! });
    expect(result).toBe(run);
    expect(regions.map((r) => [r.region, r.status, r.fileCount, r.lagSeconds])).toEqual([['440', 'done', 1, 3], ['DE', 'busy', 0, undefined]]); // 2.5 s, rounded
    expect(durations).toEqual([2.5]);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'info', message: 'publisher run', durationInMs: 2500, regions: [{ region: '440', fileCount: 1, keyCount: 14 }, { region: 'DE', status: 'busy' }] });
  });

  it('lets a run that throws fail as before, recording nothing', async () => {
    const { metrics, regions, durations } = recorder();
    await expect(publishWithTelemetry(async () => Promise.reject(new Error('no store')), { metrics, logger: createLogger('publisher', { write: () => undefined }) })).rejects.toThrow('no store');
    expect([regions, durations]).toEqual([[], []]);
  });
});
