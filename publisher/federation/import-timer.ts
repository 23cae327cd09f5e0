/**
 * The publisher app's scheduled import (`importFromPeers`, on KEYFRONT_FEDERATION_SCHEDULE): each
 * peer of KEYFRONT_FEDERATION_PEERS in turn, its figures recorded per peer. A peer that is behind
 * (a file it cannot give now) or busy does not fail the invocation: its metrics and alert say so.
 * A peer whose import failed (our storage, an unusable index) fails it, so the Functions monitor
 * shows it; the next tick continues from the recorded progress.
 */
import type { InvocationContext, Timer } from '@azure/functions';
import { noopMetrics, type Metrics } from '../../platform/metrics';
import type { PublisherDeps } from '../publisher-deps';
import { importFromPeer, type ImportDeps, type PeerImportReport } from './import-peer';
import type { Peer } from './peer';

export interface PeersImportSettings {
  peers: readonly Peer[];
  peerTimeoutInMs: number;
  leaseSeconds: number;
}

/** Imports from every peer, one after the other; a peer's failure does not stop the next. */
export async function importFromPeers(deps: ImportDeps, settings: PeersImportSettings, options: { metrics?: Metrics; abortSignal?: AbortSignal } = {}): Promise<PeerImportReport[]> {
  const reports: PeerImportReport[] = [];
  for (const peer of settings.peers) {
    // Never throws: a failure on our side (the state container) is the peer's failed import.
    const result = await importFromPeer(peer, deps, { peerTimeoutInMs: settings.peerTimeoutInMs, leaseSeconds: settings.leaseSeconds, abortSignal: options.abortSignal });
    (options.metrics ?? noopMetrics).peerImport(result);
    reports.push(result);
  }
  deps.logger.info('federation import', { peers: reports.map(({ peer, status, filesImported, keysNew, refused, code }) => ({ peer, status, filesImported, keysNew, refused, ...(code ? { code } : {}) })) });
  return reports;
}

export function createImportFromPeersHandler(getPublisher: () => Promise<PublisherDeps>, settings: Omit<PeersImportSettings, 'leaseSeconds'>, metrics: Metrics = noopMetrics) {
  return async function importFromPeersHandler(_timer: Timer, context: InvocationContext): Promise<void> {
    const publisher = await getPublisher();
    const logger = publisher.logger.child({ invocationId: context.invocationId, function: 'importFromPeers' });
    const reports = await importFromPeers({ store: publisher.store, state: publisher.state, logger }, { ...settings, leaseSeconds: publisher.settings.leaseSeconds }, { metrics, abortSignal: AbortSignal.timeout(publisher.settings.deadlineSeconds * 1000) });
    const failed = reports.filter((report) => report.status === 'failed');
    if (failed.length > 0) throw new Error(`importing failed for ${failed.map((r) => `${r.peer} (${r.code ?? r.error ?? 'unknown'})`).join(', ')}; the next run continues from what was recorded`);
  };
}
