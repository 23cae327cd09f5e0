/**
 * What a workspace-based Application Insights resource makes of the envelopes the ingestion
 * stand-in received: rows of `AppMetrics`, `AppRequests`, `AppDependencies` and `AppTraces`, with
 * the columns the alert and workbook queries read (Azure Monitor Logs table reference, "AppMetrics"
 * etc.: `TimeGenerated`, `Name`, `Sum`, `Min`, `Max`, `ItemCount`, `Properties`, `AppRoleName`,
 * `ClientIP`, `ClientCity`, `ClientCountryOrRegion`, ...).
 *
 * Location as App Insights derives it ("Geolocation and IP address handling"): the address in the
 * item's `ai.location.ip` tag, or else the sender's, is looked up, the city and country are stored,
 * and with IP masking on (the default, `DisableIpMasking` false) the address itself is written as
 * `0.0.0.0`. The lookup here knows the documentation ranges (RFC 5737) the tests use as phones'
 * addresses, so a client address that reaches telemetry shows as a city.
 */
import type { Received } from './ingestion-stand-in';
import type { KqlRow } from './kql';

/** The fictional places of the RFC 5737 test ranges; loopback and private addresses have none. */
const PLACES: ReadonlyArray<{ prefix: string; city: string; country: string }> = [
  { prefix: '192.0.2.', city: 'Documentation City', country: 'Testland' },
  { prefix: '198.51.100.', city: 'Exampleburg', country: 'Testland' },
  { prefix: '203.0.113.', city: 'Testville', country: 'Testland' },
];

function geolocate(address: string): { city: string; country: string } {
  const plain = address.replace(/^::ffff:/, '');
  return PLACES.find((place) => plain.startsWith(place.prefix)) ?? { city: '', country: '' };
}

const SEVERITY: Record<string, number> = { verbose: 0, information: 1, warning: 2, error: 3, critical: 4 };

function severityOf(level: unknown): number {
  if (typeof level === 'number') return level;
  return SEVERITY[String(level).toLowerCase()] ?? 1;
}

/** ISO 8601 duration of a RequestData/RemoteDependencyData (`d.hh:mm:ss.fffffff` in the envelope) in ms. */
function durationMs(value: unknown): number {
  const match = /^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(String(value ?? ''));
  if (!match) return 0;
  return ((Number(match[1] ?? 0) * 24 + Number(match[2])) * 3600 + Number(match[3]) * 60 + Number(match[4])) * 1000;
}

export interface WorkspaceTables extends Record<string, KqlRow[]> {
  AppMetrics: KqlRow[];
  AppRequests: KqlRow[];
  AppDependencies: KqlRow[];
  AppTraces: KqlRow[];
}

/** The rows `received` makes, by table. */
export function workspaceRows(received: readonly Received[], options: { disableIpMasking?: boolean } = {}): WorkspaceTables {
  const tables: WorkspaceTables = { AppMetrics: [], AppRequests: [], AppDependencies: [], AppTraces: [] };
  for (const { envelope, senderAddress } of received) {
    const tags = envelope.tags ?? {};
    const data = (envelope.data?.baseData ?? {}) as Record<string, unknown>;
    const located = tags['ai.location.ip'] ?? senderAddress;
    const place = geolocate(located);
    const common: KqlRow = {
      TimeGenerated: new Date(envelope.time),
      AppRoleName: tags['ai.cloud.role'] ?? '',
      OperationId: tags['ai.operation.id'] ?? '',
      ParentId: tags['ai.operation.parentId'] ?? '',
      ClientIP: options.disableIpMasking ? located : '0.0.0.0',
      ClientCity: place.city,
      ClientCountryOrRegion: place.country,
      Properties: (data.properties ?? {}) as Record<string, unknown>,
    };
    switch (envelope.data?.baseType) {
      case 'MetricData':
        for (const metric of (data.metrics ?? []) as Array<{ name: string; value: number; count?: number; min?: number; max?: number }>) {
          tables.AppMetrics.push({ ...common, Name: metric.name, Sum: metric.value, ItemCount: metric.count ?? 1, Min: metric.min ?? metric.value, Max: metric.max ?? metric.value });
        }
        break;
      case 'RequestData':
        tables.AppRequests.push({ ...common, Id: String(data.id ?? ''), Name: String(data.name ?? ''), Success: data.success === true, ResultCode: String(data.responseCode ?? ''), DurationMs: durationMs(data.duration), Url: String(data.url ?? '') });
        break;
      case 'RemoteDependencyData':
        tables.AppDependencies.push({ ...common, Id: String(data.id ?? ''), Name: String(data.name ?? ''), Success: data.success === true, ResultCode: String(data.resultCode ?? ''), DurationMs: durationMs(data.duration), Type: String(data.type ?? ''), Target: String(data.target ?? '') });
        break;
      case 'MessageData':
        tables.AppTraces.push({ ...common, Message: String(data.message ?? ''), SeverityLevel: severityOf(data.severityLevel) });
        break;
      default:
        break;
    }
  }
  return tables;
}

/** The same tables with every `TimeGenerated` moved by `offsetMs` (a scenario placed earlier in the window). */
export function shifted(tables: WorkspaceTables, offsetMs: number): WorkspaceTables {
  const move = (rows: KqlRow[]) => rows.map((row) => ({ ...row, TimeGenerated: new Date((row.TimeGenerated as Date).getTime() + offsetMs) }));
  return { AppMetrics: move(tables.AppMetrics), AppRequests: move(tables.AppRequests), AppDependencies: move(tables.AppDependencies), AppTraces: move(tables.AppTraces) };
}

/** Tables of several scenarios together. */
export function merged(...all: WorkspaceTables[]): WorkspaceTables {
  return {
    AppMetrics: all.flatMap((tables) => tables.AppMetrics),
    AppRequests: all.flatMap((tables) => tables.AppRequests),
    AppDependencies: all.flatMap((tables) => tables.AppDependencies),
    AppTraces: all.flatMap((tables) => tables.AppTraces),
  };
}
