/**
 * Nothing of a phone in the telemetry of the deployed API: the api package, loaded as the Functions
 * host loads it (functions-host-stand-in.ts) with App Insights on, answers a register call and an
 * upload with a known key, certificate and client address, forwarded as Front Door forwards them
 * (X-Forwarded-For, X-Azure-ClientIP...). Everything the ingestion stand-in then received, from the
 * app (the distro) and from the host as its packaged host.json makes it send (functions-host-telemetry.ts),
 * is scanned: no key data, secret, user UUID, certificate or client address, and no location.
 * The same telemetry shows that the app's lines arrive (Host.Function.Console), that each request
 * is one request row with the app's span under it, and that without `telemetryMode` the host's
 * own request would give the phone's city away.
 */
import { loadApiConfig } from '../../api/config';
import { issueRegistration } from '../../api/register/secret';
import { TELEMETRY_MODE } from '../../infra/host/host-json';
import { buildAppPackage } from '../../infra/package';
import { decodeBase64 } from '../../proto/tek';
import { devApiEnvironment } from '../../scripts/local-stack/dev-material';
import { issueVerificationCertificate } from '../../scripts/local-stack/verification-certificate';
import { hostEnvelopes, sendHostTelemetry, withHostSpans, type HostTelemetryOptions } from '../infra/functions-host-telemetry';
import { loadPackage, readZip, type HostLoad } from '../infra/functions-host-stand-in';
import { createDevMaterial, dailyKeys, REGION } from '../support/api-fixture';
import { startIngestionStandIn, type IngestionStandIn } from '../support/ingestion-stand-in';
import { workspaceRows, type WorkspaceTables } from '../support/workspace-rows';
import * as path from 'node:path';

jest.setTimeout(120_000);

/** A phone's address as Front Door sees it (RFC 5737 documentation range). */
const CLIENT = '203.0.113.7';

let standIn: IngestionStandIn;
let load: HostLoad;
let hostTelemetry: HostTelemetryOptions;
let rows: WorkspaceTables;
const forbidden: string[] = [CLIENT];

beforeAll(async () => {
  standIn = await startIngestionStandIn();
  const material = createDevMaterial();
  const env: Record<string, string> = {
    ...devApiEnvironment(material, REGION),
    KEYFRONT_STORE: 'memory',
    KEYFRONT_LOG_LEVEL: 'info',
    WEBSITE_SITE_NAME: 'kfprod-api',
    APPLICATIONINSIGHTS_CONNECTION_STRING: standIn.connectionString,
    // The stand-in's certificate, which the app's exporter must trust.
    NODE_EXTRA_CA_CERTS: path.join(__dirname, '..', 'fixtures', 'tls', 'loopback-cert.pem'),
  };
  const api = await buildAppPackage('api');
  hostTelemetry = { hostJson: JSON.parse((await readZip(api.zip)).get('host.json')!.toString()) as HostTelemetryOptions['hostJson'], env };

  const { userUuid, secret } = issueRegistration(loadApiConfig(env).registerKeys);
  const keys = dailyKeys(5, new Date());
  const certificate = await issueVerificationCertificate(material.healthAuthority, { now: new Date(), keys });
  const body = { temporaryExposureKeys: keys, healthAuthorityID: material.healthAuthority.id, verificationPayload: certificate.verificationPayload, hmacKey: certificate.hmacKey };
  forbidden.push(userUuid, secret, certificate.verificationPayload, certificate.hmacKey);
  for (const key of keys) {
    const bytes = Buffer.from(decodeBase64(key.key)!);
    forbidden.push(key.key, bytes.toString('hex'), bytes.toString('base64url'));
  }
  // What Front Door forwards to the API origin (Front Door's "Protocol support for HTTP headers").
  const forwarded = {
    'x-azure-fdid': material.frontDoorId.split(',')[0],
    'x-forwarded-for': CLIENT,
    'x-azure-clientip': CLIENT,
    'x-azure-socketip': CLIENT,
    'x-forwarded-host': 'kfprod.z01.azurefd.net',
    'x-forwarded-proto': 'https',
    'content-type': 'application/json',
  };
  load = await loadPackage(
    api.zip,
    env,
    withHostSpans([
      { name: 'register', method: 'POST', path: '/api/v1/register', headers: forwarded },
      { name: 'publish', method: 'POST', path: '/api/v1/publish', headers: { ...forwarded, authorization: `Bearer ${secret}`, 'x-user-uuid': userUuid }, body: JSON.stringify(body) },
    ]),
    { terminate: true },
  );
  const issued = Object.values(load.invoked).find((answer) => answer.status === 201)!.body as { userUuid: string; secret: string };
  forbidden.push(issued.userUuid, issued.secret);
  await sendHostTelemetry(hostEnvelopes(load, hostTelemetry), hostTelemetry, standIn.ca);
  rows = workspaceRows(standIn.received);
});

