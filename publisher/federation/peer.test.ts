/** KEYFRONT_FEDERATION_PEERS as the publisher reads it: every problem names the peer and the field, never the key. */
import { generateKeyPairSync } from 'node:crypto';
import { loadPublisherConfig } from '../config';
import { parsePeersSetting } from './peer';

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const good = { name: 'de', indexUrl: 'https://peer.example/v1/DE/index.txt', indexFormat: 'keyfront', publicKey: PUBLIC_PEM, keyId: 'DE', keyVersion: 'v1', sourceRegion: 'DE', intoRegion: '440' };

it('reads a list of peers', () => {
  expect(parsePeersSetting(JSON.stringify([good, { ...good, name: 'at', indexFormat: 'google', indexUrl: 'https://storage.example/bucket/exposureKeyExport-AT/index.txt' }]), ['440'])).toEqual({
    peers: [good, expect.objectContaining({ name: 'at', indexFormat: 'google' })],
    problems: [],
  });
});

it.each([
  ['not JSON', '{', /must be a JSON array of peers/],
  ['an object', '{}', /must be a JSON array of peers/],
  ['a bad name', JSON.stringify([{ ...good, name: 'DE peer' }]), /^peer 0: name must match/],
  ['an index URL that is not an index.txt', JSON.stringify([{ ...good, indexUrl: 'https://peer.example/v1/DE/' }]), /^peer 0: indexUrl must be the http\(s\) URL of the peer's index.txt/],
  ['an unknown format', JSON.stringify([{ ...good, indexFormat: 'cwa' }]), /^peer 0: indexFormat must be one of keyfront, google/],
  ['a private key', JSON.stringify([{ ...good, publicKey: PRIVATE_PEM }]), /^peer 0: publicKey holds a private key/],
  ['a garbage key', JSON.stringify([{ ...good, publicKey: 'nope' }]), /^peer 0: publicKey must be a P-256 public key/],
  ['a region we do not publish', JSON.stringify([{ ...good, intoRegion: '441' }]), /^peer 0: intoRegion "441" is not a region this server publishes \(440\)/],
  ['a name used twice', JSON.stringify([good, good]), /the peer name "de" is used twice/],
])('refuses %s, naming it', (_what, json, problem) => {
  const parsed = parsePeersSetting(json, ['440']);
  expect(parsed.peers).toBeUndefined();
  expect(parsed.problems).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
  expect(parsed.problems.join('\n')).not.toContain('BEGIN');
});

describe('publisher settings', () => {
  const base = { KEYFRONT_COSMOS_ENDPOINT: 'https://a.documents.azure.com', KEYFRONT_BLOB_ACCOUNT_URL: 'https://a.blob.core.windows.net' };

  it('have no peers, a schedule between publisher runs and a 30 s peer bound by default', () => {
    expect(loadPublisherConfig(base).federation).toEqual({ peers: [], schedule: '0 5-59/15 * * * *', peerTimeoutInMs: 30000 });
  });

  it('read KEYFRONT_FEDERATION_PEERS and KEYFRONT_PEER_TIMEOUT_MS, and name the variable of a bad one', () => {
    expect(loadPublisherConfig({ ...base, KEYFRONT_FEDERATION_PEERS: JSON.stringify([good]), KEYFRONT_PEER_TIMEOUT_MS: '5000' }).federation).toMatchObject({ peers: [good], peerTimeoutInMs: 5000 });
    expect(() => loadPublisherConfig({ ...base, KEYFRONT_FEDERATION_PEERS: JSON.stringify([{ ...good, intoRegion: '441' }]) })).toThrow(/KEYFRONT_FEDERATION_PEERS peer 0: intoRegion "441"/);
    expect(() => loadPublisherConfig({ ...base, KEYFRONT_PEER_TIMEOUT_MS: '10' })).toThrow(/KEYFRONT_PEER_TIMEOUT_MS must be an integer from 100 to 600000, got "10"/);
  });
});
