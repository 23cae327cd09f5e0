/**
 * `keyfront federation import` as an operator meets it, run as the real CLI process: each bad
 * argument or key file is a usage error (exit 2) that names the flag and says what was expected,
 * before any store or peer is touched; a target that does not run is exit 1.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runKeyfront, STACK_TRACE } from '../support/cli';

jest.setTimeout(120_000);

const dir = mkdtempSync(path.join(tmpdir(), 'keyfront-federation-cli-'));
const at = (name: string) => path.join(dir, name);
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
writeFileSync(at('peer-public.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
writeFileSync(at('peer-private.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
writeFileSync(at('garbage.pem'), 'not a key\n');

/** Settings naming a store of their own (never reached: every case fails before), publishing region 440. */
const env = { KEYFRONT_COSMOS_ENDPOINT: 'https://127.0.0.1:20914', KEYFRONT_COSMOS_KEY: 'a2V5', KEYFRONT_BLOB_CONNECTION_STRING: 'UseDevelopmentStorage=true', KEYFRONT_REGIONS: '440', KEYFRONT_DATA_DIR: dir };

function args(overrides: Record<string, string | undefined> = {}): string[] {
  const flags: Record<string, string | undefined> = { '--from': 'http://127.0.0.1:20914/v1/DE/index.txt', '--public-key': at('peer-public.pem'), '--key-id': 'DE', '--key-version': 'v1', '--source-region': 'DE', '--into-region': '440', ...overrides };
  return ['federation', 'import', '--once', ...Object.entries(flags).flatMap(([flag, value]) => (value === undefined ? [] : [flag, value]))];
}

it.each([
  ['a --from that is not a URL', { '--from': 'peer.example/index.txt' }, "--from must be the http(s) URL of the peer's index.txt"],
  ['a --from that is not an index.txt', { '--from': 'https://peer.example/v1/DE/' }, "--from must be the http(s) URL of the peer's index.txt"],
  ['a missing key file', { '--public-key': at('nowhere.pem') }, `cannot read public key ${at('nowhere.pem')}: no such file`],
  ['a private key file', { '--public-key': at('peer-private.pem') }, 'holds a private key; pass the public one'],
  ['a garbage key file', { '--public-key': at('garbage.pem') }, 'holds no PEM key; expected an ECDSA P-256 public key'],
  ['a bad source region', { '--source-region': 'D E' }, '--source-region must be a region of'],
  ['a region we do not publish', { '--into-region': '999' }, '--into-region "999" is not a region this server publishes (440; KEYFRONT_REGIONS)'],
  ['an unknown index format', { '--index-format': 'cwa' }, '--index-format must be one of keyfront, google'],
  ['a bad key id', { '--key-id': 'D-E' }, '--key-id must match'],
])('%s is a usage error (exit 2) naming the flag', async (_what, overrides, message) => {
  const run = await runKeyfront(args(overrides), { env });
  expect({ status: run.status, stdout: run.stdout }).toEqual({ status: 2, stdout: '' });
  expect(run.stderr).toContain(message);
  expect(run.stderr).not.toMatch(STACK_TRACE);
});

it('without --once it says so (exit 2)', async () => {
  const run = await runKeyfront(args().filter((arg) => arg !== '--once'), { env });
  expect([run.status, run.stderr]).toEqual([2, expect.stringContaining('pass --once')]);
});

it('without a local stack or a store of its own it says how to get one (exit 1)', async () => {
  const run = await runKeyfront(args(), { env: { KEYFRONT_DATA_DIR: at('no-stack'), KEYFRONT_COSMOS_ENDPOINT: '' } });
  expect([run.status, run.stderr]).toEqual([1, expect.stringContaining('no local stack runs with data directory')]);
});

it('--help names the refusal codes and the exit codes', async () => {
  const run = await runKeyfront(['federation', 'import', '--help']);
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/signature_invalid[\s\S]*wrong_region[\s\S]*file_missing[\s\S]*Exit codes: 0/);
});
