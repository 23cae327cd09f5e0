/**
 * The importer against a peer stand-in on loopback serving real signed files (the repo's export
 * builder): what it stores and with which provenance, each refusal code with nothing of that file
 * stored, files put off to the next run (404, slow peer, HTML) without progress passing them, and
 * keys that arrive twice stored once.
 */
import { exposureId, publishAtOf } from '../../exposures/exposure-store';
import { MemoryExposureStore } from '../../exposures/memory-store';
import { silentLogger } from '../../platform/log';
import { MAX_EXPORT_FILE_BYTES } from '../../proto/tek';
import { MemoryBlobWriter } from '../blob/memory-blob-writer';
import { peerFile, peerKey, peerKeys, startPeerStandIn, tampered, type PeerStandIn } from '../../test/support/peer-stand-in';
import { importFromPeer, type ImportOptions } from './import-peer';
import { readProgress } from './import-progress';
import type { Peer } from './peer';

const PORT = 20901;
const HOUR = 3600;
/** Our clock: files of the peer end in the hours before it. */
const NOW = new Date(Date.UTC(2026, 11, 7, 12));
const END = NOW.getTime() / 1000;
const key = peerKey('DE', 'v1');

let peerServer: PeerStandIn;
let store: MemoryExposureStore;
let state: MemoryBlobWriter;

function peer(overrides: Partial<Peer> = {}): Peer {
  return { name: 'de', indexUrl: `${peerServer.url}/v1/DE/index.txt`, indexFormat: 'keyfront', publicKey: key.publicKeyPem, keyId: 'DE', keyVersion: 'v1', sourceRegion: 'DE', intoRegion: '440', ...overrides };
}

const options: ImportOptions = { peerTimeoutInMs: 500, leaseSeconds: 15, now: () => NOW };
const deps = () => ({ store, state, logger: silentLogger });

/** Serves files at `v1/DE/{name}` and an index naming them in order. */
function serve(files: Array<[name: string, body: Buffer | undefined, extra?: { contentType?: string; delayInMs?: number }]>): string[] {
  const paths = files.map(([name]) => `v1/DE/${name}`);
  peerServer.answers.set('/v1/DE/index.txt', { body: paths.join('\n') });
  for (const [name, body, extra] of files) if (body) peerServer.answers.set(`/v1/DE/${name}`, { body, ...extra });
  return paths;
}

const name = (hour: number) => `${END - (hour + 1) * HOUR}-${END - hour * HOUR}-00001.zip`;

beforeAll(async () => {
  peerServer = await startPeerStandIn(PORT);
});
afterAll(() => peerServer.stop());
beforeEach(async () => {
  peerServer.answers.clear();
  store = new MemoryExposureStore();
  state = new MemoryBlobWriter('publisher-state');
  await state.ensureContainer({ publicRead: false });
});

it('stores the keys of every new file into our region, with their provenance and the publish time of an upload now, and records the last file', async () => {
  const keys = [peerKeys(END - 2 * HOUR, 3), peerKeys(END - HOUR, 2)];
  const paths = serve([[name(2), await peerFile(key, 'DE', END - 2 * HOUR, keys[0])], [name(1), await peerFile(key, 'DE', END - HOUR, keys[1])]]);
  const report = await importFromPeer(peer(), deps(), options);
  expect(report).toMatchObject({ status: 'done', filesImported: 2, keysNew: 5, refused: {}, last: paths[1] });
  const stored = await store.get('440', keys.flat().map((tek) => exposureId('440', tek.keyData)));
  expect(stored).toHaveLength(5);
  const first = stored.find((e) => Buffer.from(e.tek.keyData).equals(Buffer.from(keys[0][0].keyData)))!;
  expect(first).toMatchObject({ region: '440', source: { peer: 'de', file: paths[0] }, uploadedAt: END, publishAt: publishAtOf(keys[0][0], END) });
  expect((await readProgress(state, 'de')).progress).toMatchObject({ last: paths[1], filesImported: 2, keysImported: 5, lastSuccessAt: END });
  // A second run finds nothing new and fetches no file again.
  peerServer.requests.length = 0;
  expect(await importFromPeer(peer(), deps(), options)).toMatchObject({ status: 'done', filesImported: 0, files: [] });
  expect(peerServer.requests).toEqual(['/v1/DE/index.txt']);
});

