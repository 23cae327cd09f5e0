import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadApiConfig } from '../../api/config';
import { AttestationVerifier } from '../../api/attestation/verifier';
import { parsePublishRequest } from '../../api/upload/upload';
import { createLogger } from '../../platform/log';
import { noopMetrics } from '../../platform/metrics';
import { attestDevUpload, DEV_ATTESTATION_FILE, devAttestationEnvironment, loadOrCreateDevAttestation, readDevAttestation } from './dev-attestation';
import { createDevMaterial, devApiEnvironment, DevMaterialError } from './dev-material';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'keyfront-dev-attestation-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('dev attestation material', () => {
  it('is created once, mode 0600, and reused', async () => {
    const first = await loadOrCreateDevAttestation(root);
    expect((await stat(path.join(root, DEV_ATTESTATION_FILE))).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateDevAttestation(root)).toEqual(first);
    expect(await readDevAttestation(root)).toEqual(first);
  });

  it('holds what the server needs apart from what only Google and Apple hold: the API settings carry no private key', async () => {
    const attestation = await loadOrCreateDevAttestation(root);
    const env = devAttestationEnvironment(attestation);
    expect(Object.values(env).join('\n')).not.toMatch(/PRIVATE KEY/);
    expect(attestation.android.signingKey).toMatch(/BEGIN PRIVATE KEY/);
    expect(attestation.ios.intermediateKey).toMatch(/BEGIN PRIVATE KEY/);
  });

  it.each(['android', 'ios'] as const)('mints %s payloads that the API configured from it accepts for that upload only', async (platform) => {
    const attestation = await loadOrCreateDevAttestation(root);
    const material = createDevMaterial();
    const config = loadApiConfig({ ...devApiEnvironment(material, '440'), ...devAttestationEnvironment(attestation), KEYFRONT_STORE: 'memory', KEYFRONT_ATTESTATION: 'report' });
    const verifier = new AttestationVerifier(config.attestation, noopMetrics, createLogger('test', { write: () => undefined }));
    const fields = { temporaryExposureKeys: [{ key: 'AAAAAAAAAAAAAAAAAAAAAA==', rollingStartNumber: 2962080, rollingPeriod: 144, transmissionRisk: 1 }], healthAuthorityID: 'dev', verificationPayload: 'a.b.c', hmacKey: 'aG1hYw==' };
    const payload = await attestDevUpload(attestation, platform, fields);
    const request = parsePublishRequest({ ...fields, platform, deviceVerificationPayload: payload });
    const authority = config.healthAuthorities[0];
    expect(await verifier.check(request, authority, new Date())).toMatchObject({ mode: 'report', platform, code: 'ok' });
    expect(await verifier.check({ ...request, hmacKey: 'b3RoZXI=' }, authority, new Date())).toMatchObject({ code: 'attestation_nonce_mismatch' });
  });

  it('tells the user to run npm start when there is none, and names a corrupt file', async () => {
    await expect(readDevAttestation(root)).rejects.toThrow(new DevMaterialError(`no dev attestation material in ${root}: run \`npm start\` once to create it (or set KEYFRONT_DATA_DIR to the data directory of the running stack)`));
    await mkdir(root, { recursive: true });
    await writeFile(path.join(root, DEV_ATTESTATION_FILE), '{"android":{}}');
    await expect(readDevAttestation(root)).rejects.toThrow(/dev-attestation\.json is not valid dev material \(.*\); delete it and run `npm start` to create it again/);
  });
});
