/**
 * A stand-in for the Application Insights ingestion endpoint (there is no emulator): HTTPS on
 * loopback with the test certificate, `POST /v2.1/track` taking a JSON array of envelopes (or
 * newline-delimited JSON, gzip or not, as the exporter may send them) and answering the
 * `TrackResponse` shape of the exporter's generated client (`itemsReceived`, `itemsAccepted`,
 * `errors`). It keeps every decoded body, so a test can read the spans and metrics that arrived
 * and scan the raw text for what must never leave the process.
 *
 * Also runnable for `npm start` (prints one line per envelope):
 *   npx tsx test/support/ingestion-stand-in.ts [--port 4318] [--bodies FILE]
 *   NODE_EXTRA_CA_CERTS=test/fixtures/tls/loopback-cert.pem \
 *   APPLICATIONINSIGHTS_CONNECTION_STRING='InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:4318/' npm start
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';

const TLS_DIR = path.join(__dirname, '..', 'fixtures', 'tls');
/** Any GUID will do: the stand-in accepts every key. */
export const STAND_IN_INSTRUMENTATION_KEY = '00000000-0000-4000-8000-000000000000';
/** Bodies above this are refused 413, as a bound on what a test can make it hold. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** One telemetry item as the exporter sends it (Application Insights envelope). */
export interface Envelope {
  name: string;
  time: string;
  iKey?: string;
  tags?: Record<string, string>;
  data?: { baseType?: string; baseData?: Record<string, unknown> };
}

/** A span as it arrived: a request (server span) or a dependency (anything else). */
export interface ArrivedSpan {
  type: 'RequestData' | 'RemoteDependencyData';
  name: string;
  id: string;
  operationId: string;
  parentId?: string;
  success: boolean;
  responseCode?: string;
  properties: Record<string, string>;
}

/** One metric data point as it arrived. */
export interface ArrivedMetric {
  name: string;
  value: number;
  count?: number;
  properties: Record<string, string>;
}

/** An envelope with what the ingestion endpoint knows of its sending: the connection's address. */
export interface Received {
  envelope: Envelope;
  senderAddress: string;
}

export interface IngestionStandIn {
  /** For `APPLICATIONINSIGHTS_CONNECTION_STRING`. */
  connectionString: string;
  url: string;
  /** The certificate to trust (`TelemetryOptions.ca`, or `NODE_EXTRA_CA_CERTS`). */
  ca: Buffer;
  envelopes: Envelope[];
  /** The same envelopes, in order, with their senders' addresses (what geolocation falls back on). */
  received: Received[];
  /** Every decoded body, as text: what the privacy scan reads. */
  bodies: string[];
  spans(): ArrivedSpan[];
  metrics(name?: string): ArrivedMetric[];
  stop(): Promise<void>;
}

function parseBody(text: string): Envelope[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as Envelope[];
  return trimmed.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Envelope);
}

function spanOf(envelope: Envelope): ArrivedSpan | undefined {
  const type = envelope.data?.baseType;
  if (type !== 'RequestData' && type !== 'RemoteDependencyData') return undefined;
  const data = envelope.data!.baseData!;
  const span: ArrivedSpan = {
    type,
    name: String(data.name),
    id: String(data.id),
    operationId: envelope.tags?.['ai.operation.id'] ?? '',
    success: data.success === true,
    properties: (data.properties ?? {}) as Record<string, string>,
  };
  if (envelope.tags?.['ai.operation.parentId']) span.parentId = envelope.tags['ai.operation.parentId'];
  if (data.responseCode !== undefined) span.responseCode = String(data.responseCode);
  return span;
}

function metricsOf(envelope: Envelope): ArrivedMetric[] {
  if (envelope.data?.baseType !== 'MetricData') return [];
  const data = envelope.data.baseData as { metrics?: Array<{ name: string; value: number; count?: number }>; properties?: Record<string, string> };
  return (data.metrics ?? []).map((metric) => ({ name: metric.name, value: metric.value, ...(metric.count === undefined ? {} : { count: metric.count }), properties: data.properties ?? {} }));
}

