/**
 * The fleet simulation's counters against a case small enough to work out by hand: 4 phones on
 * 2 POPs polling every 6 hours without jitter (first polls at 0, 1.5, 3 and 4.5 h; phone i on
 * POP i % 2), one file per 6-hour window published at 6:15, 12:15 and 18:15, over one day.
 *
 * POP 0 (phones 0 and 2) sees index polls at 0, 3, 6, 9, 12, 15, 18, 21 h; POP 1 at 1.5, 4.5, ...
 * 22.5 h. The index lives an hour at the edge (s-maxage=3600) and polls are 3 h apart, so each of
 * the 16 polls misses: 16 origin index requests. The answers: phone 0 has nothing new at 0 and 6
 * (304, 304), gets file A at 12 and B at 18; phone 2: 304 at 3, A at 9, B at 15, C at 21; phone 1:
 * 304 at 1.5, A at 7.5, B at 13.5, C at 19.5; phone 3: 304 at 4.5, A at 10.5, B at 16.5, C at 22.5.
 * Files: POP 0 misses A at 9, B at 15, C at 21 and hits A at 12, B at 18; POP 1 misses A, B, C at
 * 7.5, 13.5, 19.5 and hits them at 10.5, 16.5, 22.5. So: 16 index requests (5 answered 304,
 * 11 with the index), 11 file requests, 27 in all; 16 + 6 = 22 reach the origin.
 */
import { simulateFleet, type FleetConfig } from '../../scripts/bench/fleet/simulate';

const HAND_CASE: FleetConfig = {
  phones: 4,
  pops: 2,
  days: 1,
  pollIntervalSeconds: 6 * 3600,
  pollJitter: 0,
  firstPolls: 'even',
  tickSeconds: 60,
  windowSeconds: 6 * 3600,
  scheduleSeconds: 900,
  marginSeconds: 300,
  retentionDays: 14,
  fileSizes: [1000],
  headerBytes: { notModified: 300, index: 400, file: 500 },
  region: '440',
  seed: 1,
};

describe('the fleet simulation', () => {
  it('counts a small case as worked out by hand', async () => {
    const counters = await simulateFleet(HAND_CASE);
    expect(counters).toMatchObject({
      publications: 3,
      indexRequests: 16,
      notModified: 5,
      indexDownloads: 11,
      fileRequests: 11,
      clientRequests: 27,
      originIndexRequests: 16,
      originFileRequests: 6,
      originRequests: 22,
      originRequestsByDay: [22],
      phonesInSync: 3,
    });
    // Bytes to phones: 5 x 304 + 11 index answers (header + body) + 11 files (header + 1000).
    const indexBody = 56 * 38 + 55; // 56 lines of "v1/440/{10 digits}-{10 digits}-00001.zip", newline-separated
    expect(counters.bytesToPhones).toBe(5 * 300 + 11 * (400 + indexBody) + 11 * 1500);
  });

  it('sends one real request per distinct request of a tick, however many phones send it', async () => {
    const few = await simulateFleet({ ...HAND_CASE, phones: 2, pops: 1, firstPolls: 'even', pollIntervalSeconds: 3600, tickSeconds: 3600, days: 1 });
    const many = await simulateFleet({ ...HAND_CASE, phones: 2000, pops: 1, firstPolls: 'even', pollIntervalSeconds: 3600, tickSeconds: 3600, days: 1 });
    expect(many.clientRequests).toBe(1000 * few.clientRequests);
    expect(many.originRequests).toBe(few.originRequests);
    expect(many.realEdgeRequests).toBe(few.realEdgeRequests);
  });
});
