import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TEKSignatureList } from '../../proto/schema';
import { readExportZip, writeExportZip } from '../../proto/zip';
import { runKeyfront, STACK_TRACE } from '../support/cli';

const dir = mkdtempSync(path.join(tmpdir(), 'keyfront-cli-'));
const at = (name: string) => path.join(dir, name);
const today = Math.floor(Date.now() / 86_400_000) * 144;
// The file's window is today's first hour: the keys (yesterday and before) are valid for it.
const windowStart = new Date(today * 600_000).toISOString().replace('.000Z', 'Z');
const windowEnd = new Date(today * 600_000 + 3_600_000).toISOString().replace('.000Z', 'Z');
const keysJson = Array.from({ length: 14 }, (_, i) => ({ key: Buffer.alloc(16, i + 1).toString('base64'), rollingStartNumber: today - 144 * (i + 1), rollingPeriod: 144, transmissionRisk: i % 9, reportType: 1, daysSinceOnsetOfSymptoms: i - 7 }));
const buildArgs = (keysFile: string, out: string) => ['export', 'build', '--keys', keysFile, '--private-key', at('signing-private.pem'), '--region', '440', '--key-id', '440', '--key-version', 'v1', '--start', windowStart, '--end', windowEnd, '--out', out];

beforeAll(async () => {
  writeFileSync(at('keys.json'), JSON.stringify(keysJson));
  const generated = await runKeyfront(['keys', 'generate', '--out', dir]);
  expect(generated.status).toBe(0);
});

describe('keyfront keys generate', () => {
  it('writes a P-256 pair, the private key readable by its owner only', () => {
    expect(statSync(at('signing-private.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(at('signing-public.pem'), 'utf8')).toContain('BEGIN PUBLIC KEY');
  });

  it('exits 2 when --out names a file, not a directory', async () => {
    writeFileSync(at('a-file'), 'x');
    const run = await runKeyfront(['keys', 'generate', '--out', at('a-file')]);
    expect([run.status, run.stderr]).toEqual([2, expect.stringContaining('is a file, not a directory')]);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });

  it('refuses to overwrite an existing pair without --force', async () => {
    const again = await runKeyfront(['keys', 'generate', '--out', dir]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('already exists; pass --force');
  });
});

describe('keyfront export build | inspect | verify', () => {
  const zip = at('export.zip');

  beforeAll(async () => {
    const built = await runKeyfront(buildArgs(at('keys.json'), zip));
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ out: zip, keys: 14 });
  });

  it('inspect prints the header, window in ISO and seconds, batch, signature infos and key count', async () => {
    const inspected = await runKeyfront(['export', 'inspect', zip]);
    expect(inspected.status).toBe(0);
    const report = JSON.parse(inspected.stdout);
    expect(report).toMatchObject({
      header: 'EK Export v1    ',
      region: '440',
      start: { seconds: today * 600, iso: new Date(today * 600_000).toISOString() },
      end: { seconds: today * 600 + 3600, iso: new Date(today * 600_000 + 3_600_000).toISOString() },
      batchNum: 1,
      batchSize: 1,
      signatureInfos: [{ verificationKeyId: '440', verificationKeyVersion: 'v1', signatureAlgorithm: '1.2.840.10045.4.3.2' }],
      keyCount: 14,
    });
    expect(report.keys).toBeUndefined();
  });

  it('inspect --keys lists every key in the upload shape', async () => {
    const report = JSON.parse((await runKeyfront(['export', 'inspect', zip, '--keys'])).stdout);
    const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);
    expect([...report.keys].sort(byKey)).toEqual([...keysJson].sort(byKey));
  });

  it('verify exits 0 with one JSON line for a valid file', async () => {
    const verified = await runKeyfront(['export', 'verify', zip, '--public-key', at('signing-public.pem')]);
    expect(verified.status).toBe(0);
    expect(verified.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, keyCount: 14 });
  });

  it('verify exits 1 with the reason for a file signed by another key', async () => {
    await runKeyfront(['keys', 'generate', '--out', dir, '--name', 'other']);
    const verified = await runKeyfront(['export', 'verify', zip, '--public-key', at('other-public.pem')]);
    expect(verified.status).toBe(1);
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: false, code: 'signature_invalid' });
    expect(verified.stderr).toContain('does not verify (signature_invalid)');
    expect(verified.stderr).not.toMatch(STACK_TRACE);
  });

  it('builds files that Python unzips and openssl verifies', async () => {
    const unzipped = at('unzipped');
    execFileSync('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', zip, unzipped]);
    const list = TEKSignatureList.decode(readFileSync(path.join(unzipped, 'export.sig'))) as unknown as { signatures: Array<{ signature: Uint8Array }> };
    writeFileSync(path.join(unzipped, 'sig.der'), list.signatures[0].signature);
    const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', at('signing-public.pem'), '-signature', 'sig.der', 'export.bin'], { cwd: unzipped }).toString();
    expect(out.trim()).toBe('Verified OK');
  });
});

