/**
 * Purges the local edge (the Front Door stand-in of `npm start` and the tests) through its admin
 * server: `POST {adminUrl}/purge` with `{"contentPaths": [...]}`, answered `202 {"purged": n}`.
 * The admin server listens on its own loopback port, apart from client traffic, as purge is a
 * control-plane operation in Azure too.
 */
import { request, type Dispatcher } from 'undici';
import { durationText } from '../../platform/deadline';
import { checkedContentPaths, isRetryableStatus, PurgeError } from './purge-error';
import type { Purger, PurgeOptions } from './purger';

export interface LocalEdgePurgerOptions {
  /** Gives up after this long; default 10 s. */
  timeoutInMs?: number;
  dispatcher?: Dispatcher;
}

export class LocalEdgePurger implements Purger {
  readonly name: string;
  private readonly purgeUrl: URL;

  /** @param adminUrl the local edge admin server, e.g. `http://127.0.0.1:8089`. */
  constructor(
    adminUrl: string,
    private readonly options: LocalEdgePurgerOptions = {},
  ) {
    this.purgeUrl = new URL('purge', adminUrl.endsWith('/') ? adminUrl : `${adminUrl}/`);
    this.name = `local-edge:${this.purgeUrl.host}`;
  }

  async purge(contentPaths: readonly string[], options: PurgeOptions = {}): Promise<void> {
    await this.purgeEntries(contentPaths, options);
  }

  /** Like `purge`, and resolves to the number of cache entries the edge dropped. */
  async purgeEntries(contentPaths: readonly string[], options: PurgeOptions = {}): Promise<number> {
    const paths = checkedContentPaths(this.name, contentPaths);
    const timeoutInMs = this.options.timeoutInMs ?? 10_000;
    const timeout = AbortSignal.timeout(timeoutInMs);
    const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, timeout]) : timeout;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.purgeUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ contentPaths: paths }),
        signal,
        dispatcher: this.options.dispatcher,
      });
    } catch (error) {
      if (timeout.aborted && !options.abortSignal?.aborted) throw new PurgeError(`${this.name}: the local edge admin at ${this.purgeUrl.origin} did not answer in ${durationText(timeoutInMs)}`, { code: 'timeout', retryable: true, cause: error });
      const code = (error as { code?: string }).code ?? (error as Error).name;
      throw new PurgeError(`${this.name}: cannot reach the local edge admin at ${this.purgeUrl.origin} (${code}); is the local stack running?`, { code, retryable: true, cause: error });
    }
    const text = await response.body.text().catch(() => '');
    let body: { purged?: unknown; error?: unknown; code?: unknown } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    if (response.statusCode === 202 && body && typeof body.purged === 'number' && Number.isInteger(body.purged) && body.purged >= 0) return body.purged;
    const status = response.statusCode;
    const reason = typeof body?.error === 'string' ? body.error : status === 202 ? `unexpected answer ${JSON.stringify(text.slice(0, 200))}` : `HTTP ${status}`;
    throw new PurgeError(`${this.name}: purge failed with HTTP ${status}: ${reason}`, {
      statusCode: status,
      code: typeof body?.code === 'string' ? body.code : 'unexpected_response',
      retryable: status !== 202 && isRetryableStatus(status),
    });
  }
}
