/**
 * What a new operator trips over, run as the real CLI process: `--version`, a misspelt option
 * (named, with a suggestion, before any missing required option), key files that are not the
 * expected key, output piped into `head`, and the dev keys' transmission risks.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KEYFRONT_BIN, runKeyfront, STACK_TRACE } from '../support/cli';

// Each case starts the CLI (the publish and edge groups load the Azure SDKs): slow on a shared machine.
jest.setTimeout(120_000);

const dir = mkdtempSync(path.join(tmpdir(), 'keyfront-usage-'));
const at = (name: string) => path.join(dir, name);
const version = (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

beforeAll(async () => {
  expect((await runKeyfront(['keys', 'generate', '--out', dir])).status).toBe(0);
  writeFileSync(at('p384.pem'), generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(at('rsa-public.pem'), generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(at('empty.pem'), '');
  writeFileSync(at('notes.txt'), 'not a key\n');
});

it('--version prints the version of package.json', async () => {
  const run = await runKeyfront(['--version']);
  expect([run.status, run.stdout, run.stderr]).toEqual([0, `${version}\n`, '']);
});

describe('a misspelt option', () => {
  it.each([
    [['export', 'verify', 'f.zip', '--pubkey', 'k.pem'], '--pubkey', '--public-key'],
    [['export', 'build', '--keys', 'k.json', '--privte-key', 'p.pem'], '--privte-key', '--private-key'],
    [['publish', '--once', '--noww', 'x'], '--noww', '--now'],
    [['edge', 'purge', '--paths', '/v1/440/index.txt', '--locl'], '--locl', '--local'],
  ])('%j is reported as unknown, with a suggestion, before any missing required option', async (args, flag, suggestion) => {
    const run = await runKeyfront(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`error: unknown option '${flag}'\n(Did you mean ${suggestion}?)`);
    expect(run.stderr).not.toContain('required option');
    expect(run.stdout).toBe('');
  });

  it('without a near option is still reported as unknown', async () => {
    const run = await runKeyfront(['export', 'verify', 'f.zip', '--zzz']);
    expect([run.status, run.stderr]).toEqual([2, "error: unknown option '--zzz'\n(add --help for usage)\n"]);
  });

  it('a missing required option alone is still reported as missing', async () => {
    const run = await runKeyfront(['export', 'verify', 'f.zip']);
    expect([run.status, run.stderr]).toEqual([2, expect.stringContaining("error: required option '--public-key <file>' not specified")]);
  });
});

describe('key files that are not the expected key', () => {
  const build = (privateKey: string) => ['export', 'build', '--keys', at('keys.json'), '--private-key', privateKey, '--region', '440', '--key-id', '440', '--key-version', 'v1', '--start', '2026-12-01T00:00:00Z', '--end', '2026-12-01T01:00:00Z', '--out', at('never.zip')];
  beforeAll(() => writeFileSync(at('keys.json'), '[]'));

  it.each([
    ['signing-public.pem', 'holds a public key; signing needs the private one'],
    ['p384.pem', 'holds an EC key on curve secp384r1; expected an ECDSA P-256 private key in PEM'],
    ['empty.pem', 'holds nothing (the file is empty); expected an ECDSA P-256 private key'],
    ['notes.txt', 'holds no PEM key; expected an ECDSA P-256 private key in PEM ("-----BEGIN PRIVATE KEY-----" or "-----BEGIN EC PRIVATE KEY-----"), such as signing-private.pem from `keyfront keys generate`'],
  ])('export build --private-key %s says what it holds and what was expected', async (file, message) => {
    const run = await runKeyfront(build(at(file)));
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^keyfront: --private-key ${at(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/DECODER|routines/);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });

  it.each([
    ['signing-private.pem', 'holds a private key; pass the public one'],
    ['rsa-public.pem', 'holds an RSA key; expected an ECDSA P-256 public key'],
    ['notes.txt', 'holds no PEM key; expected an ECDSA P-256 public key, in PEM ("-----BEGIN PUBLIC KEY-----", such as signing-public.pem) or as a JWK JSON object'],
  ])('export verify --public-key %s says what it holds and what was expected', async (file, message) => {
    writeFileSync(at('any.zip'), 'PK');
    const run = await runKeyfront(['export', 'verify', at('any.zip'), '--public-key', at(file)]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`keyfront: --public-key ${at(file)} ${message}`);
    expect(run.stderr).not.toMatch(/DECODER|routines/);
  });
});

it('export inspect --keys piped into head ends quietly, with exit code 0', async () => {
  // Enough keys that the output is far larger than a pipe's buffer.
  const today = Math.floor(Date.now() / 86_400_000) * 144;
  const keys = Array.from({ length: 5000 }, (_, i) => ({ key: Buffer.alloc(16, 0).fill(i % 256, 0, 8).fill(Math.floor(i / 256), 8).toString('base64'), rollingStartNumber: today - 144, rollingPeriod: 144, transmissionRisk: 1 + (i % 8) }));
  writeFileSync(at('many.json'), JSON.stringify(keys));
  const start = new Date(today * 600_000).toISOString().replace('.000Z', 'Z');
  const end = new Date(today * 600_000 + 3_600_000).toISOString().replace('.000Z', 'Z');
  const built = await runKeyfront(['export', 'build', '--keys', at('many.json'), '--private-key', at('signing-private.pem'), '--region', '440', '--key-id', '440', '--key-version', 'v1', '--start', start, '--end', end, '--out', at('many.zip')]);
  expect([built.status, built.stderr]).toEqual([0, '']);
  const piped = await new Promise<{ status: string; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('bash', ['-c', `"${process.execPath}" "${KEYFRONT_BIN}" export inspect --keys "${at('many.zip')}" | head -n 3; echo "exit \${PIPESTATUS[0]}"`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => resolve({ status: stdout.trim().split('\n').pop() ?? '', stdout, stderr }));
  });
  expect([piped.status, piped.stderr]).toEqual(['exit 0', '']);
  expect(piped.stdout.split('\n').slice(0, 2)).toEqual(['{', `  "file": "${at('many.zip')}",`]);
}, 120_000);

it('dev keys carry transmission risks from 1 to 8 (none 0), highest near onset; --shape export adds report type and days since onset', async () => {
  const upload = await runKeyfront(['dev', 'keys']);
  const keys = JSON.parse(upload.stdout) as Array<Record<string, number>>;
  expect(keys.map((k) => k.transmissionRisk)).toEqual([5, 6, 8, 8, 8, 5, 3, 1, 1, 1, 1, 1, 1, 1]);
  expect(Object.keys(keys[0]).sort()).toEqual(['key', 'rollingPeriod', 'rollingStartNumber', 'transmissionRisk']);
  const exported = JSON.parse((await runKeyfront(['dev', 'keys', '--count', '3', '--shape', 'export'])).stdout) as Array<Record<string, number>>;
  expect(exported.map((k) => [k.reportType, k.daysSinceOnsetOfSymptoms])).toEqual([[1, 3], [1, 2], [1, 1]]);
  const bad = await runKeyfront(['dev', 'keys', '--shape', 'upload-ish']);
  expect([bad.status, bad.stdout, bad.stderr]).toEqual([2, '', 'keyfront: --shape must be upload or export, got "upload-ish"\n']);
});