describe('a file of a key rotation: built with two keys, verified with each', () => {
  const zip = at('rotation.zip');
  const rotationArgs = ['export', 'build', '--keys', at('keys.json'), '--private-key', at('signing-private.pem'), '--private-key', at('next-private.pem'), '--region', '440', '--key-id', '440', '--key-version', 'v1', '--key-version', 'v2', '--start', windowStart, '--end', windowEnd];
  const verify = (file: string, key: string, version: string) => runKeyfront(['export', 'verify', file, '--public-key', at(`${key}-public.pem`), '--key-id', '440', '--key-version', version]);

  beforeAll(async () => {
    expect((await runKeyfront(['keys', 'generate', '--out', dir, '--name', 'next'])).status).toBe(0);
    const built = await runKeyfront([...rotationArgs, '--out', zip]);
    expect([built.status, built.stderr]).toEqual([0, '']);
    expect(JSON.parse(built.stdout)).toMatchObject({ keys: 14, signatures: [{ keyId: '440', keyVersion: 'v1' }, { keyId: '440', keyVersion: 'v2' }] });
  });

  it('verifies with each key through export verify, and inspect lists both signatures in order', async () => {
    const [old, next, inspected] = await Promise.all([verify(zip, 'signing', 'v1'), verify(zip, 'next', 'v2'), runKeyfront(['export', 'inspect', zip])]);
    expect([old.status, JSON.parse(old.stdout)]).toEqual([0, expect.objectContaining({ valid: true, signatureInfo: expect.objectContaining({ verificationKeyVersion: 'v1' }) })]);
    expect([next.status, JSON.parse(next.stdout)]).toEqual([0, expect.objectContaining({ valid: true, signatureInfo: expect.objectContaining({ verificationKeyVersion: 'v2' }) })]);
    const report = JSON.parse(inspected.stdout);
    const v = (version: string) => ({ verificationKeyId: '440', verificationKeyVersion: version, signatureAlgorithm: '1.2.840.10045.4.3.2' });
    expect(report.signatureInfos).toEqual([v('v1'), v('v2')]);
    expect(report.signatures).toEqual([expect.objectContaining({ signatureInfo: v('v1'), batchNum: 1, batchSize: 1 }), expect.objectContaining({ signatureInfo: v('v2'), batchNum: 1, batchSize: 1 })]);
  });

  it('verifies with each key through an independent verifier: Python unzips, openssl checks each signature', () => {
    const unzipped = at('rotation-unzipped');
    execFileSync('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', zip, unzipped]);
    const list = TEKSignatureList.decode(readFileSync(path.join(unzipped, 'export.sig'))) as unknown as { signatures: Array<{ signature: Uint8Array }> };
    expect(list.signatures).toHaveLength(2);
    for (const [i, key] of ['signing', 'next'].entries()) {
      writeFileSync(path.join(unzipped, `sig${i}.der`), list.signatures[i].signature);
      const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', at(`${key}-public.pem`), '-signature', `sig${i}.der`, 'export.bin'], { cwd: unzipped }).toString();
      expect(out.trim()).toBe('Verified OK');
    }
  });

  it('a file whose second signature is corrupt fails with that key (exit 1) and passes with the first', async () => {
    const { bin, sig } = await readExportZip(readFileSync(zip));
    const list = TEKSignatureList.decode(sig) as unknown as { signatures: Array<{ signature: Uint8Array }> };
    list.signatures[1].signature = Buffer.from(list.signatures[1].signature).map((byte, i) => (i === 10 ? byte ^ 0x01 : byte));
    const corrupt = at('rotation-corrupt.zip');
    writeFileSync(corrupt, await writeExportZip(bin, Buffer.from(TEKSignatureList.encode(list).finish())));
    const [next, old] = await Promise.all([verify(corrupt, 'next', 'v2'), verify(corrupt, 'signing', 'v1')]);
    expect([next.status, JSON.parse(next.stdout)]).toEqual([1, expect.objectContaining({ valid: false, code: 'signature_invalid' })]);
    expect(next.stderr).toContain('does not verify (signature_invalid)');
    expect([old.status, JSON.parse(old.stdout)]).toEqual([0, expect.objectContaining({ valid: true })]);
  });

  it('build exits 2, writing nothing, when the key ids or versions do not pair with the keys', async () => {
    const out = at('never-rotation.zip');
    const withVersions = (...versions: string[]) => [...rotationArgs.slice(0, rotationArgs.indexOf('--key-version')), ...versions.flatMap((v) => ['--key-version', v]), '--start', windowStart, '--end', windowEnd, '--out', out];
    const [counts, twice] = await Promise.all([runKeyfront(withVersions('v1', 'v2', 'v3')), runKeyfront(withVersions('v1', 'v1'))]);
    expect([counts.status, counts.stderr]).toEqual([2, 'keyfront: --key-version is given 3 times for 2 --private-key: give it once, or once per key in the same order\n']);
    expect([twice.status, twice.stderr]).toEqual([2, expect.stringContaining('the key id and version 440/v1 are given to two keys')]);
    expect(existsSync(out)).toBe(false);
  });
});

