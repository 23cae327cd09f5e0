import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadApiConfig } from '../../api/config';
import { AttestationVerifier } from '../../api/attestation/verifier';
import { CertificateVerifier } from '../../api/upload/certificate';
import { createLogger } from '../../platform/log';
import { noopMetrics } from '../../platform/metrics';
import { devAttestationEnvironment, loadOrCreateDevAttestation } from '../local-stack/dev-attestation';
import { checkUploadKeys, parsePublishRequest } from '../../api/upload/upload';
import { ReportType } from '../../proto/tek';
import { main } from '../cli';
import { devApiEnvironment, loadOrCreateDevMaterial } from '../local-stack/dev-material';
import { randomDailyKeys } from '../local-stack/dev-keys';

let root: string;
let out: string;
let err: string;
const saved = process.env.KEYFRONT_DATA_DIR;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'keyfront-dev-'));
  process.env.KEYFRONT_DATA_DIR = root;
  out = '';
  err = '';
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
});

afterEach(async () => {
  jest.restoreAllMocks();
  if (saved === undefined) delete process.env.KEYFRONT_DATA_DIR;
  else process.env.KEYFRONT_DATA_DIR = saved;
  await rm(root, { recursive: true, force: true });
});

async function keysFile(keys: unknown): Promise<string> {
  const file = path.join(root, 'keys.json');
  await writeFile(file, JSON.stringify(keys));
  return file;
}

