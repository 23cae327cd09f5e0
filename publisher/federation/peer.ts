/**
 * A peer server whose published export files this server imports: where its index is, the layout
 * of that index, the key its files are signed with, and which of our regions its keys go to. Read
 * from KEYFRONT_FEDERATION_PEERS (publisher settings) or from `keyfront federation import`'s flags.
 */
import { loadPublicKey } from '../../proto/signature';
import { REGION_PATTERN } from '../../platform/settings';
import { SIGNATURE_ID_PATTERN } from '../signers/signer-settings';

/** How a peer's index names its files: keyfront (`v1/{region}/{start}-{end}-{n}.zip`) or Google's reference server (`{filenameRoot}/{start}-{end}-{batch}.zip`, relative to the bucket root). */
export const INDEX_FORMATS = ['keyfront', 'google'] as const;
export type IndexFormat = (typeof INDEX_FORMATS)[number];

/** A peer's name: in blob names, metrics and logs. */
export const PEER_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

export interface Peer {
  name: string;
  /** The peer's index.txt (http(s)); the files it names sit beside it. */
  indexUrl: string;
  indexFormat: IndexFormat;
  /** The peer's P-256 public key, PEM (SPKI) or JWK JSON text. */
  publicKey: string;
  keyId: string;
  keyVersion: string;
  /** The region the peer's files must carry. */
  sourceRegion: string;
  /** Our region the keys are stored into (and published in by our publisher). */
  intoRegion: string;
}

/** What is wrong with one peer's fields, each problem a sentence naming the field; empty when none. */
export function peerProblems(peer: Partial<Record<keyof Peer, unknown>>, regions?: readonly string[]): string[] {
  const problems: string[] = [];
  const text = (field: keyof Peer) => (typeof peer[field] === 'string' ? (peer[field] as string) : undefined);
  const name = text('name');
  if (name === undefined || !PEER_NAME_PATTERN.test(name)) problems.push(`name must match ${PEER_NAME_PATTERN.source}, got ${JSON.stringify(peer.name ?? null)}`);
  const url = text('indexUrl');
  let parsed: URL | undefined;
  try {
    parsed = url === undefined ? undefined : new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || !parsed.pathname.endsWith('/index.txt')) problems.push(`indexUrl must be the http(s) URL of the peer's index.txt, got ${JSON.stringify(peer.indexUrl ?? null)}`);
  if (!(INDEX_FORMATS as readonly unknown[]).includes(peer.indexFormat)) problems.push(`indexFormat must be one of ${INDEX_FORMATS.join(', ')}, got ${JSON.stringify(peer.indexFormat ?? null)}`);
  for (const field of ['keyId', 'keyVersion'] as const) {
    const value = text(field);
    if (value === undefined || !SIGNATURE_ID_PATTERN.test(value)) problems.push(`${field} must match ${SIGNATURE_ID_PATTERN.source}, got ${JSON.stringify(peer[field] ?? null)}`);
  }
  for (const field of ['sourceRegion', 'intoRegion'] as const) {
    const value = text(field);
    if (value === undefined || !REGION_PATTERN.test(value)) problems.push(`${field} must be a region of ${REGION_PATTERN.source}, got ${JSON.stringify(peer[field] ?? null)}`);
  }
  const into = text('intoRegion');
  if (regions && into !== undefined && REGION_PATTERN.test(into) && !regions.includes(into)) problems.push(`intoRegion ${JSON.stringify(into)} is not a region this server publishes (${regions.join(', ')})`);
  const key = text('publicKey');
  try {
    if (key === undefined) throw new Error('missing');
    loadPublicKey(key);
    // loadPublicKey derives the public key from a private one: the text says which it was given.
    if (/PRIVATE KEY/.test(key) || /"d"\s*:/.test(key)) throw new Error('private');
  } catch (error) {
    problems.push((error as Error).message === 'private' ? 'publicKey holds a private key: give the peer\'s public key only' : 'publicKey must be a P-256 public key, PEM (SPKI) or JWK JSON');
  }
  return problems;
}

/**
 * The peers of KEYFRONT_FEDERATION_PEERS: a JSON array of peers. Problems name the entry (by
 * position) and the field; the public key's text is never repeated.
 */
export function parsePeersSetting(json: string, regions?: readonly string[]): { peers?: Peer[]; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { problems: ['must be a JSON array of peers ({name, indexUrl, indexFormat, publicKey, keyId, keyVersion, sourceRegion, intoRegion})'] };
  }
  if (!Array.isArray(value)) return { problems: ['must be a JSON array of peers'] };
  const problems: string[] = [];
  const peers: Peer[] = [];
  for (const [i, entry] of value.entries()) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`peer ${i} must be a JSON object`);
      continue;
    }
    const found = peerProblems(entry as Record<string, unknown>, regions);
    problems.push(...found.map((problem) => `peer ${i}: ${problem}`));
    if (found.length === 0) peers.push(entry as Peer);
  }
  const names = peers.map((peer) => peer.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) problems.push(`the peer name ${JSON.stringify(repeated)} is used twice: each peer keeps its own progress under its name`);
  return problems.length > 0 ? { problems } : { peers, problems };
}
