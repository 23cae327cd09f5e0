/**
 * Before a run from the command line: are Blob storage and the exposure store there? A stopped
 * local stack fails here at once (a TCP connect), not after the SDKs' retries; then the storage
 * is prepared and the store pinged within one deadline.
 */
import { connect } from 'node:net';
import type { PublisherConfig } from './config';
import { prepareStorage, type PublisherInstance } from './setup';

export const PREFLIGHT_TIMEOUT_IN_MS = 15_000;
const CONNECT_TIMEOUT_IN_MS = 5_000;

/** What could not be reached, and why. */
export class PreflightError extends Error {
  override readonly name = 'PreflightError';
  constructor(
    readonly what: 'Blob storage' | 'the exposure store (Cosmos DB)',
    readonly url: string | undefined,
    readonly problem: string,
    /** Whether the TCP connect itself failed (nothing listens), rather than the service's answer. */
    readonly unreachable: boolean,
  ) {
    super(`cannot reach ${what}${url ? ` at ${url}` : ''} (${problem})`);
  }
}

/** Whether something accepts TCP connections at the URL's host and port; the problem when not. */
export function checkConnect(url: string, timeoutInMs = CONNECT_TIMEOUT_IN_MS): Promise<string | undefined> {
  const { hostname, port, protocol } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || (protocol === 'https:' ? 443 : 80)), timeout: timeoutInMs });
    const done = (problem?: string) => {
      socket.destroy();
      resolve(problem);
    };
    socket.once('connect', () => done());
    socket.once('timeout', () => done('no answer'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

/** The blob endpoint a publisher setting points at, for the reachability check. */
export function blobEndpointOf(config: PublisherConfig): string | undefined {
  if (config.blob.accountUrl) return config.blob.accountUrl;
  const match = /(?:^|;)\s*BlobEndpoint=([^;]+)/i.exec(config.blob.connectionString ?? '');
  return match?.[1];
}

/** Throws a `PreflightError` naming the first service that cannot be reached. */
export async function preflight(publisher: PublisherInstance, config: PublisherConfig, options: { timeoutInMs?: number } = {}): Promise<void> {
  for (const [what, url] of [
    ['Blob storage', blobEndpointOf(config)],
    ['the exposure store (Cosmos DB)', config.store.cosmosEndpoint],
  ] as const) {
    const problem = url === undefined ? undefined : await checkConnect(url);
    if (problem) throw new PreflightError(what, url, problem, true);
  }
  const signal = AbortSignal.timeout(options.timeoutInMs ?? PREFLIGHT_TIMEOUT_IN_MS);
  try {
    await prepareStorage(publisher, { abortSignal: signal });
  } catch (error) {
    throw new PreflightError('Blob storage', undefined, signal.aborted ? 'no answer' : (error as Error).message, false);
  }
  try {
    await publisher.store.ping({ abortSignal: signal });
  } catch (error) {
    throw new PreflightError('the exposure store (Cosmos DB)', config.store.cosmosEndpoint, (error as Error).message, false);
  }
}