describe('bad input', () => {
  it.each([
    ['a key of 15 bytes', [{ ...keysJson[0], key: Buffer.alloc(15).toString('base64') }], 'key 0 is invalid (key_data_invalid)'],
    ['a key of 17 bytes', [keysJson[0], { ...keysJson[1], key: Buffer.alloc(17).toString('base64') }], 'key 1 is invalid (key_data_invalid)'],
    ['a rolling period of 145', [keysJson[0], keysJson[1], { ...keysJson[2], rollingPeriod: 145 }], 'key 2 is invalid (rolling_period_invalid)'],
    ['a transmission risk of 9', [{ ...keysJson[0], transmissionRisk: 9 }], 'key 0 is invalid (transmission_risk_invalid)'],
    ['a report type of 6', [{ ...keysJson[0], reportType: 6 }], 'key 0 is invalid (report_type_invalid)'],
    ['a duplicate key', [keysJson[0], keysJson[0]], 'key 1 is invalid (duplicate_key)'],
    ['an object instead of an array', { keys: keysJson }, 'must hold a JSON array of keys'],
  ])('build exits 2 naming the first bad key and rule: %s', async (_name, content, message) => {
    const file = at(`bad-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(content));
    const out = at('never.zip');
    const run = await runKeyfront(buildArgs(file, out));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(STACK_TRACE);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    ['malformed JSON', () => writeFileSync(at('broken.json'), '[{"key":'), at('broken.json'), 'is not valid JSON'],
    ['a missing keys file', () => undefined, at('missing.json'), 'no such file'],
  ])('build exits 2 for %s', async (_name, setup, file, message) => {
    setup();
    const run = await runKeyfront(buildArgs(file, at('never.zip')));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it.each([
    ['--start', 'yesterday', '--start must be an ISO 8601 date-time'],
    ['--end', '2026-11-29T00:00:00Z', '--end must be after --start'],
    ['--start', '2026-11-30T00:00:00', '--start must be an ISO 8601 date-time with a time zone'],
    ['--end', '2026-02-30T00:00:00Z', '--end must be an ISO 8601 date-time with a time zone'],
    ['--key-id', 'MCC 440', '--key-id must match [A-Za-z0-9_]+'],
    ['--private-key', '/nonexistent.pem', 'cannot read private key /nonexistent.pem: no such file'],
  ])('build exits 2 for a bad %s', async (option, value, message) => {
    const args = buildArgs(at('keys.json'), at('never.zip'));
    args[args.indexOf(option) + 1] = value;
    const run = await runKeyfront(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });

  it.each([
    ['a key that starts after the window ends', today + 144, 'rolling_start_in_future'],
    ['a key older than 15 days at the window end', today - 144 * 16, 'rolling_start_too_old'],
  ])('build exits 2 for %s, naming the key and the rule', async (_name, rollingStartNumber, code) => {
    writeFileSync(at('clock.json'), JSON.stringify([keysJson[0], { ...keysJson[1], rollingStartNumber }]));
    const run = await runKeyfront(buildArgs(at('clock.json'), at('never.zip')));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`key 1 is invalid for a file ending ${new Date(today * 600_000 + 3_600_000).toISOString()} (${code})`);
    expect(existsSync(at('never.zip'))).toBe(false);
  });

  it('inspect exits 1 for a file that is not an export, and 2 for a missing one', async () => {
    writeFileSync(at('junk.zip'), 'junk');
    const junk = await runKeyfront(['export', 'inspect', at('junk.zip')]);
    expect(junk.status).toBe(1);
    expect(junk.stderr).toContain('is not a readable export (zip_invalid)');
    expect((await runKeyfront(['export', 'inspect', at('nope.zip')])).status).toBe(2);
  });

  it('verify exits 2 for a public key file that holds no P-256 key', async () => {
    writeFileSync(at('not-a-key.pem'), 'hello');
    const run = await runKeyfront(['export', 'verify', at('export.zip'), '--public-key', at('not-a-key.pem')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('holds no PEM key; expected an ECDSA P-256 public key, in PEM ("-----BEGIN PUBLIC KEY-----"');
  });

  it('a missing required option or an unknown command exits 2 with usage help', async () => {
    const missing = await runKeyfront(['export', 'build', '--keys', at('keys.json')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("required option '--private-key <file>' not specified");
    const unknown = await runKeyfront(['exprot']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'exprot'");
  });
});

describe('help', () => {
  it.each([[[]], [['export']], [['export', 'build']], [['export', 'inspect']], [['export', 'verify']], [['keys']], [['keys', 'generate']], [['keys', 'rotate']], [['keys', 'retire']]])('keyfront %j --help exits 0 with usage', async (words) => {
    const run = await runKeyfront([...words, '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Usage: keyfront/);
  });
});