it('reads a Google reference server index (paths relative to the bucket root) the same way', async () => {
  const keys = peerKeys(END - HOUR, 2);
  peerServer.answers.set('/bucket/exposureKeyExport-DE/index.txt', { body: `exposureKeyExport-DE/${name(1)}\n` });
  peerServer.answers.set(`/bucket/exposureKeyExport-DE/${name(1)}`, { body: await peerFile(key, 'DE', END - HOUR, keys) });
  const report = await importFromPeer(peer({ indexFormat: 'google', indexUrl: `${peerServer.url}/bucket/exposureKeyExport-DE/index.txt` }), deps(), options);
  expect(report).toMatchObject({ status: 'done', filesImported: 1, keysNew: 2 });
});

describe('refuses a bad file with its code, stores nothing of it, imports the rest and never asks for it again', () => {
  const other = peerKey('DE', 'v1');
  // Every row has its three cells: a shorter row would make jest take the third parameter for `done`.
  const cases: Array<[code: string, make: () => Promise<Buffer>, peerOverrides: Partial<Peer>]> = [
    ['signature_invalid', async () => tampered(await peerFile(key, 'DE', END - 2 * HOUR, peerKeys(END - 2 * HOUR, 2))), {}],
    ['signature_invalid', async () => peerFile(other, 'DE', END - 2 * HOUR, peerKeys(END - 2 * HOUR, 2)), {}], // another key under the peer's id
    ['signature_invalid', async () => peerFile(peerKey('DE', 'v2'), 'DE', END - 2 * HOUR, peerKeys(END - 2 * HOUR, 2)), { keyVersion: 'v1' }],
    ['wrong_region', async () => peerFile(key, 'FR', END - 2 * HOUR, peerKeys(END - 2 * HOUR, 2)), {}],
    ['rolling_start_too_old', async () => peerFile(key, 'DE', END - 2 * HOUR, peerKeys(END - 20 * 86400, 2)), {}],
    ['rolling_start_in_future', async () => peerFile(key, 'DE', END - 2 * HOUR, peerKeys(END + 3 * 86400, 2)), {}],
    ['zip_invalid', async () => Buffer.from('PK not really a zip'), {}],
    ['file_too_large', async () => Buffer.alloc(MAX_EXPORT_FILE_BYTES + 1), {}],
  ];
  it.each(cases)('%s', async (code, make, overrides) => {
    const bad = await make();
    const good = peerKeys(END - HOUR, 2);
    const paths = serve([[name(2), bad], [name(1), await peerFile(key, 'DE', END - HOUR, good)]]);
    const report = await importFromPeer(peer(overrides), deps(), options);
    expect(report).toMatchObject({ status: 'done', filesImported: 1, keysNew: 2, refused: { [code]: 1 }, last: paths[1] });
    expect(report.files[0]).toMatchObject({ path: paths[0], status: 'refused', code });
    expect(store.size).toBe(2);
    expect((await readProgress(state, 'de')).progress.refused).toEqual({ [code]: 1 });
    peerServer.requests.length = 0;
    await importFromPeer(peer(overrides), deps(), options);
    expect(peerServer.requests).toEqual(['/v1/DE/index.txt']);
  });
});

describe('puts off a file the peer cannot give now: nothing after it is imported this run, and the next run imports it', () => {
  const cases: Array<[code: string, extra: { body?: Buffer; contentType?: string; delayInMs?: number } | undefined]> = [
    ['file_missing', undefined],
    ['peer_timeout', { delayInMs: 1500 }],
    ['html_answer', { body: Buffer.from('<!doctype html><title>Sign in to the Wi-Fi</title>'), contentType: 'text/html' }],
  ];
  it.each(cases)('%s', async (code, extra) => {
    const keys = [peerKeys(END - 3 * HOUR, 1), peerKeys(END - 2 * HOUR, 2), peerKeys(END - HOUR, 3)];
    const files = await Promise.all(keys.map((k, i) => peerFile(key, 'DE', END - (3 - i) * HOUR, k)));
    const paths = serve([[name(3), files[0]], [name(2), extra ? (extra.body ?? files[1]) : undefined, extra], [name(1), files[2]]]);
    const report = await importFromPeer(peer(), deps(), options);
    expect(report).toMatchObject({ status: 'behind', code, filesImported: 1, keysNew: 1, last: paths[0] });
    expect(store.size).toBe(1);
    const progress = (await readProgress(state, 'de')).progress;
    expect(progress.last).toBe(paths[0]);
    expect(progress.lastSuccessAt).toBeUndefined();
    // The peer gives the file now.
    peerServer.answers.set(`/v1/DE/${name(2)}`, { body: files[1] });
    expect(await importFromPeer(peer(), deps(), options)).toMatchObject({ status: 'done', filesImported: 2, keysNew: 5, last: paths[2] });
    expect(store.size).toBe(6);
  });
});