export async function startIngestionStandIn(options: { port?: number; onEnvelope?: (envelope: Envelope) => void; onBody?: (text: string) => void } = {}): Promise<IngestionStandIn> {
  const ca = readFileSync(path.join(TLS_DIR, 'loopback-cert.pem'));
  const envelopes: Envelope[] = [];
  const received: Received[] = [];
  const bodies: string[] = [];
  const server: Server = createServer({ key: readFileSync(path.join(TLS_DIR, 'loopback-key.pem')), cert: ca }, (req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (req.method !== 'POST' || new URL(req.url ?? '/', 'https://stand-in').pathname !== '/v2.1/track') return answer(404, { error: 'only POST /v2.1/track' });
      if (size > MAX_BODY_BYTES) return answer(413, { error: 'body too large' });
      let arrived: Envelope[];
      try {
        const raw = Buffer.concat(chunks);
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        arrived = parseBody(text);
        bodies.push(text);
        options.onBody?.(text);
      } catch (error) {
        return answer(400, { itemsReceived: 0, itemsAccepted: 0, errors: [{ index: 0, statusCode: 400, message: (error as Error).message }] });
      }
      envelopes.push(...arrived);
      const senderAddress = req.socket.remoteAddress ?? '';
      for (const envelope of arrived) received.push({ envelope, senderAddress });
      for (const envelope of arrived) options.onEnvelope?.(envelope);
      answer(200, { itemsReceived: arrived.length, itemsAccepted: arrived.length, errors: [] });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    connectionString: `InstrumentationKey=${STAND_IN_INSTRUMENTATION_KEY};IngestionEndpoint=${url}`,
    url,
    ca,
    envelopes,
    received,
    bodies,
    spans: () => envelopes.map(spanOf).filter((span): span is ArrivedSpan => span !== undefined),
    metrics: (name) => envelopes.flatMap(metricsOf).filter((metric) => name === undefined || metric.name === name),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One line per envelope, for a developer watching `npm start`. */
function describe(envelope: Envelope): string {
  const data = envelope.data?.baseData ?? {};
  const metrics = (data as { metrics?: Array<{ name: string; value: number }> }).metrics;
  const what = metrics ? metrics.map((m) => `${m.name}=${m.value}`).join(' ') : String((data as { name?: unknown; message?: unknown }).name ?? (data as { message?: unknown }).message ?? '');
  const properties = (data as { properties?: Record<string, string> }).properties;
  return `${envelope.time} ${envelope.data?.baseType ?? envelope.name} ${what}${properties && Object.keys(properties).length > 0 ? ` ${JSON.stringify(properties)}` : ''}`;
}

if (require.main === module) {
  const argument = (name: string) => (process.argv.indexOf(name) > 0 ? process.argv[process.argv.indexOf(name) + 1] : undefined);
  const port = Number(argument('--port') ?? 4318);
  const bodiesFile = argument('--bodies');
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write('ingestion-stand-in: --port must be a port number from 1 to 65535\n');
    process.exit(2);
  }
  void startIngestionStandIn({ port, onEnvelope: (envelope) => process.stdout.write(`${describe(envelope)}\n`), ...(bodiesFile ? { onBody: (text: string) => appendFileSync(bodiesFile, `${text}\n`) } : {}) }).then(
    (standIn) => {
      process.stdout.write(`ingestion stand-in on ${standIn.url}\nAPPLICATIONINSIGHTS_CONNECTION_STRING='${standIn.connectionString}'\nNODE_EXTRA_CA_CERTS=${path.join(TLS_DIR, 'loopback-cert.pem')}\n`);
    },
    (error: Error) => {
      process.stderr.write(`ingestion-stand-in: ${error.message}\n`);
      process.exit(1);
    },
  );
}
