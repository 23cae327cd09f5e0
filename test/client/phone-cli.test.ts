/**
 * `keyfront phone sync|upload` as an operator runs them (the real bin in a child process) against
 * Azurite and the write API behind the local edge: output, exit codes (0 done, 1 a bad answer of
 * the server, 2 bad input with nothing written), errors as JSON on stdout with `--json`, and the
 * state file: every good file kept, a bad one pending, an unanswered upload kept until it is
 * answered. A `--require` hook runs the CLI with its clock 2 hours off, as on a phone.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { LocalEdge } from '../../edge-config/local-edge/server';
import { verifyExport } from '../../proto/codec';
import { dailyKeys } from '../support/api-fixture';
import { runKeyfront, STACK_TRACE } from '../support/cli';
import type { HttpApi } from '../support/http-api';
import { indexFile, startPhoneStack, zipFile, type PhoneStack } from './phone-stack';
import { craftedExport, exportPath, goodKeys, realExport, testAuthority, WINDOW_START, type TestAuthority } from './signed-exports';

const HOUR = 3600;
const SHIFT_CLOCK = path.join(__dirname, '..', 'support', 'shift-clock.cjs');

describe('keyfront phone', () => {
  let stack: PhoneStack;
  let api: HttpApi;
  let edge: LocalEdge;
  let authority: TestAuthority;
  let dir: string;
  let publicKeyFile: string;
  const good = exportPath(WINDOW_START);
  const forged = exportPath(WINDOW_START, '441');
  // 446: good files around a report type of 6, a duplicate key and overlapping keys of different uploads.
  const mixed = [0, 1, 2, 3, 4].map((i) => exportPath(WINDOW_START - 4 * HOUR + i * HOUR, '446'));
  const mixedFiles: Buffer[] = [];
  // 447: the newest file ends at the next full hour, as files published with `--now` do.
  const fresh = [-1, 0, 1, 2].map((i) => exportPath(WINDOW_START + i * HOUR, '447'));

  beforeAll(async () => {
    authority = testAuthority();
    dir = await mkdtemp(path.join(tmpdir(), 'keyfront-phone-'));
    publicKeyFile = path.join(dir, 'public.pem');
    await writeFile(publicKeyFile, authority.publicPem);
    await writeFile(path.join(dir, 'private.pem'), authority.privatePem);
    const [a, b] = goodKeys(2);
    const start = a.rollingStartIntervalNumber as number;
    const region = { region: '446' };
    const at = (i: number) => WINDOW_START - 4 * HOUR + i * HOUR;
    mixedFiles.push(
      await craftedExport(authority, { ...region, start: at(0) }),
      await craftedExport(authority, { ...region, start: at(1), keys: [a, { ...b, reportType: 6 }] }),
      await craftedExport(authority, { ...region, start: at(2), keys: [a, b, { ...a }] }),
      await craftedExport(authority, { ...region, start: at(3), keys: [{ ...a, rollingStartIntervalNumber: start }, { ...b, rollingStartIntervalNumber: start + 72 }] }),
      await craftedExport(authority, { ...region, start: at(4) }),
    );
    stack = await startPhoneStack({
      [good]: zipFile(await realExport(authority, WINDOW_START)),
      'v1/440/index.txt': indexFile([good]),
      [forged]: zipFile(await realExport(testAuthority(), WINDOW_START, { region: '441' })),
      'v1/441/index.txt': indexFile([forged]),
      ...Object.fromEntries(mixed.map((name, i) => [name, zipFile(mixedFiles[i])])),
      'v1/446/index.txt': indexFile(mixed),
      ...Object.fromEntries(await Promise.all(fresh.map(async (name, i) => [name, zipFile(await realExport(authority, WINDOW_START + (i - 1) * HOUR, { region: '447', keys: 5 }))]))),
      'v1/447/index.txt': indexFile(fresh),
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

    it('takes several keys during a rotation: a file passes when one of them verifies it; ids and versions pair with the keys', async () => {
      const other = path.join(dir, 'other-public.pem');
      await writeFile(other, testAuthority('440', 'v2').publicPem);
      const [both, unpaired] = await Promise.all([
        runKeyfront(['phone', 'sync', '--base', edge.url, '--public-key', other, '--public-key', publicKeyFile, '--key-id', '440', '--key-version', 'v2', '--key-version', 'v1']),
        runKeyfront(['phone', 'sync', '--base', edge.url, '--public-key', other, '--public-key', publicKeyFile, '--key-version', 'v2', '--key-version', 'v1', '--key-version', 'v3']),
      ]);
      expect([both.status, both.stderr]).toEqual([0, '']);
      expect(both.stdout).toContain(`fetched and verified ${good}: 20 keys, 0 revised, signed by 440/v1`);
      expect([unpaired.status, unpaired.stderr]).toEqual([2, 'keyfront: --key-version is given 3 times for 2 --public-key: give it once, or once per key in the same order\n']);
    });

    it('exits 1 on a file that does not verify, and saves the state with the file pending', async () => {
      const state = path.join(dir, 'state-441.json');
      await writeFile(state, '{"version":1,"region":"441","index":{"etag":"\\"old\\""},"files":[]}\n');
      const run = await runKeyfront(['phone', 'sync', '--base', edge.url, '--region', '441', '--public-key', publicKeyFile, '--state', state]);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/^keyfront: signature_invalid: 1 of 1 files failed; .*v1\/441\/.*no signature in export.sig verifies/);
      expect(run.stderr).not.toMatch(STACK_TRACE);
      expect(run.stdout).toContain(`failed ${forged}: signature_invalid`);
      expect(JSON.parse(await readFile(state, 'utf8'))).toMatchObject({ files: [], pending: [forged] });
    });

    it('refuses a report type of 6 and a duplicate key with the codes of export verify, keeps the good files, and accepts overlapping keys', async () => {
      const state = path.join(dir, 'state-446.json');
      const run = await runKeyfront(['phone', 'sync', '--base', edge.url, '--region', '446', '--public-key', publicKeyFile, '--state', state, '--json']);
      expect(run.status).toBe(1);
      const report = JSON.parse(run.stdout) as { fetched: Array<{ path: string }>; failed: Array<{ path: string; code: string }>; code: string; error: string };
      expect(report.fetched.map((file) => file.path)).toEqual([mixed[0], mixed[3], mixed[4]]);
      const verdicts = await Promise.all([1, 2].map(async (i) => verifyExport(mixedFiles[i], authority.publicPem)));
      expect(verdicts).toEqual([expect.objectContaining({ valid: false, code: 'key_invalid' }), expect.objectContaining({ valid: false, code: 'duplicate_key' })]);
      expect(report.failed.map((file) => [file.path, file.code])).toEqual([[mixed[1], 'key_invalid'], [mixed[2], 'duplicate_key']]);
      expect(report).toMatchObject({ code: 'key_invalid', error: expect.stringMatching(/^2 of 5 files failed/) });
      expect(await verifyExport(mixedFiles[3], authority.publicPem)).toMatchObject({ valid: true });
      expect(JSON.parse(await readFile(state, 'utf8'))).toMatchObject({ files: [mixed[0], mixed[3], mixed[4]], pending: [mixed[1], mixed[2]] });
    });

    it.each([
      ['2 hours behind', -2],
      ['2 hours ahead', 2],
    ])('fetches and verifies every file with the process clock %s', async (_name, hours) => {
      const run = await runKeyfront(['phone', 'sync', '--base', edge.url, '--region', '447', '--public-key', publicKeyFile, '--json'], { env: { NODE_OPTIONS: `--require ${SHIFT_CLOCK}`, KEYFRONT_TEST_CLOCK_SHIFT_MS: String(hours * HOUR * 1000) } });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const report = JSON.parse(run.stdout) as { fetched: Array<{ path: string; endTimestamp: number }>; failed: unknown[]; serverTimeSeconds: number };
      expect(report.fetched.map((file) => file.path)).toEqual(fresh);
      expect(report.failed).toEqual([]);
      // Windows were judged by the edge's Date (the real time), not the shifted clock; the newest ends
      // more than an hour after a clock 2 hours behind, which once failed window_invalid.
      expect(Math.abs(report.serverTimeSeconds - Date.now() / 1000)).toBeLessThan(300);
      expect(report.fetched[3].endTimestamp).toBeGreaterThan(Date.now() / 1000 - HOUR);
    });

    it('reports an edge refusal as edge_refused with the path, as JSON on stdout with --json', async () => {
      const run = await runKeyfront(['phone', 'sync', '--base', `${edge.url}/typo`, '--public-key', publicKeyFile, '--json']);
      expect(run.status).toBe(1);
      expect(JSON.parse(run.stdout)).toEqual({ code: 'edge_refused', error: expect.stringContaining('GET /typo/v1/440/index.txt') });
      expect(run.stderr).toMatch(/^keyfront: edge_refused: /);
    });

    it.each([
      ['a base that is not http(s)', ['--base', 'ftp://example'], /--base must be an http\(s\) URL/],
      ['a missing public key file', ['--public-key', '/nonexistent.pem'], /cannot read public key \/nonexistent.pem: no such file/],
      ['a region with a slash', ['--region', '44/0'], /--region must be/],
      ['a key that is not PEM', ['--public-key', 'STATE_AS_KEY'], /--public-key .*not-a-key.pem holds no PEM key; expected an ECDSA P-256 public key/],
      ['a private key named as the public key', ['--public-key', 'PRIVATE_KEY'], /--public-key .*private.pem holds a private key; pass the public one/],
      ['a state file of another region', ['--state', 'STATE_441'], /holds the state of region 441, not 440/],
      ['a state file that is not a state', ['--state', 'STATE_BROKEN'], /the phone state is not usable: it is not JSON/],
    ])('exits 2 on %s, writing nothing', async (_name, change, message) => {
      const files = { STATE_AS_KEY: path.join(dir, 'not-a-key.pem'), STATE_441: path.join(dir, 'other-region.json'), STATE_BROKEN: path.join(dir, 'broken.json'), PRIVATE_KEY: path.join(dir, 'private.pem') };
      await writeFile(files.STATE_AS_KEY, 'hello');
      await writeFile(files.STATE_441, '{"version":1,"region":"441","index":{},"files":[]}');
      await writeFile(files.STATE_BROKEN, '{');
      const args: Record<string, string> = { '--base': edge.url, '--public-key': publicKeyFile };
      for (let i = 0; i < change.length; i += 2) args[change[i]] = files[change[i + 1] as keyof typeof files] ?? change[i + 1];
      const before = edge.metrics();
      const run = await runKeyfront(['phone', 'sync', ...Object.entries(args).flat()]);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe('');
      expect(edge.metrics().routes).toEqual(before.routes);
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

    it('keeps an upload that gets no answer in the state file, and sends it from there later', async () => {
      const keys = dailyKeys(2);
      const body = await api.fixture.publishBody(keys);
      const keysFile = path.join(dir, 'kept-body.json');
      const state = path.join(dir, 'state-upload.json');
      await writeFile(keysFile, JSON.stringify(body));
      const down = await runKeyfront(['phone', 'upload', '--base', 'http://127.0.0.1:9', '--keys', keysFile, '--state', state, '--give-up-after', '2', '--json']);
      expect(down.status).toBe(1);
      expect(JSON.parse(down.stdout)).toEqual({ code: 'network_error', error: expect.stringContaining(`the upload is kept in ${state}`) });
      expect(down.stderr).toMatch(/keyfront: no answer yet \(network error: .*\); trying again in \d+ s/);
      expect((await stat(state)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(state, 'utf8'))).toMatchObject({ uploads: [{ request: { temporaryExposureKeys: keys }, register: true, attempts: 1 }] });

      const up = await runKeyfront(['phone', 'upload', '--base', edge.url, '--state', state, '--json']);
      expect(up.stderr).toBe('');
      expect(up.status).toBe(0);
      expect(JSON.parse(up.stdout)).toEqual({ uploads: [{ id: expect.any(String), status: 'accepted', insertedExposures: 2, revisionToken: expect.any(String) }], pending: 0 });
      expect(JSON.parse(await readFile(state, 'utf8')).uploads).toBeUndefined();
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
