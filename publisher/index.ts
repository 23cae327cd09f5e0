/**
 * Entry of the publisher Function App: telemetry first (platform/telemetry-first.ts), settings
 * validated at start-up, then one timer function, `publishExports`, on KEYFRONT_PUBLISH_SCHEDULE, and,
 * when KEYFRONT_FEDERATION_PEERS names peers, `importFromPeers` on KEYFRONT_FEDERATION_SCHEDULE.
 * This app has no inbound HTTP and is the only identity allowed to sign with the Key Vault key.
 */
import '../platform/telemetry-first';
import { app } from '@azure/functions';
import { loadPublisherConfig } from './config';
import { createPublisher, prepareStorage, type PublisherInstance } from './setup';
import { publishSiteOnStart, readSiteBuild, SITE_BUILD_DIR } from './site';
import { createPublishExportsHandler } from './timer';
import { createImportFromPeersHandler } from './federation/import-timer';
import { recordingCalls } from './run-telemetry';
import { currentTelemetry } from '../platform/telemetry';

const config = loadPublisherConfig(process.env);
const { metrics } = currentTelemetry();
let publisher: Promise<PublisherInstance> | undefined;

/** Created on the first tick and kept: clients and the signer are reused by later ticks of this instance. */
function getPublisher(): Promise<PublisherInstance> {
  publisher ??= createPublisher(config).then(async (created) => {
    const instance = recordingCalls(created, metrics);
    await prepareStorage(instance);
    await publishSiteOnStart(instance, config, () => readSiteBuild(SITE_BUILD_DIR));
    return instance;
  });
  // A failed set-up (storage unreachable, say) is tried again on the next tick.
  publisher.catch(() => (publisher = undefined));
  return publisher;
}

app.timer('publishExports', { schedule: config.schedule, handler: createPublishExportsHandler(getPublisher, metrics) });

if (config.federation.peers.length > 0) {
  app.timer('importFromPeers', { schedule: config.federation.schedule, handler: createImportFromPeersHandler(getPublisher, config.federation, metrics) });
}
