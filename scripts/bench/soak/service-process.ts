/**
 * One service of the local stack (`scripts/local-stack/services.ts`) in a process of its own, so
 * that the soak can measure each service's memory and open handles apart. Started by `stack.ts`
 * with an IPC channel and the stack's settings in its environment; it answers three messages:
 *
 * - `start` (the service's name and the `stack.json` entries of the services before it): starts
 *   the service as `npm start` does and answers `started` with the entries it adds;
 * - `stack`: entries of the services started after it, as `npm start`'s shared stack object has
 *   them (the publisher purges the edge once the edge runs);
 * - `sample`: answers with its memory (`process.memoryUsage()`) and its open handles by kind
 *   (`process.getActiveResourcesInfo()`);
 * - `stop`: stops the service and exits.
 *
 * Its logs (JSON lines) go to stdout, which the soak reads.
 */
import { loadLocalStackConfig } from '../../local-stack/config';
import { startPublisherService } from '../../local-stack/publisher-service';
import type { RunningService, StackContext } from '../../local-stack/service';
import { STACK_SERVICES } from '../../local-stack/services';
import { handleCounts } from './handles';

export type ServiceRequest =
  | { type: 'start'; service: string; stack: Record<string, unknown>; publishIntervalInMs?: number }
  /** Entries of services started later (the edge's admin URL, which the publisher purges): `npm start` shares one stack object. */
  | { type: 'stack'; stack: Record<string, unknown> }
  | { type: 'sample' }
  | { type: 'stop' };

export interface ServiceSample {
  rss: number;
  heapUsed: number;
  external: number;
  /** Open handles by kind (`TCPSocketWrap`, `Timeout`, ...). */
  handles: Record<string, number>;
}

export type ServiceReply = { type: 'started'; stack: Record<string, unknown> } | { type: 'sample'; sample: ServiceSample } | { type: 'failed'; message: string };

function reply(message: ServiceReply): void {
  process.send?.(message);
}

let running: RunningService | undefined;
const stack: Record<string, unknown> = {};

async function start(request: Extract<ServiceRequest, { type: 'start' }>): Promise<void> {
  Object.assign(stack, request.stack);
  const context: StackContext = { config: loadLocalStackConfig(process.env), stack, env: process.env };
  const entry = STACK_SERVICES.find((service) => service.name === request.service);
  if (!entry) throw new Error(`no service ${request.service} in the local stack`);
  running = request.service === 'publisher' && request.publishIntervalInMs !== undefined ? await startPublisherService(context, process.env, request.publishIntervalInMs) : await entry.start(context);
  reply({ type: 'started', stack: running.stack ?? {} });
}

process.on('message', (message: ServiceRequest) => {
  if (message.type === 'start') {
    start(message).catch((error: unknown) => reply({ type: 'failed', message: (error as Error).message }));
  } else if (message.type === 'stack') {
    Object.assign(stack, message.stack);
  } else if (message.type === 'sample') {
    const { rss, heapUsed, external } = process.memoryUsage();
    reply({ type: 'sample', sample: { rss, heapUsed, external, handles: handleCounts() } });
  } else if (message.type === 'stop') {
    void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
  }
});
