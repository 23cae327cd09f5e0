import { MAX_CHAFF_DELAY_MS, UploadLatencies } from './chaff-latency';

describe('UploadLatencies', () => {
  it('has nothing to imitate before the first real upload', () => {
    expect(new UploadLatencies().sample()).toBe(0);
  });

  it('samples the durations of recent real uploads, each with equal chance', () => {
    const latencies = new UploadLatencies(4);
    for (const ms of [10, 20, 30, 40]) latencies.record(ms);
    expect([0, 0.25, 0.5, 0.99].map((r) => latencies.sample(() => r))).toEqual([10, 20, 30, 40]);
  });

  it('keeps only the most recent durations, and ignores nonsense', () => {
    const latencies = new UploadLatencies(2);
    for (const ms of [10, 20, 30, Number.NaN, -1]) latencies.record(ms);
    expect([0, 0.5].map((r) => latencies.sample(() => r)).sort()).toEqual([20, 30]);
  });

  it('never asks a chaff answer to wait longer than the cap', () => {
    const latencies = new UploadLatencies();
    latencies.record(60_000);
    expect(latencies.sample()).toBe(MAX_CHAFF_DELAY_MS);
  });
});
