/**
 * The timer function's handler: one publisher run per tick. The run stops starting new work at
 * its deadline (the next tick continues) and is aborted outright 30 s later, inside the
 * Function App's timeout; either way storage stays consistent. A region that failed fails the
 * invocation, so that it shows as failed in the Functions monitor; a region another instance is
 * publishing (`busy`) does not.
 */
import type { InvocationContext, Timer } from '@azure/functions';
import { noopMetrics, type Metrics } from '../platform/metrics';
import type { PublisherDeps } from './publisher-deps';
import { publishExports } from './run';
import { publishWithTelemetry } from './run-telemetry';

const ABORT_AFTER_DEADLINE_IN_MS = 30_000;

export function createPublishExportsHandler(getPublisher: () => Promise<PublisherDeps>, metrics: Metrics = noopMetrics) {
  return async function publishExportsHandler(timer: Timer, context: InvocationContext): Promise<void> {
    const publisher = await getPublisher();
    const logger = publisher.logger.child({ invocationId: context.invocationId });
    if (timer.isPastDue) logger.warn('the timer is past due: the previous run took longer than the schedule, or the app was down');
    const run = await publishWithTelemetry(() => publishExports({ ...publisher, logger }, { abortSignal: AbortSignal.timeout(publisher.settings.deadlineSeconds * 1000 + ABORT_AFTER_DEADLINE_IN_MS) }), { metrics, logger });
    const failed = run.regions.filter((outcome) => outcome.status === 'failed');
    if (failed.length > 0) throw new Error(`publishing failed for ${failed.map((o) => `${o.region} (${o.error ?? 'unknown'})`).join(', ')}; the next run continues from what was recorded`);
  };
}
