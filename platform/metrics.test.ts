import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { createMetrics, METRIC, noopMetrics } from './metrics';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

interface Point {
  name: string;
  unit: string;
  attributes: Record<string, unknown>;
  value: unknown;
}

function points(resourceMetrics: ResourceMetrics): Point[] {
  return resourceMetrics.scopeMetrics.flatMap((scope) =>
    scope.metrics.flatMap((metric) => metric.dataPoints.map((point) => ({ name: metric.descriptor.name, unit: metric.descriptor.unit, attributes: point.attributes, value: point.value as unknown }))),
  );
}

describe('metrics', () => {
  it('names every instrument keyfront.* once, with a unit and a description', () => {
    const names = Object.values(METRIC).map((metric) => metric.name);
    expect(new Set(names).size).toBe(names.length);
    for (const metric of Object.values(METRIC)) {
      expect(metric.name).toMatch(/^keyfront\.[a-z]+(\.[a-z]+)*$/);
      expect(metric.unit).toMatch(/^(s|\{[a-z]+\})$/);
      expect(metric.description.length).toBeGreaterThan(20);
    }
  });

  it('records uploads, keys, register calls, certificate failures and attestations with their attributes', async () => {
    const reader = new TestReader();
    const metrics = createMetrics(new MeterProvider({ readers: [reader] }).getMeter('test'));
    metrics.upload('stored', 'ok');
    metrics.upload('refused', 'too_many_keys');
    metrics.upload('refused', 'too_many_keys');
    metrics.uploadKeys(14, 0);
    metrics.register('issued', 'ok');
    metrics.certificateFailure('expired');
    metrics.attestation('enforce', 'ios', 'attestation_nonce_mismatch');
    metrics.attestation('report', 'none', 'attestation_required');
    metrics.storeError('insert', 'StoreUnavailableError');
    const recorded = points((await reader.collect()).resourceMetrics);
    const of = (name: string) => recorded.filter((point) => point.name === name);
    expect(of('keyfront.uploads').map((p) => [p.attributes, p.value]).sort()).toEqual([[{ result: 'refused', code: 'too_many_keys' }, 2], [{ result: 'stored', code: 'ok' }, 1]].sort());
    expect(of('keyfront.upload.keys')).toEqual([expect.objectContaining({ unit: '{key}', attributes: { kind: 'inserted' }, value: expect.objectContaining({ count: 1, sum: 14 }) })]);
    expect(of('keyfront.register').map((p) => [p.attributes, p.value])).toEqual([[{ result: 'issued', code: 'ok' }, 1]]);
    expect(of('keyfront.certificate.failures').map((p) => [p.attributes, p.value])).toEqual([[{ reason: 'expired' }, 1]]);
    expect(of('keyfront.attestations').map((p) => [p.attributes, p.value])).toEqual([
      [{ mode: 'enforce', platform: 'ios', code: 'attestation_nonce_mismatch' }, 1],
      [{ mode: 'report', platform: 'none', code: 'attestation_required' }, 1],
    ]);
    expect(of('keyfront.store.errors').map((p) => [p.attributes, p.value])).toEqual([[{ operation: 'insert', error: 'StoreUnavailableError' }, 1]]);
  });

  it("records a region's run: files, keys, lag, purge, deletions; zeros too, and nothing but the run for a busy region", async () => {
    const reader = new TestReader();
    const metrics = createMetrics(new MeterProvider({ readers: [reader] }).getMeter('test'));
    metrics.publishRegion({ region: '440', status: 'done', fileCount: 2, keyCount: 1500, lagSeconds: 900, purged: false, filesDeleted: 3, keysDeleted: 0 });
    metrics.publishRegion({ region: 'DE', status: 'busy', fileCount: 0, keyCount: 0, purged: null, filesDeleted: 0, keysDeleted: 0 });
    metrics.publishRun(12.5);
    const recorded = points((await reader.collect()).resourceMetrics);
    const of = (name: string) => recorded.filter((point) => point.name === name).map((p) => [p.attributes, p.value]);
    expect(of('keyfront.publish.runs').sort()).toEqual([[{ region: '440', status: 'done' }, 1], [{ region: 'DE', status: 'busy' }, 1]].sort());
    expect(of('keyfront.publish.files').sort()).toEqual([[{ region: '440' }, 2], [{ region: 'DE' }, 0]].sort());
    expect(of('keyfront.publish.keys').sort()).toEqual([[{ region: '440' }, 1500], [{ region: 'DE' }, 0]].sort());
    expect(of('keyfront.publish.lag')).toEqual([[{ region: '440' }, expect.objectContaining({ count: 1, sum: 900 })]]);
    expect(of('keyfront.purge.attempts')).toEqual([[{ region: '440' }, 1]]);
    expect(of('keyfront.purge.failures')).toEqual([[{ region: '440' }, 1]]);
    expect(of('keyfront.cleanup.deletions')).toEqual([[{ region: '440', kind: 'file' }, 3]]);
    expect(of('keyfront.publish.duration')).toEqual([[{}, expect.objectContaining({ count: 1, sum: 12.5 })]]);
  });

  it('times store and blob calls by operation and result, counts their errors, and counts signing failures', async () => {
    const reader = new TestReader();
    const metrics = createMetrics(new MeterProvider({ readers: [reader] }).getMeter('test'));
    metrics.storeCall('insert', 0.02);
    metrics.storeCall('insert', 0.5, 'StoreUnavailableError');
    metrics.blobCall('write', 0.1);
    metrics.signingFailure('RestError');
    const recorded = points((await reader.collect()).resourceMetrics);
    const of = (name: string) => recorded.filter((point) => point.name === name).map((p) => [p.unit, p.attributes, p.value]);
    expect(of('keyfront.store.duration')).toEqual(expect.arrayContaining([
      ['s', { operation: 'insert', result: 'failed' }, expect.objectContaining({ count: 1, sum: 0.5 })],
      ['s', { operation: 'insert', result: 'ok' }, expect.objectContaining({ count: 1, sum: 0.02 })],
    ]));
    expect(of('keyfront.store.duration')).toHaveLength(2);
    expect(of('keyfront.store.errors')).toEqual([['{error}', { operation: 'insert', error: 'StoreUnavailableError' }, 1]]);
    expect(of('keyfront.blob.duration')).toEqual([['s', { operation: 'write', result: 'ok' }, expect.objectContaining({ count: 1, sum: 0.1 })]]);
    expect(of('keyfront.blob.errors')).toEqual([]);
    expect(of('keyfront.signing.failures')).toEqual([['{call}', { error: 'RestError' }, 1]]);
  });

  it("records each region's last success time at every run of it, and none before its first success", async () => {
    const reader = new TestReader();
    const metrics = createMetrics(new MeterProvider({ readers: [reader] }).getMeter('test'));
    const run = (region: string, status: 'done' | 'failed', endedAtInMs: number) => metrics.publishRegion({ region, status, fileCount: 0, keyCount: 0, purged: null, filesDeleted: 0, keysDeleted: 0 }, endedAtInMs);
    run('440', 'done', 1_000_000_000_400);
    run('441', 'failed', 1_000_000_000_400);
    const gauge = async () => points((await reader.collect()).resourceMetrics).filter((point) => point.name === 'keyfront.publish.success.time').map((p) => [p.attributes, p.value]);
    expect(await gauge()).toEqual([[{ region: '440' }, 1_000_000_000]]);
    // Failing since: the time stays that of the last success, so its age grows.
    run('440', 'failed', 1_000_000_900_000);
    expect(await gauge()).toEqual([[{ region: '440' }, 1_000_000_000]]);
  });

  it("records a peer's import: runs by status, files by result and code, new keys, and its last complete import's time", async () => {
    const reader = new TestReader();
    const metrics = createMetrics(new MeterProvider({ readers: [reader] }).getMeter('test'));
    metrics.peerImport({ peer: 'de', status: 'done', files: [{ status: 'imported' }, { status: 'refused', code: 'wrong_region' }], keysNew: 7 }, 1_000_000_000_000);
    metrics.peerImport({ peer: 'de', status: 'behind', files: [{ status: 'deferred', code: 'file_missing' }], keysNew: 0 }, 1_000_000_900_000);
    const recorded = points((await reader.collect()).resourceMetrics);
    const of = (name: string) => recorded.filter((point) => point.name === name).map((p) => [p.attributes, p.value]);
    expect(of('keyfront.federation.runs')).toEqual(expect.arrayContaining([[{ peer: 'de', status: 'done' }, 1], [{ peer: 'de', status: 'behind' }, 1]]));
    expect(of('keyfront.federation.files')).toEqual(
      expect.arrayContaining([
        [{ peer: 'de', result: 'imported', code: 'ok' }, 1],
        [{ peer: 'de', result: 'refused', code: 'wrong_region' }, 1],
        [{ peer: 'de', result: 'deferred', code: 'file_missing' }, 1],
      ]),
    );
    expect(of('keyfront.federation.keys')).toEqual([[{ peer: 'de' }, 7]]);
    expect(of('keyfront.federation.success.time')).toEqual([[{ peer: 'de' }, 1_000_000_000]]);
  });

  it('noopMetrics records nothing and costs nothing to call', () => {
    for (const method of Object.values(noopMetrics)) expect((method as () => unknown)()).toBeUndefined();
  });
});
