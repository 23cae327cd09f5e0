import type { RegionOutcome } from '../../publisher/run';
import { summaryOf } from './publish';

const outcome = (rangesPublished: number, files: number): RegionOutcome => ({ region: '440', status: 'done', rangesPublished, filesWritten: Array.from({ length: files }, (_, i) => `v1/440/f-${i}.zip`), deadlineReached: false, indexChanged: rangesPublished > 0, purged: null, purgeAttempts: 0, filesDeleted: 0, keysDeleted: 0, publishedThrough: null, keysPublished: 0, revisedKeysPublished: 0, newestPublishAt: null, filesAwaitingReplication: 0 });

describe('summaryOf', () => {
  it.each([
    [outcome(1, 1), true, 'region 440: published 1 window (1 file); the index names them'],
    [outcome(2, 3), false, 'region 440: published 2 windows (3 files); the index names them'],
    [outcome(0, 0), true, "region 440: nothing new to publish: every closed window is already in the index (the local stack's publisher runs every 30 s and may have published it first)"],
    [outcome(0, 0), false, 'region 440: nothing new to publish: every closed window is already in the index'],
  ])('says what the run did in one sentence (%#)', (result, localStack, sentence) => {
    expect(summaryOf(result, localStack)).toBe(sentence);
  });
});
