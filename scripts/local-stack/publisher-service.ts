/**
 * Local stack service: Azurite (Blob storage, on disk under the data directory) and the publisher
 * on a short dev schedule, so that a developer sees files appear a minute or two after an upload:
 * one-minute windows, read every 30 s. The local signing key is created in the data directory on
 * first run. `keyfront publish --once` finds this service's storage and settings in stack.json.
 */
import { access } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CosmosClient } from '@azure/cosmos';
import { createLogger, type Logger } from '../../platform/log';
import type { Env } from '../../platform/settings';
import { CosmosExposureStore } from '../../exposures/cosmos-store';
import { loadPublisherConfig } from '../../publisher/config';
import { indexTxtName } from '../../publisher/export-names';
import { LocalEdgePurger } from '../../publisher/purgers/local-edge';
import { LogOnlyPurger } from '../../publisher/purgers/log-only';
import type { Purger, PurgeOptions } from '../../publisher/purgers/purger';
import { publishExports } from '../../publisher/run';
import { importFromPeers } from '../../publisher/federation/import-timer';
import { createPublisher, prepareStorage } from '../../publisher/setup';
import { recordingCalls, publishWithTelemetry } from '../../publisher/run-telemetry';
import { currentTelemetry } from '../../platform/telemetry';
import { publishSiteOnStart } from '../../publisher/site';
import { generateSigningKeyPair } from '../commands/keys';
import { buildSite } from '../site/build';
import { startAzurite } from './azurite';
import { cosmosEmulatorClientOptions } from './cosmos-emulator';
import type { RunningService, StackContext } from './service';

/** How often the stack's publisher runs. */
export const DEV_PUBLISH_INTERVAL_IN_MS = 30_000;

/** The dev publisher's settings (as variables, so that `keyfront publish --once` adopts the same); the environment overrides them. */
export function devPublisherSettings(region: string): Record<string, string> {
  return {
    KEYFRONT_REGIONS: region,
    KEYFRONT_WINDOW_SECONDS: '60',
    // Longer than any upload request (the API's store deadline is 5 s): a key stored at the end of an
    // upload must still find its window open, or it would wait for no file.
    KEYFRONT_WINDOW_SAFETY_MARGIN_SECONDS: '15',
    // A file for every window with keys, padded: an upload shows up within a minute (production holds keys back instead).
    KEYFRONT_PRIVACY_FLOOR: 'pad',
    KEYFRONT_PUBLISH_LEASE_SECONDS: '15',
    KEYFRONT_PURGE_ATTEMPTS: '2',
    KEYFRONT_PURGE_BACKOFF_MS: '500',
  };
}

/** Purges the local edge once it runs (it starts after this service), and only logs before. */
class StackPurger implements Purger {
  readonly name = 'local-stack';
  private readonly logOnly: LogOnlyPurger;

  constructor(
    private readonly stack: Record<string, unknown>,
    logger: Logger,
  ) {
    this.logOnly = new LogOnlyPurger(logger);
  }

  purge(contentPaths: readonly string[], options?: PurgeOptions): Promise<void> {
    const adminUrl = this.stack.edgeAdminUrl;
    return typeof adminUrl === 'string' ? new LocalEdgePurger(adminUrl).purge(contentPaths, options) : this.logOnly.purge(contentPaths);
  }
}

async function ensureSigningKey(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'signing-private.pem');
  const exists = await access(file).then(
    () => true,
    () => false,
  );
  if (!exists) await generateSigningKeyPair(dataDir, 'signing');
  return file;
}

export async function startPublisherService(context: StackContext, env: Env = context.env ?? {}, intervalInMs = DEV_PUBLISH_INTERVAL_IN_MS): Promise<RunningService> {
  const cosmosEndpoint = context.stack.cosmosEndpoint;
  if (typeof cosmosEndpoint !== 'string') throw new Error('the publisher service needs the cosmos service started before it');
  const { dataDir, region } = context.config;
  const azurite = await startAzurite({ location: path.join(dataDir, 'azurite'), port: context.config.ports.blob });
  let client: CosmosClient | undefined;
  try {
    await ensureSigningKey(dataDir);
    const settings = devPublisherSettings(region);
    const config = loadPublisherConfig({
      ...settings,
      ...env,
      KEYFRONT_COSMOS_ENDPOINT: cosmosEndpoint,
      KEYFRONT_BLOB_CONNECTION_STRING: azurite.connectionString,
      KEYFRONT_BLOB_ACCOUNT_URL: undefined,
      // The stack's own key file, unless the signers are given (a rotation tried locally).
      KEYFRONT_SIGNER: env.KEYFRONT_SIGNERS ? undefined : 'local',
      KEYFRONT_DATA_DIR: dataDir,
    });
    const logger = createLogger('publisher', { level: config.logLevel });
    client = new CosmosClient(cosmosEmulatorClientOptions(cosmosEndpoint, Math.ceil(config.store.timeoutInMs / 2)));
    const store = new CosmosExposureStore({ container: client.database(config.store.cosmosDatabase).container(config.store.cosmosContainer), shards: config.store.cosmosShards, timeoutInMs: config.store.timeoutInMs });
    const { metrics } = currentTelemetry();
    const publisher = recordingCalls(await createPublisher(config, { store, logger, purger: new StackPurger(context.stack, logger) }), metrics);
    await prepareStorage(publisher);
    await publishSiteOnStart(publisher, config, buildSite);

    const stopping = new AbortController();
    const loop = (async () => {
      while (!stopping.signal.aborted) {
        // Peers of KEYFRONT_FEDERATION_PEERS first, so that this tick publishes what they brought.
        if (config.federation.peers.length > 0) {
          await importFromPeers(publisher, { ...config.federation, leaseSeconds: config.leaseSeconds }, { metrics, abortSignal: stopping.signal }).catch((error: unknown) => logger.error('federation import failed', { error }));
        }
        await publishWithTelemetry(() => publishExports(publisher, { abortSignal: stopping.signal }), { metrics, logger }).catch((error: unknown) => logger.error('publisher run failed', { error }));
        await sleep(intervalInMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    })();

    const exportsUrl = `${azurite.blobEndpoint}/${config.blob.exportContainer}`;
    const indexUrls = config.regions.map((r) => `${exportsUrl}/${indexTxtName(r)}`);
    return {
      name: 'publisher',
      url: indexUrls[0],
      description: `Azurite blob on ${azurite.blobEndpoint} (data in ${path.join(dataDir, 'azurite')}); publishes ${config.windowSeconds}-s windows every ${intervalInMs / 1000} s: the index is at this URL`,
      stack: { blobEndpoint: azurite.blobEndpoint, blobConnectionString: azurite.connectionString, exportsUrl, indexUrls, publisherSettings: settings },
      stop: async () => {
        // Stopping mid-run is safe: a run killed at any point leaves storage consistent.
        stopping.abort();
        await loop;
        publisher.close();
        client?.dispose();
        await azurite.stop();
      },
    };
  } catch (error) {
    client?.dispose();
    await azurite.stop();
    throw error;
  }
}
