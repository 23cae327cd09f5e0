/**
 * Telemetry end to end: the Azure Monitor distro set up as the apps set it up, exporting to the
 * ingestion stand-in over HTTPS; a phone registers and uploads over real HTTP to the local API
 * host (plus a refused upload, chaff, an upload the store fails and a health probe), then a
 * publisher run publishes the keys to Azurite. What arrives is read back: the spans (one per
 * request, one per run, none for the probe), the metrics with their counts and attributes, log
 * lines that carry the trace id of their span, and a scan of every exported byte for key data,
 * secrets, the certificate and the loopback address every client here comes from.
 */
import { createApiRuntime, type ApiRuntime } from '../../api/runtime';
import { StoreUnavailableError } from '../../exposures/exposure-store';
import { MemoryExposureStore } from '../../exposures/memory-store';
import { createLogger } from '../../platform/log';
import { startTelemetry, type Telemetry } from '../../platform/telemetry';
import { decodeBase64 } from '../../proto/tek';
import { publishExports } from '../../publisher/run';
import { recordingCalls, publishWithTelemetry } from '../../publisher/run-telemetry';
import { startApiHost, type ApiHost } from '../../scripts/local-stack/api-host';
import { createApiFixture, dailyKeys, type ApiFixture } from '../support/api-fixture';
import { send, type HttpAnswer } from '../support/http-api';
import { startIngestionStandIn, type ArrivedMetric, type IngestionStandIn } from '../support/ingestion-stand-in';
import { harnessDeps, startPublisherHarness, type PublisherHarness } from '../support/publisher-harness';
import type { UploadKey } from '../../api/upload/upload';

/** Sum of a counter's points whose attributes include `match`. */
function total(metrics: ArrivedMetric[], match: Record<string, string> = {}): number {
  return metrics.filter((m) => Object.entries(match).every(([name, value]) => m.properties[name] === value)).reduce((sum, m) => sum + m.value, 0);
}