describe('keyfront dev certificate', () => {
  it('prints a certificate of the dev health authority that the local API accepts for these keys, with its hmacKey', async () => {
    const material = await loadOrCreateDevMaterial(root);
    const keys = randomDailyKeys(14);
    expect(await main(['dev', 'certificate', '--keys', await keysFile(keys), '--report-type', 'likely', '--hmac-key', Buffer.alloc(32, 9).toString('base64')])).toBe(0);
    const printed = JSON.parse(out) as { healthAuthorityID: string; verificationPayload: string; hmacKey: string };
    expect(printed.hmacKey).toBe(Buffer.alloc(32, 9).toString('base64'));
    const config = loadApiConfig({ ...devApiEnvironment(material, '440'), KEYFRONT_STORE: 'memory' });
    const verified = await new CertificateVerifier(config.healthAuthorities, { clockSkewSeconds: 60, maxAgeSeconds: 3600 }).verify({ ...printed, keys }, new Date());
    expect(verified.reportType).toBe(ReportType.CONFIRMED_CLINICAL_DIAGNOSIS);
  });

  it('prints a whole publish body with --body, and takes the onset as a date', async () => {
    await loadOrCreateDevMaterial(root);
    const keys = randomDailyKeys(3);
    expect(await main(['dev', 'certificate', '--keys', await keysFile({ temporaryExposureKeys: keys }), '--body', '--onset', new Date(Date.now() - 2 * 86400e3).toISOString()])).toBe(0);
    const request = parsePublishRequest(JSON.parse(out));
    expect(request.keys).toEqual(keys);
    expect(checkUploadKeys(request.keys, new Date())).toHaveLength(3);
    const claims = JSON.parse(Buffer.from(request.verificationPayload.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    expect(typeof claims.symptomOnsetInterval).toBe('number');
  });

  it('exits 2 telling the user to run npm start when the data directory has no dev material', async () => {
    expect(await main(['dev', 'certificate', '--keys', await keysFile(randomDailyKeys(1))])).toBe(2);
    expect(err).toMatch(/no dev material in .*run `npm start` once/);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it.each([
    [['--report-type', 'positive'], /--report-type must be one of confirmed, likely, negative/],
    [['--hmac-key', 'not base64'], /--hmac-key must be non-empty standard base64/],
    [['--onset', 'yesterday'], /--onset must be an ISO 8601 date-time/],
  ])('exits 2 on %p', async (flags, message) => {
    await loadOrCreateDevMaterial(root);
    expect(await main(['dev', 'certificate', '--keys', await keysFile(randomDailyKeys(1)), ...flags])).toBe(2);
    expect(err).toMatch(message);
  });

  it.each([
    ['not a list', { keys: 1 }, /must hold a JSON array of keys/],
    ['an invalid key', [{ key: 'AAAA', rollingStartNumber: 1, rollingPeriod: 144 }], /key 0 is invalid \(key_data_invalid\)/],
    ['no keys', [], /holds 0 keys/],
  ])('exits 2 on a keys file with %s', async (_name, content, message) => {
    await loadOrCreateDevMaterial(root);
    expect(await main(['dev', 'certificate', '--keys', await keysFile(content)])).toBe(2);
    expect(err).toMatch(message);
  });
});

describe('keyfront dev keys', () => {
  it('prints valid keys of the last days', async () => {
    expect(await main(['dev', 'keys', '--count', '14'])).toBe(0);
    expect(checkUploadKeys(JSON.parse(out), new Date())).toHaveLength(14);
  });

  it('exits 2 on a bad count', async () => {
    expect(await main(['dev', 'keys', '--count', '15'])).toBe(2);
    expect(err).toMatch(/--count must be an integer from 1 to 14/);
  });
});

describe('keyfront dev attestation', () => {
  async function certifiedBody(): Promise<string> {
    await loadOrCreateDevMaterial(root);
    expect(await main(['dev', 'certificate', '--keys', await keysFile(randomDailyKeys(3)), '--body'])).toBe(0);
    const file = path.join(root, 'body.json');
    await writeFile(file, out);
    out = '';
    return file;
  }

  it.each(['android', 'ios'] as const)('prints the body with an attestation minted for it on %s, which the local API accepts for that body only', async (platform) => {
    const file = await certifiedBody();
    const attestationMaterial = await loadOrCreateDevAttestation(root);
    expect(await main(['dev', 'attestation', '--platform', platform, '--body', file])).toBe(0);
    const printed = JSON.parse(out) as Record<string, unknown>;
    expect(printed).toMatchObject({ platform, deviceVerificationPayload: expect.any(String), temporaryExposureKeys: expect.any(Array) });
    const config = loadApiConfig({ ...devApiEnvironment(await loadOrCreateDevMaterial(root), '440'), ...devAttestationEnvironment(attestationMaterial), KEYFRONT_STORE: 'memory', KEYFRONT_ATTESTATION: 'report' });
    const verifier = new AttestationVerifier(config.attestation, noopMetrics, createLogger('test', { write: () => undefined }));
    const request = parsePublishRequest(printed);
    expect(await verifier.check(request, config.healthAuthorities[0], new Date())).toMatchObject({ code: 'ok' });
    expect(await verifier.check({ ...request, keys: request.keys.slice(1) }, config.healthAuthorities[0], new Date())).toMatchObject({ code: 'attestation_nonce_mismatch' });
  });

  it('exits 2 on a platform it does not know, a file that is not a publish body, or no dev material', async () => {
    const file = await certifiedBody();
    expect(await main(['dev', 'attestation', '--platform', 'windows', '--body', file])).toBe(2);
    expect(err).toMatch(/--platform must be one of android, ios, got "windows"/);
    await writeFile(path.join(root, 'keys-only.json'), JSON.stringify(randomDailyKeys(1)));
    expect(await main(['dev', 'attestation', '--platform', 'ios', '--body', path.join(root, 'keys-only.json')])).toBe(2);
    expect(err).toMatch(/keys-only\.json is not a publish body \(as `keyfront dev certificate --body` prints\): the body must be a JSON object/);
    expect(await main(['dev', 'attestation', '--platform', 'ios', '--body', file])).toBe(2);
    expect(err).toMatch(/no dev attestation material in .*run `npm start` once/);
    expect(await main(['dev', 'attestation', '--body', file])).toBe(2);
    expect(err).toMatch(/required option '--platform <platform>' not specified/);
    expect(err).not.toMatch(/\n\s+at /);
  });
});
