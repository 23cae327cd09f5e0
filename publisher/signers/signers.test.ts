import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { buildExport, verifyExport } from '../../proto/codec';
import { ECDSA_P256_SHA256_OID } from '../../proto/signature';
import { TcpSwitch } from '../../scripts/drills/local/tcp-switch';
import { STAND_IN_TOKEN, startKeyVaultStandIn, type KeyVaultStandIn } from '../../test/support/key-vault-stand-in';
import { KeyVaultSigner } from './key-vault';
import { LocalSigner } from './local';

const identity = { keyId: '440', keyVersion: 'v1' };
const keys = [{ keyData: Buffer.alloc(16, 9), rollingStartIntervalNumber: 2_900_000, rollingPeriod: 144, transmissionRiskLevel: 3 }];
const window = { region: '440', startTimestamp: 1_740_000_000, endTimestamp: 1_740_003_600 };

describe('LocalSigner', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

  it('signs ES256 in DER that verifies over the concatenation of the parts', async () => {
    const signer = new LocalSigner(privateKey, identity);
    const der = await signer.sign([Buffer.from('EK Export v1    '), Buffer.from('rest')]);
    expect(der[0]).toBe(0x30);
    expect(verify('sha256', Buffer.from('EK Export v1    rest'), { key: publicKey, dsaEncoding: 'der' }, der)).toBe(true);
    expect(signer.signatureInfo).toEqual({ verificationKeyId: '440', verificationKeyVersion: 'v1', signatureAlgorithm: ECDSA_P256_SHA256_OID });
  });

  it('reads a PEM file and refuses files that hold no P-256 private key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'keyfront-signer-'));
    const good = path.join(dir, 'good.pem');
    writeFileSync(good, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const built = await buildExport({ ...window, keys }, await LocalSigner.fromPemFile(good, identity));
    expect(await verifyExport(built.zip, publicKey)).toMatchObject({ valid: true, keyCount: 1 });

    const rsa = path.join(dir, 'rsa.pem');
    writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await expect(LocalSigner.fromPemFile(rsa, identity)).rejects.toThrow('ECDSA P-256 private key');
    const junk = path.join(dir, 'junk.pem');
    writeFileSync(junk, 'not a key');
    await expect(LocalSigner.fromPemFile(junk, identity)).rejects.toThrow(/cannot read the private key/);
  });
});

describe('KeyVaultSigner against the Key Vault REST stand-in', () => {
  let vault: KeyVaultStandIn;
  const scopes: string[][] = [];
  const credential: TokenCredential = {
    getToken: async (scope): Promise<AccessToken> => {
      scopes.push(Array.isArray(scope) ? scope : [scope]);
      return { token: STAND_IN_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };

  beforeAll(async () => {
    vault = await startKeyVaultStandIn();
  });
  afterAll(() => vault.stop());

  function signer(): KeyVaultSigner {
    // The stand-in runs on 127.0.0.1, not *.vault.azure.net, so the challenge's resource check is off here only.
    return new KeyVaultSigner(vault.keyId, credential, identity, { disableChallengeResourceVerification: true, tlsOptions: { ca: vault.ca }, retryOptions: { maxRetries: 0 } });
  }

  it('builds an export whose signature verifies with the vault key', async () => {
    const built = await buildExport({ ...window, keys }, signer());
    expect(await verifyExport(built.zip, vault.publicKey)).toMatchObject({ valid: true, keyCount: 1, signatureInfo: { verificationKeyId: '440', verificationKeyVersion: 'v1' } });
  });

  it('answers the bearer challenge, reads the key, then signs a SHA-256 digest with ES256', async () => {
    vault.requests.length = 0;
    await signer().sign(Buffer.from('data'));
    const calls = vault.requests.map((r) => `${r.method} ${r.path} ${r.authorization ? 'auth' : 'anon'}`);
    expect(calls[0]).toMatch(/ anon$/);
    expect(calls).toContain('GET /keys/export-signing/0123456789abcdef0123456789abcdef auth');
    expect(calls[calls.length - 1]).toBe('POST /keys/export-signing/0123456789abcdef0123456789abcdef/sign auth');
    const signRequest = JSON.parse(vault.requests[vault.requests.length - 1].body) as { alg: string; value: string };
    expect(signRequest.alg).toBe('ES256');
    expect(Buffer.from(signRequest.value, 'base64url')).toEqual(createHash('sha256').update('data').digest());
    expect(vault.requests.every((r) => r.apiVersion)).toBe(true);
    expect(scopes).toContainEqual(['https://vault.azure.net/.default']);
  });

  it('fails with the service error when the key does not exist', async () => {
    const missing = new KeyVaultSigner(`${vault.vaultUrl}/keys/nope/1`, credential, identity, { disableChallengeResourceVerification: true, tlsOptions: { ca: vault.ca }, retryOptions: { maxRetries: 0 } });
    await expect(missing.sign(Buffer.from('data'))).rejects.toMatchObject({ statusCode: 404 });
  });

  it('a vault that stops answering between two signatures: the second fails within its bound, naming Key Vault and the key', async () => {
    const vaultSwitch = new TcpSwitch(Number(new URL(vault.vaultUrl).port));
    await vaultSwitch.on();
    try {
      const keyId = vault.keyId.replace(new URL(vault.vaultUrl).host, `127.0.0.1:${vaultSwitch.port}`);
      const bounded = new KeyVaultSigner(keyId, credential, identity, { disableChallengeResourceVerification: true, tlsOptions: { ca: vault.ca } }, { timeoutInMs: 400 });
      await bounded.sign(Buffer.from('first'));
      vaultSwitch.freeze();
      const started = performance.now();
      await expect(bounded.sign(Buffer.from('second'))).rejects.toThrow('Key Vault did not answer in 400 ms (sign with keys/export-signing/0123456789abcdef0123456789abcdef)');
      expect(performance.now() - started).toBeLessThan(1500);
    } finally {
      vaultSwitch.thaw();
      await vaultSwitch.off();
    }
  });
});
