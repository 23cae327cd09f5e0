/**
 * A write API for tests: configuration from dev material made in memory, a fixed clock, a store
 * (memory unless given), and helpers that act as a phone (register, keys, certificate, body).
 * `invoke` runs a route in process through the same bound handler Azure calls, with real
 * `HttpRequest`/`InvocationContext` objects.
 */
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import { loadApiConfig, type ApiConfig } from '../../api/config';
import { createLogger } from '../../platform/log';
import type { UploadKey } from '../../api/upload/upload';
import { bindRoute, ROUTES } from '../../api/routes';
import { createApiRuntime, type ApiRuntime } from '../../api/runtime';
import type { ExposureStore } from '../../exposures/exposure-store';
import type { Metrics } from '../../platform/metrics';
import { MemoryExposureStore } from '../../exposures/memory-store';
import { createDevMaterial, devApiEnvironment, type DevMaterial } from '../../scripts/local-stack/dev-material';
import { randomDailyKeys } from '../../scripts/local-stack/dev-keys';

export { createDevMaterial };
import { issueVerificationCertificate, type IssueOptions } from '../../scripts/local-stack/verification-certificate';

/** The tests' clock: noon UTC, so keys of "today" started at midnight. */
export const NOW = new Date('2026-11-30T12:00:00Z');
export const REGION = '440';

export interface FixtureOptions {
  store?: ExposureStore;
  env?: Record<string, string>;
  now?: () => Date;
  material?: DevMaterial;
  /** The runtime's wait (chaff answers wait as long as real uploads take). */
  sleep?: (ms: number) => Promise<void>;
  /** What the runtime records its figures with (none by default). */
  metrics?: Metrics;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

export interface InvokeOptions {
  method?: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or bytes as they are. */
  body?: unknown;
  /** Leave out X-Azure-FDID. */
  noFrontDoor?: boolean;
}

/** Keys of `count` consecutive whole days, the newest starting yesterday at midnight UTC (of `now`). */
export function dailyKeys(count: number, now: Date = NOW): UploadKey[] {
  return randomDailyKeys(count, now, 1);
}

export function createApiFixture(options: FixtureOptions = {}) {
  const material = options.material ?? createDevMaterial();
  const config: ApiConfig = loadApiConfig({ ...devApiEnvironment(material, REGION), KEYFRONT_STORE: 'memory', ...options.env });
  const store = options.store ?? new MemoryExposureStore();
  const logs: string[] = [];
  const now = options.now ?? (() => NOW);
  const runtime: ApiRuntime = createApiRuntime(config, { store, now, logger: createLogger('api', { level: 'debug', write: (line) => logs.push(line) }), healthCacheInMs: 0, ...(options.sleep ? { sleep: options.sleep } : {}), ...(options.metrics ? { metrics: options.metrics } : {}) });
  const handlers = new Map(ROUTES.map((route) => [route.name, bindRoute(route, runtime)]));
  const paths = new Map(ROUTES.map((route) => [route.name, `/api/${route.route}`]));

  async function invoke(name: string, request: InvokeOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...(request.noFrontDoor ? {} : { 'x-azure-fdid': material.frontDoorId }), ...request.headers };
    let body: Uint8Array | undefined;
    if (typeof request.body === 'string') body = Buffer.from(request.body);
    else if (request.body instanceof Uint8Array) body = request.body;
    else if (request.body !== undefined) {
      body = Buffer.from(JSON.stringify(request.body));
      headers['content-type'] ??= 'application/json';
    }
    const httpRequest = new HttpRequest({ method: request.method ?? 'POST', url: `http://127.0.0.1:7071${paths.get(name)}`, headers, ...(body ? { body: { bytes: body } } : {}) });
    const init = await handlers.get(name)!(httpRequest, new InvocationContext({ invocationId: 'test', functionName: name, logHandler: () => undefined }));
    const response = new HttpResponse(init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async function register(): Promise<{ userUuid: string; secret: string }> {
    const response = await invoke('register');
    return response.json as { userUuid: string; secret: string };
  }

  async function certificate(keys: readonly UploadKey[], issue: Omit<IssueOptions, 'keys'> = {}) {
    return issueVerificationCertificate(material.healthAuthority, { now: now(), ...issue, keys });
  }

  /** A complete, valid publish body for `keys`. */
  async function publishBody(keys: readonly UploadKey[], issue: Omit<IssueOptions, 'keys'> = {}, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const issued = await certificate(keys, issue);
    return { temporaryExposureKeys: keys, healthAuthorityID: material.healthAuthority.id, verificationPayload: issued.verificationPayload, hmacKey: issued.hmacKey, ...extra };
  }

  /** Headers of a registered caller. */
  async function callerHeaders(): Promise<Record<string, string>> {
    const { userUuid, secret } = await register();
    return { authorization: `Bearer ${secret}`, 'x-user-uuid': userUuid };
  }

  return { material, config, store, runtime, logs, invoke, register, certificate, publishBody, callerHeaders };
}

export type ApiFixture = ReturnType<typeof createApiFixture>;