describe('telemetry exported to the ingestion stand-in', () => {
  let standIn: IngestionStandIn;
  let telemetry: Telemetry;
  let fixture: ApiFixture;
  let store: MemoryExposureStore;
  let runtime: ApiRuntime;
  let host: ApiHost;
  let harness: PublisherHarness;
  const logs: string[] = [];
  const secrets: string[] = [];
  let keys: UploadKey[];
  const answers: Record<string, HttpAnswer> = {};

  beforeAll(async () => {
    standIn = await startIngestionStandIn();
    telemetry = startTelemetry({ connectionString: standIn.connectionString }, { ca: standIn.ca, offlineStorage: false });
    store = new MemoryExposureStore();
    const now = () => new Date();
    fixture = createApiFixture({ store, now });
    const logger = createLogger('api', { level: 'debug', write: (line) => logs.push(line) });
    runtime = createApiRuntime(fixture.config, { store, now, logger, metrics: telemetry.metrics });
    host = await startApiHost({ runtime });
    harness = await startPublisherHarness();
    const api = (path: string, options: Parameters<typeof send>[3] = {}) => send(host.url, fixture.material.frontDoorId, path, options);

    // Keys whose embargo ended yesterday at the latest, so that the run publishes every one.
    keys = dailyKeys(13, new Date(Date.now() - 86400_000));
    answers.register = await api('/api/v1/register');
    const { userUuid, secret } = answers.register.json as { userUuid: string; secret: string };
    const caller = { authorization: `Bearer ${secret}`, 'x-user-uuid': userUuid };
    const body = await fixture.publishBody(keys);
    answers.stored = await api('/api/v1/publish', { headers: caller, body });
    answers.refused = await api('/api/v1/publish', { headers: caller, body: { ...(await fixture.publishBody(dailyKeys(2, new Date(Date.now() - 86400_000)))), hmacKey: Buffer.from('not the key').toString('base64') } });
    answers.chaff = await api('/api/v1/publish', { headers: { 'x-chaff': '1' }, body: { ...body, verificationPayload: 'x' } });
    const insert = store.insert.bind(store);
    store.insert = async () => {
      throw new StoreUnavailableError('the store is down');
    };
    answers.failed = await api('/api/v1/publish', { headers: caller, body: await fixture.publishBody(dailyKeys(3, new Date(Date.now() - 86400_000))) });
    store.insert = insert;
    answers.health = await api('/api/health', { method: 'GET' });
    secrets.push(secret, userUuid, String(body.verificationPayload), String(body.hmacKey), String(answers.stored.json.revisionToken));

    const publisherLogger = createLogger('publisher', { level: 'info', write: (line) => logs.push(line) });
    const deps = recordingCalls(harnessDeps(harness, store, { windowSeconds: 60, safetyMarginSeconds: 5 }, { logger: publisherLogger }), telemetry.metrics);
    // `now` ahead only closes the window of the uploads; their embargo ended by the wall clock.
    await publishWithTelemetry(() => publishExports(deps, { now: new Date(Date.now() + 180_000) }), { metrics: telemetry.metrics, logger: publisherLogger });
    await telemetry.shutdown();
  }, 120_000);

  afterAll(async () => {
    await telemetry?.shutdown();
    await host?.stop();
    await harness?.stop();
    await standIn?.stop();
  });

  it('answered the requests as a phone sees them', () => {
    expect([answers.register.status, answers.stored.status, answers.refused.status, answers.chaff.status, answers.failed.status, answers.health.status]).toEqual([201, 200, 401, 200, 503, 200]);
    expect(answers.stored.json.insertedExposures).toBe(13);
  });

  it('exports one request span per API request, none for the health probe, and one per publisher run', () => {
    const requests = standIn.spans().filter((span) => span.type === 'RequestData');
    const names = requests.map((span) => span.name).sort();
    expect(names).toEqual(['POST /api/v1/publish', 'POST /api/v1/publish', 'POST /api/v1/publish', 'POST /api/v1/publish', 'POST /api/v1/register', 'publish exports']);
    const codes = requests.filter((span) => span.name === 'POST /api/v1/publish').map((span) => [span.responseCode, span.properties['keyfront.code'], span.success]);
    // A refusal is an answer; only the store's failure is a failed request.
    expect(codes.sort()).toEqual([['200', undefined, true], ['200', undefined, true], ['401', 'health_authority_verification_certificate_invalid', true], ['503', 'store_unavailable', false]].sort());
    const run = requests.find((span) => span.name === 'publish exports')!;
    expect(run.properties).toMatchObject({ 'keyfront.regions': '1', 'keyfront.files': '1', 'keyfront.keys': '13' });
    expect(run.success).toBe(true);
  });

  it('exports the upload and register figures with their result, code and reason', () => {
    const uploads = standIn.metrics('keyfront.uploads');
    expect(total(uploads)).toBe(4);
    expect(total(uploads, { result: 'stored', code: 'ok' })).toBe(1);
    expect(total(uploads, { result: 'chaff', code: 'ok' })).toBe(1);
    expect(total(uploads, { result: 'refused', code: 'health_authority_verification_certificate_invalid' })).toBe(1);
    expect(total(uploads, { result: 'failed', code: 'store_unavailable' })).toBe(1);
    expect(total(standIn.metrics('keyfront.register'), { result: 'issued', code: 'ok' })).toBe(1);
    expect(standIn.metrics('keyfront.certificate.failures').map((m) => [m.properties.reason, m.value])).toEqual([['tekmac', 1]]);
    const inserted = standIn.metrics('keyfront.upload.keys').filter((m) => m.properties.kind === 'inserted');
    expect(inserted.map((m) => [m.value, m.count])).toEqual([[13, 1]]);
    expect(standIn.metrics('keyfront.store.errors').map((m) => [m.properties.operation, m.properties.error, m.value])).toEqual([['insert', 'StoreUnavailableError', 1]]);
  });

  it('exports the publisher run figures: files, keys, lag, duration, purge', () => {
    expect(total(standIn.metrics('keyfront.publish.runs'), { region: '440', status: 'done' })).toBe(1);
    expect(total(standIn.metrics('keyfront.publish.files'), { region: '440' })).toBe(1);
    expect(total(standIn.metrics('keyfront.publish.keys'), { region: '440' })).toBe(13);
    const lag = standIn.metrics('keyfront.publish.lag');
    expect(lag).toHaveLength(1);
    // From the upload (the keys' publishAt) to the run's end: seconds here, never negative.
    expect(lag[0].value).toBeGreaterThanOrEqual(0);
    expect(lag[0].value).toBeLessThan(60);
    expect(standIn.metrics('keyfront.publish.duration').map((m) => m.count)).toEqual([1]);
    expect(total(standIn.metrics('keyfront.purge.attempts'), { region: '440' })).toBe(1);
    expect(standIn.metrics('keyfront.purge.failures')).toEqual([]);
    expect(standIn.metrics('keyfront.blob.errors')).toEqual([]);
  });

  it('writes log lines that carry the trace id of their operation', () => {
    const lines = logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requestSpans = new Set(standIn.spans().filter((span) => span.type === 'RequestData').map((span) => span.operationId));
    const uploadLines = lines.filter((line) => line.message === 'request' && line.function === 'publish');
    expect(uploadLines).toHaveLength(4);
    for (const line of uploadLines) expect(requestSpans.has(String(line.traceId))).toBe(true);
    const runLine = lines.find((line) => line.message === 'publisher run')!;
    expect(requestSpans.has(String(runLine.traceId))).toBe(true);
    expect(runLine.regions).toEqual([expect.objectContaining({ region: '440', status: 'done', fileCount: 1, keyCount: 13, purged: true })]);
    // The probe is logged at debug, without a trace.
    const probe = lines.find((line) => line.function === 'health')!;
    expect([probe.level, probe.traceId]).toEqual(['debug', undefined]);
  });

  it('exports no key data, secret, token, certificate or client address', () => {
    const exported = standIn.bodies.join('\n');
    expect(exported.length).toBeGreaterThan(1000);
    const forbidden = [...secrets, '127.0.0.1'];
    for (const key of keys) {
      const bytes = decodeBase64(key.key)!;
      forbidden.push(key.key, Buffer.from(bytes).toString('hex'), Buffer.from(bytes).toString('base64url'));
    }
    const found = forbidden.filter((text) => exported.includes(text));
    expect(found).toEqual([]);
  });
});