it.each([
  ['an HTML page served as text', { body: '<html><body>Not Found</body></html>', contentType: 'text/plain' }, 'html_answer'],
  ['a path out of the index folder', { body: 'v1/DE/../../etc/passwd\n' }, 'index_invalid'],
  ['a 404', undefined, 'index_missing'],
  ['wrong region in the index', { body: 'v1/FR/1-2-00001.zip\n' }, 'index_invalid'],
  ['a 503', { status: 503, body: 'busy' }, 'peer_error'],
])('an index that cannot be used (%s) imports nothing and records nothing', async (_what, answer, code) => {
  if (answer) peerServer.answers.set('/v1/DE/index.txt', answer);
  expect(await importFromPeer(peer(), deps(), options)).toMatchObject({ status: 'failed', code, files: [] });
  expect(store.size).toBe(0);
  expect((await readProgress(state, 'de')).progress.last).toBeUndefined();
});

it('stores a key once when two peers (or a peer and a phone) bring it', async () => {
  const shared = peerKeys(END - HOUR, 2);
  const local = shared[0];
  await store.insert([{ id: exposureId('440', local.keyData), region: '440', tek: local, uploadedAt: END - 60, publishAt: publishAtOf(local, END - 60) }]);
  serve([[name(1), await peerFile(key, 'DE', END - HOUR, shared)]]);
  expect(await importFromPeer(peer(), deps(), options)).toMatchObject({ filesImported: 1, keysNew: 1 });
  const second = peerKey('AT', 'v1');
  peerServer.answers.set('/v1/AT/index.txt', { body: `v1/AT/${name(1)}` });
  peerServer.answers.set(`/v1/AT/${name(1)}`, { body: await peerFile(second, 'AT', END - HOUR, shared) });
  const at = peer({ name: 'at', indexUrl: `${peerServer.url}/v1/AT/index.txt`, publicKey: second.publicKeyPem, keyId: 'AT', sourceRegion: 'AT' });
  expect(await importFromPeer(at, deps(), options)).toMatchObject({ filesImported: 1, keysNew: 0 });
  expect(store.size).toBe(2);
  // The phone's copy keeps its own provenance (none).
  expect((await store.get('440', [exposureId('440', local.keyData)]))[0].source).toBeUndefined();
});

it('lets one importer of a peer run at a time: a second one finds it busy', async () => {
  serve([[name(1), await peerFile(key, 'DE', END - HOUR, peerKeys(END - HOUR, 1)), { delayInMs: 300 }]]);
  const [a, b] = await Promise.all([importFromPeer(peer(), deps(), options), importFromPeer(peer(), deps(), options)]);
  expect([a.status, b.status].sort()).toEqual(['busy', 'done']);
  expect(store.size).toBe(1);
});

it('a peer nobody answers for is peer_unreachable, and nothing is recorded', async () => {
  // Nothing listens on this port of the range the tests use.
  const gone = peer({ indexUrl: 'http://127.0.0.1:20910/v1/DE/index.txt' });
  expect(await importFromPeer(gone, deps(), options)).toMatchObject({ status: 'failed', code: 'peer_unreachable', files: [] });
  expect((await readProgress(state, 'de')).progress.last).toBeUndefined();
});

it('reports a failure on our side (the state container) as the failed import of the peer, without throwing and without asking the peer', async () => {
  serve([[name(1), await peerFile(key, 'DE', END - HOUR, peerKeys(END - HOUR, 1))]]);
  const missing = new MemoryBlobWriter('publisher-state'); // its container was never created
  const asked = peerServer.requests.length;
  const report = await importFromPeer(peer(), { store, state: missing, logger: silentLogger }, options);
  expect(report).toMatchObject({ status: 'failed', files: [], filesImported: 0, error: expect.any(String) });
  expect(store.size).toBe(0);
  expect(peerServer.requests.length).toBe(asked);
});
