/**
 * Health authority keys from a JWKS URI, served by a real local HTTPS server (the loopback test
 * certificate): fetching, cache headers, rotation by kid, the bounded refresh rate, outage with
 * the last good keys for a bounded time, bad JSON, a wrong curve and an oversized document.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import type { HealthAuthority } from '../config';
import { HttpError } from '../errors';
import { createDevHealthAuthority, type DevHealthAuthority } from '../../scripts/local-stack/dev-material';
import { issueVerificationCertificate } from '../../scripts/local-stack/verification-certificate';
import { dailyKeys, NOW } from '../../test/support/api-fixture';
import { CertificateVerifier } from './certificate';
import { freshnessInMs, MAX_JWKS_BYTES, type JwksSettings } from './certificate-jwks';

const TLS_DIR = path.join(__dirname, '..', '..', 'test', 'fixtures', 'tls');
const ca = readFileSync(path.join(TLS_DIR, 'loopback-cert.pem'));
const agent = new Agent({ connect: { ca } });
const trustingFetch = ((input: string, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch;

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A JWKS endpoint whose answer the test sets; it counts requests and records If-None-Match. */
interface JwksServer {
  uri: string;
  answer: Answer | 'hang-up';
  requests: { ifNoneMatch: string | undefined }[];
  stop(): Promise<void>;
}

