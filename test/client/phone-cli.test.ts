/**
 * `keyfront phone sync|upload` as an operator runs them (the real bin in a child process) against
 * Azurite and the write API behind the local edge: output, exit codes (0 done, 1 a bad answer of
 * the server, 2 bad input with nothing written) and the state file, which a failed sync leaves as
 * it was.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { LocalEdge } from '../../edge-config/local-edge/server';
import { dailyKeys } from '../support/api-fixture';
import { runKeyfront, STACK_TRACE } from '../support/cli';
import type { HttpApi } from '../support/http-api';
import { indexFile, startPhoneStack, zipFile, type PhoneStack } from './phone-stack';
import { exportPath, realExport, testAuthority, WINDOW_START, type TestAuthority } from './signed-exports';

describe('keyfront phone', () => {
  let stack: PhoneStack;
  let api: HttpApi;
  let edge: LocalEdge;
  let authority: TestAuthority;
  let dir: string;
  let publicKeyFile: string;
  const good = exportPath(WINDOW_START);
  const forged = exportPath(WINDOW_START, '441');

  beforeAll(async () => {
    authority = testAuthority();
    dir = await mkdtemp(path.join(tmpdir(), 'keyfront-phone-'));
    publicKeyFile = path.join(dir, 'public.pem');
    await writeFile(publicKeyFile, authority.publicPem);
    stack = await startPhoneStack({
      [good]: zipFile(await realExport(authority, WINDOW_START)),
      'v1/440/index.txt': indexFile([good]),
      [forged]: zipFile(await realExport(testAuthority(), WINDOW_START, { region: '441' })),
      'v1/441/index.txt': indexFile([forged]),
    });
    ({ api, edge } = stack);
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  describe('sync', () => {
    it('fetches and verifies, saves the state, then finds the index unchanged', async () => {
      const state = path.join(dir, 'state-440.json');
      const first = await runKeyfront(['phone', 'sync', '--base', edge.url, '--public-key', publicKeyFile, '--state', state, '--json']);
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);
      expect(JSON.parse(first.stdout)).toMatchObject({ region: '440', indexStatus: 200, fetched: [{ path: good, keyCount: 20 }] });
      expect(JSON.parse(await readFile(state, 'utf8'))).toMatchObject({ version: 1, region: '440', files: [good], index: { etag: expect.any(String) } });

      const second = await runKeyfront(['phone', 'sync', '--base', edge.url, '--public-key', publicKeyFile, '--state', state]);
      expect(second.status).toBe(0);
      expect(second.stdout).toBe('index of region 440: unchanged (304)\n');
    });

    it('prints what it fetched in words without --json', async () => {
      const run = await runKeyfront(['phone', 'sync', '--base', edge.url, '--public-key', publicKeyFile, '--key-id', '440', '--key-version', 'v1']);
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(`fetched and verified ${good}: 20 keys, 0 revised, signed by 440/v1`);
    });

    it('exits 1 on a file that does not verify, and leaves the state file as it was', async () => {
      const state = path.join(dir, 'state-441.json');
      const before = '{"version":1,"region":"441","index":{"etag":"\\"old\\""},"files":[]}\n';
      await writeFile(state, before);
      const run = await runKeyfront(['phone', 'sync', '--base', edge.url, '--region', '441', '--public-key', publicKeyFile, '--state', state]);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/^keyfront: signature_invalid: v1\/441\/.*no signature in export.sig verifies/);
      expect(run.stderr).not.toMatch(STACK_TRACE);
      expect(await readFile(state, 'utf8')).toBe(before);
    });

    it.each([
      ['a base that is not http(s)', ['--base', 'ftp://example'], /--base must be an http\(s\) URL/],
      ['a missing public key file', ['--public-key', '/nonexistent.pem'], /cannot read public key \/nonexistent.pem: no such file/],
      ['a region with a slash', ['--region', '44/0'], /--region must be/],
      ['a key that is not PEM', ['--public-key', 'STATE_AS_KEY'], /public_key_invalid/],
      ['a state file of another region', ['--state', 'STATE_441'], /holds the state of region 441, not 440/],
      ['a state file that is not a state', ['--state', 'STATE_BROKEN'], /the phone state is not usable: it is not JSON/],
    ])('exits 2 on %s, writing nothing', async (_name, change, message) => {
      const files = { STATE_AS_KEY: path.join(dir, 'not-a-key.pem'), STATE_441: path.join(dir, 'other-region.json'), STATE_BROKEN: path.join(dir, 'broken.json') };
      await writeFile(files.STATE_AS_KEY, 'hello');
      await writeFile(files.STATE_441, '{"version":1,"region":"441","index":{},"files":[]}');
      await writeFile(files.STATE_BROKEN, '{');
      const args: Record<string, string> = { '--base': edge.url, '--public-key': publicKeyFile };
      for (let i = 0; i < change.length; i += 2) args[change[i]] = files[change[i + 1] as keyof typeof files] ?? change[i + 1];
      const run = await runKeyfront(['phone', 'sync', ...Object.entries(args).flat()]);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe('');
      expect(await readFile(files.STATE_441, 'utf8')).toBe('{"version":1,"region":"441","index":{},"files":[]}');
    });
  });

  describe('upload', () => {
    it('registers and uploads a keys file with its certificate', async () => {
      const keys = dailyKeys(2);
      const body = await api.fixture.publishBody(keys);
      const keysFile = path.join(dir, 'keys.json');
      const certificateFile = path.join(dir, 'certificate.json');
      await writeFile(keysFile, JSON.stringify(keys));
      await writeFile(certificateFile, JSON.stringify({ healthAuthorityID: body.healthAuthorityID, verificationPayload: body.verificationPayload, hmacKey: body.hmacKey }));
      const run = await runKeyfront(['phone', 'upload', '--base', edge.url, '--keys', keysFile, '--certificate', certificateFile, '--json']);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ insertedExposures: 2, revisionToken: expect.any(String) });
    });

    it('sends chaff that stores nothing', async () => {
      const before = await api.snapshot();
      const run = await runKeyfront(['phone', 'upload', '--base', edge.url, '--chaff']);
      expect(run.status).toBe(0);
      expect(run.stdout).toBe('chaff upload sent and answered\n');
      expect(await api.snapshot()).toEqual(before);
    });

    it('exits 1 with the API\'s code when the upload is refused', async () => {
      const body = { ...(await api.fixture.publishBody(dailyKeys(1))), verificationPayload: 'x.y.z' };
      const file = path.join(dir, 'bad-body.json');
      await writeFile(file, JSON.stringify(body));
      const run = await runKeyfront(['phone', 'upload', '--base', edge.url, '--keys', file]);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/^keyfront: http_error: the upload was refused with 401 health_authority_verification_certificate_invalid/);
    });

    it.each([
      ['no keys file', [], /--keys FILE is required/],
      ['keys without a certificate', ['--keys', 'KEYS'], /holds keys only; give the verification certificate with --certificate FILE/],
      ['a keys file that is not JSON', ['--keys', 'BROKEN'], /is not valid JSON/],
    ])('exits 2 on %s, sending nothing', async (_name, extra, message) => {
      const files = { KEYS: path.join(dir, 'only-keys.json'), BROKEN: path.join(dir, 'broken-keys.json') };
      await writeFile(files.KEYS, JSON.stringify(dailyKeys(1)));
      await writeFile(files.BROKEN, '[');
      const before = edge.metrics();
      const run = await runKeyfront(['phone', 'upload', '--base', edge.url, ...extra.map((arg) => files[arg as keyof typeof files] ?? arg)]);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(edge.metrics().routes).toEqual(before.routes);
    });
  });
});
