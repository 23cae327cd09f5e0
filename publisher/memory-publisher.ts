/**
 * A publisher on memory parts, for unit tests and demos: both containers in `MemoryBlobWriter`s
 * (created as `prepareStorage` creates them), keys in a `MemoryExposureStore`, files signed by a
 * `LocalSigner` with a fresh P-256 key, purges only logged. Any part can be passed in instead.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { silentLogger } from '../platform/log';
import { MemoryExposureStore } from '../exposures/memory-store';
import { MemoryBlobWriter } from './blob/memory-blob-writer';
import { LogOnlyPurger } from './purgers/log-only';
import type { PublisherDeps, PublisherSettings } from './publisher-deps';
import { prepareStorage } from './setup';
import { LocalSigner } from './signers/local';

export interface MemoryPublisher extends PublisherDeps {
  store: MemoryExposureStore;
  exports: MemoryBlobWriter;
  state: MemoryBlobWriter;
  /** Verifies what the default signer signs (not a signer passed in). */
  publicKey: KeyObject;
}

export interface MemoryPublisherParts extends Partial<Omit<PublisherDeps, 'store' | 'exports' | 'state' | 'settings'>> {
  store?: MemoryExposureStore;
  /** The clock both containers time leases by (ms; default `Date.now`). */
  leaseClock?: () => number;
}

export async function createMemoryPublisher(settings: PublisherSettings, parts: MemoryPublisherParts = {}): Promise<MemoryPublisher> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const logger = parts.logger ?? silentLogger;
  const publisher: MemoryPublisher = {
    store: parts.store ?? new MemoryExposureStore(),
    exports: new MemoryBlobWriter('exports', { clock: parts.leaseClock }),
    state: new MemoryBlobWriter('publisher-state', { clock: parts.leaseClock }),
    signer: parts.signer ?? new LocalSigner(privateKey, { keyId: '440', keyVersion: 'v1' }),
    purger: parts.purger ?? new LogOnlyPurger(logger),
    logger,
    settings,
    random: parts.random,
    publicKey,
  };
  await prepareStorage(publisher);
  return publisher;
}
