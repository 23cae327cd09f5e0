/**
 * Wires a publisher from its settings: the Cosmos store, the two Blob containers, the signer and
 * the purger, each the Azure implementation or the local one the settings choose, each call to
 * them bounded by its `..._TIMEOUT_MS` setting. Entry points (the timer function, the CLI, the
 * local stack) call this once; callers that already hold a dependency (an emulator store, a test
 * purger) pass it in, bounded as they choose.
 */
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { createLogger, type Logger } from '../platform/log';
import { CosmosExposureStore } from '../exposures/cosmos-store';
import type { ExposureStore } from '../exposures/exposure-store';
import { BlobServiceClient } from '@azure/storage-blob';
import { createCosmosClient } from '../exposures/cosmos-client';
import { AzureBlobWriter, blobPipelineOptions } from './blob/azure-blob-writer';
import { BlobServiceGeoReplication } from './geo-replication';
import type { BlobWriter } from './blob/blob-writer';
import type { PublisherConfig } from './config';
import { publisherSettings, type PublisherDeps } from './publisher-deps';
import { FrontDoorPurger } from './purgers/front-door';
import { LocalEdgePurger } from './purgers/local-edge';
import { LogOnlyPurger } from './purgers/log-only';
import type { Purger } from './purgers/purger';
import { KeyVaultSigner } from './signers/key-vault';
import { LocalSigner } from './signers/local';
import { SignerSchedule, type PublisherSigning } from './signers/schedule';
import type { SignerSetting } from './signers/signer-settings';

export interface PublisherDepsOverrides {
  store?: ExposureStore;
  exports?: BlobWriter;
  state?: BlobWriter;
  signer?: PublisherSigning;
  purger?: Purger;
  logger?: Logger;
  credential?: TokenCredential;
}

export interface PublisherInstance extends PublisherDeps {
  /** Releases clients (sockets) the setup opened. */
  close(): void;
}

function blobWriter(config: PublisherConfig, container: string, credential: () => TokenCredential): AzureBlobWriter {
  const options = { timeoutInMs: config.blob.timeoutInMs };
  if (config.blob.connectionString) return AzureBlobWriter.fromConnectionString(config.blob.connectionString, container, options);
  return AzureBlobWriter.fromAccountUrl(config.blob.accountUrl!, credential(), container, options);
}

/** The signer of one setting: its Key Vault key version, or its local PEM file (read now: a missing file fails at start-up). */
export async function createSigner(setting: SignerSetting, credential: () => TokenCredential, keyVaultTimeoutInMs: number): Promise<KeyVaultSigner | LocalSigner> {
  const identity = { keyId: setting.keyId, keyVersion: setting.keyVersion };
  if (setting.keyVaultKeyId !== undefined) return new KeyVaultSigner(setting.keyVaultKeyId, credential(), identity, {}, { timeoutInMs: keyVaultTimeoutInMs });
  return LocalSigner.fromPemFile(setting.keyFile!, identity);
}

/** Every signer of the settings, each with its window: what the publisher signs with. */
export async function createSigners(config: Pick<PublisherConfig, 'signers' | 'keyVaultTimeoutInMs'>, credential: () => TokenCredential): Promise<SignerSchedule> {
  const entries = [];
  for (const setting of config.signers) {
    const { notBefore, notAfter, regions } = setting;
    entries.push({ signer: await createSigner(setting, credential, config.keyVaultTimeoutInMs), window: { notBefore, notAfter, regions } });
  }
  return new SignerSchedule(entries);
}

export function createPurger(config: PublisherConfig, logger: Logger, credential: () => TokenCredential): Purger {
  switch (config.purger.kind) {
    case 'local-edge':
      return new LocalEdgePurger(config.purger.edgeAdminUrl, { timeoutInMs: config.purger.timeoutInMs });
    case 'front-door': {
      const fd = config.purger.frontDoor;
      return new FrontDoorPurger({ subscriptionId: fd.subscriptionId!, resourceGroupName: fd.resourceGroup!, profileName: fd.profileName!, endpointName: fd.endpointName! }, { credential: credential(), requestTimeoutInMs: config.purger.timeoutInMs });
    }
    case 'none':
      return new LogOnlyPurger(logger);
  }
}

/** The exposure store of the settings (Cosmos DB), each request bounded by KEYFRONT_STORE_TIMEOUT_MS; `close` releases its client. */
export function createStore(config: PublisherConfig, credential: () => TokenCredential): { store: CosmosExposureStore; close(): void } {
  // In Azure the deployment creates the container; the publisher's identity only reads and deletes items.
  const { timeoutInMs } = config.store;
  const client = createCosmosClient({
    endpoint: config.store.cosmosEndpoint,
    ...(config.store.cosmosKey ? { key: config.store.cosmosKey } : { credential: credential() }),
    // Half the bound per HTTP request, so a stalled one is retried within it; throttling is waited out within it too.
    requestTimeoutInMs: Math.ceil(timeoutInMs / 2),
    maxRetries: 9,
    maxRetryWaitInSeconds: Math.max(1, Math.floor(timeoutInMs / 1000)),
  });
  const store = new CosmosExposureStore({ container: client.database(config.store.cosmosDatabase).container(config.store.cosmosContainer), shards: config.store.cosmosShards, timeoutInMs });
  return { store, close: () => client.dispose() };
}

/** The private state container of the settings (manifests, locks, federation progress). */
export function createStateWriter(config: PublisherConfig, credential: () => TokenCredential): AzureBlobWriter {
  return blobWriter(config, config.blob.stateContainer, credential);
}

export async function createPublisher(config: PublisherConfig, overrides: PublisherDepsOverrides = {}): Promise<PublisherInstance> {
  const logger = overrides.logger ?? createLogger('publisher', { level: config.logLevel });
  let credential = overrides.credential;
  const lazyCredential = (): TokenCredential => (credential ??= new DefaultAzureCredential());
  let opened: { close(): void } | undefined;
  let store = overrides.store;
  if (!store) {
    const created = createStore(config, lazyCredential);
    store = created.store;
    opened = created;
  }
  return {
    store,
    exports: overrides.exports ?? blobWriter(config, config.blob.exportContainer, lazyCredential),
    state: overrides.state ?? createStateWriter(config, lazyCredential),
    signer: overrides.signer ?? (await createSigners(config, lazyCredential)),
    purger: overrides.purger ?? createPurger(config, logger, lazyCredential),
    logger,
    settings: publisherSettings(config),
    site: config.site,
    ...(config.blob.secondaryUrl
      ? {
          replication: {
            source: new BlobServiceGeoReplication(new BlobServiceClient(config.blob.secondaryUrl, lazyCredential(), blobPipelineOptions(config.blob.timeoutInMs)), { timeoutInMs: config.blob.timeoutInMs }),
            maxWaitSeconds: config.blob.geoReplicationMaxWaitSeconds,
          },
        }
      : {}),
    close: () => opened?.close(),
  };
}

/** Creates the two containers if missing: exports readable by anyone (blobs, not listings), state private. */
export async function prepareStorage(deps: Pick<PublisherDeps, 'exports' | 'state'>, options: { abortSignal?: AbortSignal } = {}): Promise<void> {
  await deps.exports.ensureContainer({ publicRead: true, abortSignal: options.abortSignal });
  await deps.state.ensureContainer({ publicRead: false, abortSignal: options.abortSignal });
}