async function startJwksServer(): Promise<JwksServer> {
  const state: JwksServer = { uri: '', answer: { status: 404 }, requests: [], stop: async () => undefined };
  const server: Server = createServer({ key: readFileSync(path.join(TLS_DIR, 'loopback-key.pem')), cert: ca }, (req, res) => {
    state.requests.push({ ifNoneMatch: req.headers['if-none-match'] });
    const answer = state.answer;
    if (answer === 'hang-up') {
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.uri = `https://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  state.stop = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}

const jwksOf = (...signers: DevHealthAuthority[]) => JSON.stringify({ keys: signers.map((s) => s.publicJwk) });
const SETTINGS: JwksSettings = { minRefreshInMs: 1000, defaultMaxAgeInMs: 60_000, maxStaleInMs: 600_000, fetchTimeoutInMs: 2000 };
const keys = dailyKeys(2);

let server: JwksServer;
let clock: number;
let verifier: CertificateVerifier | undefined;

beforeEach(async () => {
  server = await startJwksServer();
  clock = NOW.getTime();
});

afterEach(async () => {
  verifier?.stop();
  verifier = undefined;
  await server.stop();
});

function authorityAt(uri: string, staticSigner?: DevHealthAuthority): HealthAuthority {
  const template = createDevHealthAuthority();
  return { id: 'remote', issuer: template.issuer, audience: template.audience, regions: ['440'], jwks: { keys: staticSigner ? [staticSigner.publicJwk] : [] }, jwksUri: uri };
}

function newVerifier(staticSigner?: DevHealthAuthority): CertificateVerifier {
  verifier = new CertificateVerifier([authorityAt(server.uri, staticSigner)], { clockSkewSeconds: 60, maxAgeSeconds: 3600, jwks: SETTINGS, jwksDeps: { fetch: trustingFetch, now: () => clock } });
  return verifier;
}

/** `accepted`, or the refusal as `status code`. */
async function outcome(by: DevHealthAuthority): Promise<string> {
  const issued = await issueVerificationCertificate(by, { now: NOW, keys });
  try {
    await verifier!.verify({ healthAuthorityID: 'remote', keys, verificationPayload: issued.verificationPayload, hmacKey: issued.hmacKey }, NOW);
    return 'accepted';
  } catch (error) {
    if (error instanceof HttpError) return `${error.status} ${error.code}`;
    throw error;
  }
}

describe('health authority keys from a JWKS URI', () => {
  const first = createDevHealthAuthority();
  const second = createDevHealthAuthority();

  it('accepts certificates signed by a published key and refuses others by kid', async () => {
    server.answer = { status: 200, headers: { 'cache-control': 'max-age=300' }, body: jwksOf(first) };
    newVerifier();
    expect(await outcome(first)).toBe('accepted');
    expect(await outcome(second)).toBe('401 health_authority_verification_certificate_invalid');
  });

  it('keeps the keys as long as Cache-Control says, then refreshes conditionally with the ETag', async () => {
    server.answer = { status: 200, headers: { 'cache-control': 'max-age=300', etag: '"v1"' }, body: jwksOf(first) };
    newVerifier();
    expect(await outcome(first)).toBe('accepted');
    clock += 200_000;
    expect(await outcome(first)).toBe('accepted');
    expect(server.requests).toHaveLength(1);
    server.answer = { status: 304, headers: { 'cache-control': 'max-age=300', etag: '"v1"' } };
    clock += 150_000;
    await verifier!['authorities'].get('remote')!.remote!.refresh();
    expect(server.requests.map((r) => r.ifNoneMatch)).toEqual([undefined, '"v1"']);
    expect(await outcome(first)).toBe('accepted');
  });

  it('follows a rotation without restart: an unknown kid refreshes the keys once, at most once per minimum interval', async () => {
    server.answer = { status: 200, headers: { 'cache-control': 'max-age=3600' }, body: jwksOf(first) };
    newVerifier();
    expect(await outcome(first)).toBe('accepted');
    server.answer = { status: 200, headers: { 'cache-control': 'max-age=3600' }, body: jwksOf(second) };
    // Within the minimum interval of the first fetch: no fetch, the unknown kid is refused.
    expect(await outcome(second)).toBe('401 health_authority_verification_certificate_invalid');
    expect(server.requests).toHaveLength(1);
    clock += SETTINGS.minRefreshInMs;
    const burst = await Promise.all(Array.from({ length: 20 }, () => outcome(second)));
    expect(new Set(burst)).toEqual(new Set(['accepted']));
    expect(server.requests).toHaveLength(2);
    // The old key left the document: its certificates are refused now.
    expect(await outcome(first)).toBe('401 health_authority_verification_certificate_invalid');
  });

  it('keeps the last good keys through an outage for the allowed time, then refuses with health_authority_keys_unavailable', async () => {
    server.answer = { status: 200, headers: { 'cache-control': 'max-age=60' }, body: jwksOf(first) };
    newVerifier();
    expect(await outcome(first)).toBe('accepted');
    server.answer = 'hang-up';
    clock += 60_000 + SETTINGS.maxStaleInMs;
    expect(await outcome(first)).toBe('accepted');
    clock += 1;
    expect(await outcome(first)).toBe('503 health_authority_keys_unavailable');
    // Back up: the next refresh (the minimum interval later) brings the keys back.
    server.answer = { status: 200, headers: { 'cache-control': 'max-age=60' }, body: jwksOf(first) };
    clock += SETTINGS.minRefreshInMs;
    expect(await outcome(first)).toBe('accepted');
  });

  it('answers the unavailable code with Retry-After when the URI never answered', async () => {
    server.answer = { status: 500, body: '{}' };
    newVerifier();
    const issued = await issueVerificationCertificate(first, { now: NOW, keys });
    const refusal = await verifier!.verify({ healthAuthorityID: 'remote', keys, ...issued }, NOW).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(HttpError);
    expect([(refusal as HttpError).status, (refusal as HttpError).code, (refusal as HttpError).headers['Retry-After']]).toEqual([503, 'health_authority_keys_unavailable', '1']);
  });

  const p384 = { ...(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' }) as object), kid: 'p384' };
  const oversized = JSON.stringify({ keys: [first.publicJwk], filler: 'x'.repeat(MAX_JWKS_BYTES) });
  it.each([
    ['bad JSON', '{"keys": [', {}],
    ['no keys array', '{"key": []}', {}],
    ['a wrong curve only (P-384)', JSON.stringify({ keys: [p384] }), {}],
    ['a private key', JSON.stringify({ keys: [first.privateJwk] }), {}],
    ['an oversized document (Content-Length)', oversized, {}],
    ['an oversized document (chunked)', oversized, { 'transfer-encoding': 'chunked' }],
  ])('refuses %s: the previous keys stay, and without any the upload is refused', async (_what, body, headers) => {
    server.answer = { status: 200, headers, body };
    newVerifier();
    expect(await outcome(first)).toBe('503 health_authority_keys_unavailable');
    server.answer = { status: 200, headers: { 'cache-control': 'max-age=60' }, body: jwksOf(first) };
    clock += SETTINGS.minRefreshInMs;
    expect(await outcome(first)).toBe('accepted');
    server.answer = { status: 200, headers, body };
    clock += 61_000;
    await verifier!['authorities'].get('remote')!.remote!.refresh();
    expect(await outcome(first)).toBe('accepted');
  });

  it('skips keys of another curve in a document that also holds a P-256 key', async () => {
    server.answer = { status: 200, body: JSON.stringify({ keys: [p384, first.publicJwk] }) };
    newVerifier();
    expect(await outcome(first)).toBe('accepted');
  });

  it('still accepts the static keys of an authority that also has a JWKS URI, even while the URI is down', async () => {
    server.answer = 'hang-up';
    newVerifier(second);
    expect(await outcome(second)).toBe('accepted');
    expect(await outcome(first)).toBe('503 health_authority_keys_unavailable');
  });
});

describe('freshnessInMs', () => {
  it.each([
    [{ 'cache-control': 'public, max-age=600' }, 600_000],
    [{ 'cache-control': 'max-age=600', age: '100' }, 500_000],
    [{ 'cache-control': 'no-cache' }, 0],
    [{ 'cache-control': 'no-store, max-age=600' }, 0],
    [{ expires: 'Sun, 06 Dec 2026 02:10:00 GMT', date: 'Sun, 06 Dec 2026 02:00:00 GMT' }, 600_000],
    [{}, undefined],
  ])('reads %j as %p ms', (headers, expected) => {
    expect(freshnessInMs(new Headers(headers as Record<string, string>))).toBe(expected);
  });
});
