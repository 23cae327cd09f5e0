/**
 * The write API over real HTTP: the local host on a free loopback port, the Cosmos store on the
 * emulator through `@azure/cosmos`, and the phone helpers of the API fixture. `snapshot()` lists
 * every stored document with its etag, so a test can assert that a request changed nothing.
 */
import type { Container } from '@azure/cosmos';
import { request as httpRequest } from 'undici';
import { CosmosExposureStore, ensureExposuresContainer } from '../../exposures/cosmos-store';
import type { ExposureStore } from '../../exposures/exposure-store';
import { startApiHost, type ApiHost } from '../../scripts/local-stack/api-host';
import { startCosmosEmulator, type CosmosEmulator } from '../../scripts/local-stack/cosmos-emulator';
import { createApiFixture, type ApiFixture, type FixtureOptions, type InvokeOptions } from './api-fixture';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

/** As for `invoke`: an object body is sent as JSON (with its Content-Type unless given). */
export type SendOptions = InvokeOptions;

export interface HttpApi {
  fixture: ApiFixture;
  host: ApiHost;
  emulator: CosmosEmulator;
  container: Container;
  send(path: string, options?: SendOptions): Promise<HttpAnswer>;
  /** Sorted `id:etag` of every stored document. */
  snapshot(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function send(baseUrl: string, frontDoorId: string, path: string, options: SendOptions = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...(options.noFrontDoor ? {} : { 'x-azure-fdid': frontDoorId }), ...options.headers };
  let body: string | Buffer | undefined;
  if (typeof options.body === 'string' || Buffer.isBuffer(options.body)) body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const response = await httpRequest(`${baseUrl}${path}`, { method: (options.method ?? 'POST') as 'POST', headers, ...(body === undefined ? {} : { body }) });
  const text = await response.body.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Left empty: the test asserts on status and text.
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

export async function startHttpApi(options: Omit<FixtureOptions, 'store'> & { store?: (container: Container) => ExposureStore } = {}): Promise<HttpApi> {
  const emulator = await startCosmosEmulator();
  const container = await ensureExposuresContainer(emulator.client());
  const store = options.store ? options.store(container) : new CosmosExposureStore({ container });
  const fixture = createApiFixture({ ...options, store });
  const host = await startApiHost({ runtime: fixture.runtime });
  return {
    fixture,
    host,
    emulator,
    container,
    send: (path, sendOptions) => send(host.url, fixture.material.frontDoorId, path, sendOptions),
    snapshot: async () => {
      const { resources } = await container.items.readAll<{ id: string; _etag: string }>().fetchAll();
      return resources.map((document) => `${document.id}:${document._etag}`).sort();
    },
    stop: async () => {
      await host.stop();
      await emulator.stop();
    },
  };
}