afterAll(async () => {
  await standIn?.stop();
});

describe('the api package with App Insights on, loaded as the Functions host loads it', () => {
  it('registered and stored the upload', () => {
    expect(load.invocations.map((call) => [call.name, call.status])).toEqual([['register', 201], ['publish', 200]]);
  });

  it('sends no key data, secret, user UUID, certificate or client address, from the app or the host', () => {
    const exported = standIn.bodies.join('\n');
    expect(standIn.received.length).toBeGreaterThan(10);
    expect(forbidden.filter((text) => exported.includes(text))).toEqual([]);
  });

  it('leaves App Insights no location to derive: no client address tag, no city, masked addresses', () => {
    expect(standIn.envelopes.filter((envelope) => envelope.tags?.['ai.location.ip'] !== undefined)).toEqual([]);
    const all = Object.values(rows).flat();
    expect(all.length).toBeGreaterThan(10);
    expect(all.filter((row) => row.ClientCity !== '' || row.ClientCountryOrRegion !== '' || row.ClientIP !== '0.0.0.0')).toEqual([]);
  });

  it('tells the host it exports its own telemetry, and turned SDK statistics off', () => {
    expect(load.capabilities).toMatchObject({ WorkerOpenTelemetryEnabled: 'true' });
    expect(load.capabilities).not.toHaveProperty('WorkerApplicationInsightsLoggingEnabled');
    expect(load.statsbeat).toEqual({ APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true', APPLICATION_INSIGHTS_NO_STATSBEAT: 'true' });
  });

  it("records the app's Information lines (Host.Function.Console) and none of the host's per-request lines with URLs", () => {
    const messages = rows.AppTraces.map((row) => String(row.Message));
    const requests = messages.filter((message) => message.includes('"message":"request"'));
    expect(requests.map((message) => (JSON.parse(message) as { function: string; level: string }).function).sort()).toEqual(['publish', 'register']);
    expect(messages.filter((message) => /Request (starting|finished)|Executing 'Functions|Executed 'Functions/.test(message))).toEqual([]);
  });

  it("makes each request one request row (the host's), with the app's span under it in the same operation", () => {
    expect(hostTelemetry.hostJson.telemetryMode).toBe(TELEMETRY_MODE);
    expect(rows.AppRequests.map((row) => [row.Name, row.ResultCode]).sort()).toEqual([['POST /api/publish', '200'], ['POST /api/register', '201']]);
    for (const request of rows.AppRequests) {
      const spans = rows.AppDependencies.filter((dependency) => dependency.OperationId === request.OperationId);
      expect(spans.map((span) => [span.Name, span.ParentId])).toEqual([[`POST /api/v1/${String(request.Name).split('/').pop()}`, request.Id]]);
    }
    // The app's lines carry the operation they belong to.
    const publish = rows.AppRequests.find((row) => row.Name === 'POST /api/publish')!;
    expect(rows.AppTraces.some((row) => String(row.Message).includes(`"traceId":"${String(publish.OperationId)}"`))).toBe(true);
  });

  it("would give the phone's city away through the host's own request without telemetryMode (what the stand-in catches)", () => {
    const classic = { ...hostTelemetry, hostJson: { ...hostTelemetry.hostJson, telemetryMode: undefined } };
    const located = workspaceRows(hostEnvelopes(load, classic).map((envelope) => ({ envelope, senderAddress: '127.0.0.1' })));
    expect(located.AppRequests.map((row) => row.ClientCity)).toEqual(['Testville', 'Testville']);
  });
});
