/**
 * The publisher app's scheduled import: every peer in turn, one peer's failure not stopping the next,
 * each peer's figures recorded, and the invocation failed only for a peer that failed (not for one
 * that is behind a file its peer cannot give now).
 */
import { InvocationContext, type Timer } from '@azure/functions';
import { noopMetrics, type Metrics, type PeerImportFigures } from '../../platform/metrics';
import { createMemoryPublisher } from '../memory-publisher';
import { TEST_SETTINGS } from '../../test/support/publisher-harness';
import { peerFile, peerKey, peerKeys, startPeerStandIn, type PeerStandIn } from '../../test/support/peer-stand-in';
import { createImportFromPeersHandler } from './import-timer';
import type { Peer } from './peer';

const PORT = 20909;
const HOUR = 3600;
const key = peerKey('DE', 'v1');
let peerServer: PeerStandIn;

beforeAll(async () => {
  peerServer = await startPeerStandIn(PORT);
});
afterAll(() => peerServer.stop());

const peer = (name: string, folder: string): Peer => ({ name, indexUrl: `${peerServer.url}/${folder}/index.txt`, indexFormat: 'google', publicKey: key.publicKeyPem, keyId: 'DE', keyVersion: 'v1', sourceRegion: 'DE', intoRegion: '440' });
const timer: Timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };

it('imports from every peer, records each, and fails the invocation naming the peer that failed', async () => {
  const end = Math.floor(Date.now() / 1000 / HOUR) * HOUR;
  const file = `${end - 2 * HOUR}-${end - HOUR}-00001.zip`;
  peerServer.answers.set('/good/index.txt', { body: `good/${file}` });
  peerServer.answers.set(`/good/${file}`, { body: await peerFile(key, 'DE', end - HOUR, peerKeys(end - HOUR, 3)) });
  peerServer.answers.set('/behind/index.txt', { body: `behind/${file}` });
  // `broken` has no index at all: index_missing.
  const publisher = await createMemoryPublisher({ ...TEST_SETTINGS, regions: ['440'] });
  await publisher.state.ensureContainer({ publicRead: false });
  const recorded: PeerImportFigures[] = [];
  const metrics: Metrics = { ...noopMetrics, peerImport: (figures) => void recorded.push(figures) };
  const handler = createImportFromPeersHandler(async () => publisher, { peers: [peer('broken', 'broken'), peer('good', 'good'), peer('behind', 'behind')], peerTimeoutInMs: 2000 }, metrics);
  await expect(handler(timer, new InvocationContext({ invocationId: 'tick-1' }))).rejects.toThrow(/importing failed for broken \(index_missing\)/);
  expect(recorded.map(({ peer: name, status, keysNew }) => ({ name, status, keysNew }))).toEqual([
    { name: 'broken', status: 'failed', keysNew: 0 },
    { name: 'good', status: 'done', keysNew: 3 },
    { name: 'behind', status: 'behind', keysNew: 0 },
  ]);
  expect(recorded[2].files).toEqual([expect.objectContaining({ status: 'deferred', code: 'file_missing' })]);
});
