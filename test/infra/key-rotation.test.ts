/**
 * `keyfront keys rotate|retire` against the deploy stand-in: a dev deployment made by `deploy
 * apply`, its vault's data plane (Key Vault stand-in: new key versions, versions list, attributes,
 * callers checked against the world's role assignments) and the publisher's app settings. The real
 * @azure/arm-appservice and @azure/keyvault-keys clients over HTTPS.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { buildExport, verifyExport } from '../../proto/codec';
import { loadPublisherConfig } from '../../publisher/config';
import { KeyVaultSigner } from '../../publisher/signers/key-vault';
import { signerName } from '../../publisher/signers/signer-settings';
import { deploymentNames, deploymentProfile } from '../../infra/profiles';
import { applyCommand, releaseCommand, type DeployCommandDeps } from '../../scripts/commands/deploy';
import { retireCommand, rotateCommand, type KeysCommandDeps } from '../../scripts/commands/keys-rotation';
import { startArmDeployStandIn, type ArmDeployStandIn } from '../support/arm-deploy-stand-in';
import { runKeyfront, STACK_TRACE } from '../support/cli';
import type { KeyVaultStandIn } from '../support/key-vault-stand-in';
import { writeStandInPackage } from '../support/stand-in-packages';

jest.setTimeout(60_000);

const dev = deploymentNames(deploymentProfile('dev'));
const RG = 'rg-rotation';
const DAY = 86400;
const CRYPTO_OFFICER = '14b46e9e-c2b7-41b4-b07b-48a6ebf60603';
const CRYPTO_USER = '12338af0-0e69-4776-bea7-57ae8d297424';
let standIn: ArmDeployStandIn;
let vault: KeyVaultStandIn;
let dir: string;
/** The rotation's clock (the operator's "now"), moved by the tests. */
let now = new Date('2026-05-04T00:00:00Z');

const keyScope = () => `/subscriptions/${standIn.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/${dev.keyVault}/keys/${dev.signingKey}`;
const publisher = () => standIn.appService.slotOf(dev.publisherSite, 'production')!;
const vaultOptions = () => ({ disableChallengeResourceVerification: true, tlsOptions: { ca: vault.ca }, retryOptions: { maxRetries: 0 } });

function depsFor(out: string[], credential: TokenCredential = standIn.credential): KeysCommandDeps & DeployCommandDeps {
  return {
    env: {},
    write: (text) => out.push(text),
    note: () => undefined,
    isTTY: false,
    azure: { credential, clientOptions: { ...standIn.clientOptions(), $host: standIn.endpoint }, fetch: standIn.fetch, hostUrl: standIn.hostUrl, blobClient: standIn.blobClient, pollIntervalInMs: 1, keyVaultUrl: () => vault.vaultUrl, ...(vault ? { keyVaultClientOptions: vaultOptions() } : {}) },
    now: () => now,
  };
}

const flags = (extra: Record<string, unknown> = {}) => ({ profile: 'dev', resourceGroup: RG, subscription: standIn.subscriptionId, overlapDays: '28', ...extra }) as Parameters<typeof rotateCommand>[0];
const signersNow = () => loadPublisherConfig(publisher().settings, { now }).signers;
const versions = () => vault.keys.get(dev.signingKey)!;

async function apply(): Promise<void> {
  const parameters = path.join(dir, 'params.json');
  await writeFile(parameters, JSON.stringify({ parameters: { healthAuthorities: { value: '[]' } } }));
  await applyCommand({ profile: 'dev', resourceGroup: RG, subscription: standIn.subscriptionId, location: 'japaneast', parameters }, depsFor([]));
}

/** index.json of region 440 in the exports container, as the publisher writes it. */
async function writeIndex(files: Array<{ end: number; signedBy: string[] }>): Promise<void> {
  const entries = files.map(({ end, signedBy }, i) => ({ path: `v1/440/${end - 3600}-${end}-0000${i + 1}.zip`, start: end - 3600, end, keys: 1000, revisedKeys: 0, bytes: 1, sha256: '', keyId: '440', keyVersion: signedBy[0], signatures: signedBy.map((keyVersion) => ({ keyId: '440', keyVersion })) }));
  const body = JSON.stringify({ region: '440', generatedAt: now.toISOString(), files: entries });
  await standIn.blobService(dev.exportsAccount).getContainerClient('exports').getBlockBlobClient('v1/440/index.json').upload(body, Buffer.byteLength(body));
}

beforeAll(async () => {
  standIn = await startArmDeployStandIn({ blobAccounts: [dev.packagesAccount('primary'), dev.exportsAccount] });
  dir = await mkdtemp(path.join(tmpdir(), 'kf-rotation-'));
  await apply();
  vault = await standIn.startKeyVault(RG, dev.keyVault);
  standIn.assignRole(RG, standIn.operatorId, CRYPTO_OFFICER, `/subscriptions/${standIn.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/${dev.keyVault}`);
});
afterAll(() => standIn?.stop());
afterEach(() => expect(standIn.violations).toEqual([]));

describe('keys rotate', () => {
  const v1Kid = () => `https://${dev.keyVault}.vault.azure.net/keys/${dev.signingKey}/${versions()[0].version}`;

  it('starts from the first deployment: one signer, the key version that existed then, pinned', () => {
    expect(signersNow()).toEqual([{ keyId: '440', keyVersion: 'v1', keyVaultKeyId: v1Kid() }]);
  });

  it('prints the plan and changes nothing without --execute', async () => {
    const before = { ...publisher().settings };
    const out: string[] = [];
    await rotateCommand(flags(), depsFor(out));
    expect(out.join('')).toContain('plan (nothing changes without --execute)');
    expect(out.join('')).toContain('440/v1 until 2026-06-01T00:00:00Z, 440/v2 from 2026-05-04T00:00:00Z');
    expect(publisher().settings).toEqual(before);
    expect(versions()).toHaveLength(1);
  });

  it('is refused, changing nothing, for an operator whose role cannot create keys (Key Vault Crypto User)', async () => {
    const user = 'a1b2c3d4-0000-4000-8000-000000000001';
    standIn.assignRole(RG, user, CRYPTO_USER, keyScope());
    const before = { ...publisher().settings };
    const out: string[] = [];
    // The plan reads (keys/read): the user sees it; creating the version is refused by Key Vault.
    await expect(rotateCommand(flags({ execute: true }), depsFor(out, standIn.credentialFor(user)))).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/^Forbidden: Caller is not authorized to perform action on resource\..*: creating a key version needs Key Vault Crypto Officer on the vault \(Key Vault Crypto User may sign, not create keys\)$/),
    });
    expect(out.join('')).toContain('rotating: export signing key');
    expect(publisher().settings).toEqual(before);
    expect(versions()).toHaveLength(1);
  });

  it.each([
    [{ overlapDays: '3' }, 'the overlap must be 15 to 365 days, got 3', 1],
    [{ overlapDays: 'four weeks' }, '--overlap-days must be a whole number of days, got "four weeks"', 2],
    [{ overlapDays: '400' }, '--overlap-days must be at most 365, got 400', 2],
    [{ keyVersion: 'v 2' }, '--key-version must be of [A-Za-z0-9_]{1,32}', 2],
    [{ keyId: '441' }, 'no key with key id "441" signs now (the publisher signs with 440/v1)', 1],
    [{ keyVersion: 'v1' }, 'the publisher already has a key 440/v1: choose another --key-version', 1],
    [{ profile: 'qa' }, '--profile must be dev or prod, got "qa"', 2],
  ])('refuses %j: %s (exit %s), changing nothing', async (extra, message, exitCode) => {
    const before = { ...publisher().settings };
    await expect(rotateCommand(flags({ ...extra, execute: true }), depsFor([]))).rejects.toMatchObject({ exitCode, message: expect.stringContaining(message) });
    expect(publisher().settings).toEqual(before);
    expect(versions()).toHaveLength(1);
  });

  it('creates a key version, prints its public key for the app stores, and writes the overlap into the publisher settings', async () => {
    const out: string[] = [];
    await rotateCommand(flags({ execute: true }), depsFor(out));
    expect(versions()).toHaveLength(2);
    const v2 = versions()[1];
    const v2Key = vault.publicKeyOf(dev.signingKey, v2.version);
    const spki = v2Key.export({ type: 'spki', format: 'der' });
    const text = out.join('');
    expect(text).toContain(`created ${vault.vaultUrl}/keys/${dev.signingKey}/${v2.version}: 440/v2`);
    expect(text).toContain(v2Key.export({ type: 'spki', format: 'pem' }).toString().trim());
    expect(text).toContain(`public key (base64 SPKI, for the app stores' configuration): ${spki.toString('base64')}\n`);
    expect(text).toContain(`SHA-256 fingerprint of the SPKI: ${createHash('sha256').update(spki).digest('hex')}\n`);
    expect(signersNow()).toEqual([
      { keyId: '440', keyVersion: 'v1', keyVaultKeyId: v1Kid(), notAfter: now.getTime() / 1000 + 28 * DAY },
      { keyId: '440', keyVersion: 'v2', keyVaultKeyId: `${vault.vaultUrl}/keys/${dev.signingKey}/${v2.version}`, notBefore: now.getTime() / 1000 },
    ]);
    expect(Object.keys(publisher().settings).filter((name) => /^KEYFRONT_(SIGNER|KEY_VAULT_KEY_ID|SIGNATURE_KEY_.*)$/.test(name))).toEqual([]);
  });

  it('the publisher identity signs with both versions: a file of the overlap verifies with each key', async () => {
    const identity = standIn.credentialFor(String(standIn.world.resourceGroups.get(RG)!.resources.get(`/subscriptions/${standIn.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Web/sites/${dev.publisherSite}`.toLowerCase())!.runtime.principalId));
    const signerOf = (version: string, keyVersion: string) => new KeyVaultSigner(`${vault.vaultUrl}/keys/${dev.signingKey}/${version}`, identity, { keyId: '440', keyVersion }, vaultOptions());
    const keys = [{ keyData: Buffer.alloc(16, 7), rollingStartIntervalNumber: 2_960_000, rollingPeriod: 144, transmissionRiskLevel: 3 }];
    const built = await buildExport({ region: '440', startTimestamp: 1_776_000_000, endTimestamp: 1_776_003_600, keys }, [signerOf(versions()[0].version, 'v1'), signerOf(versions()[1].version, 'v2')]);
    expect(await verifyExport(built.zip, vault.publicKeyOf(dev.signingKey, versions()[0].version), { keyId: '440', keyVersion: 'v1' })).toMatchObject({ valid: true });
    expect(await verifyExport(built.zip, vault.publicKeyOf(dev.signingKey, versions()[1].version), { keyId: '440', keyVersion: 'v2' })).toMatchObject({ valid: true });
  });

  it('is refused while a rotation is in progress', async () => {
    await expect(rotateCommand(flags({ execute: true, keyVersion: 'v3' }), depsFor([]))).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('a rotation is in progress: 440/v1 signs until 2026-06-01T00:00:00Z') });
    expect(versions()).toHaveLength(2);
  });

  it('survives a later deploy apply, although the key resource now names the new version, and a release through the staging slot', async () => {
    const rotated = publisher().settings.KEYFRONT_SIGNERS;
    const keyResource = standIn.world.resourceGroups.get(RG)!.resources.get(keyScope().toLowerCase())!;
    expect(String(keyResource.runtime.keyUriWithVersion)).toMatch(new RegExp(`/${versions()[1].version}$`));
    await apply();
    expect(publisher().settings.KEYFRONT_SIGNERS).toBe(rotated);
    expect(standIn.appService.slotOf(dev.publisherSite, 'staging')!.settings.KEYFRONT_SIGNERS).toBe(rotated);
    // A swap moves settings with the code, but KEYFRONT_SIGNERS is slot-sticky: production keeps the rotation.
    await standIn.appService.replaceSettings(standIn.appService.slotOf(dev.publisherSite, 'staging')!, { ...standIn.appService.slotOf(dev.publisherSite, 'staging')!.settings, KEYFRONT_SIGNERS: '[]' });
    const release = await writeStandInPackage(dir, 'publisher', 'publisher after rotation');
    await releaseCommand({ profile: 'dev', resourceGroup: RG, subscription: standIn.subscriptionId, app: 'publisher', package: release.file }, depsFor([]));
    expect(publisher().settings.WEBSITE_RUN_FROM_PACKAGE).toContain(release.digest);
    expect(publisher().settings.KEYFRONT_SIGNERS).toBe(rotated);
  });
});

describe('keys retire', () => {
  const retire = (extra: Record<string, unknown> = {}) => retireCommand({ profile: 'dev', resourceGroup: RG, subscription: standIn.subscriptionId, ...extra }, depsFor([]));

  it('is refused before the overlap ends', async () => {
    await expect(retire({ execute: true })).rejects.toMatchObject({ exitCode: 1, message: 'not retiring: the overlap of 440/v1 runs until 2026-06-01T00:00:00Z: retire it after that' });
    expect(signersNow()).toHaveLength(2);
  });

  it('is refused while an index names a file signed only by the old key, saying when it leaves', async () => {
    now = new Date('2026-06-02T00:00:00Z');
    const end = Date.parse('2026-05-20T00:00:00Z') / 1000;
    await writeIndex([{ end, signedBy: ['v1'] }, { end: end + 3600, signedBy: ['v1', 'v2'] }]);
    await expect(retire({ execute: true })).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('1 file(s) in the index are signed only by 440/v1 (e.g. v1/440/') });
    await expect(retire({ execute: true })).rejects.toMatchObject({ message: expect.stringContaining('The last leaves the index at 2026-06-03T00:00:00Z') });
    expect(signersNow()).toHaveLength(2);
  });

  it('a new rotation is refused until the old key is retired, even once its window is over', async () => {
    await expect(rotateCommand(flags({ execute: true, keyVersion: 'v3' }), depsFor([]))).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('a rotation is in progress: 440/v1 stopped signing at 2026-06-01T00:00:00Z; retire it') });
    expect(versions()).toHaveLength(2);
  });

  it('prints its plan, then retires: the old key leaves the settings and Key Vault refuses to sign with it', async () => {
    await writeIndex([{ end: Date.parse('2026-05-21T00:00:00Z') / 1000, signedBy: ['v1', 'v2'] }, { end: Date.parse('2026-06-01T12:00:00Z') / 1000, signedBy: ['v2'] }]);
    const plan: string[] = [];
    await retireCommand({ profile: 'dev', resourceGroup: RG, subscription: standIn.subscriptionId }, depsFor(plan));
    expect(plan.join('')).toContain('  retire: 440/v1 (until 2026-06-01T00:00:00Z)');
    expect(signersNow()).toHaveLength(2);

    const out: string[] = [];
    await retireCommand({ profile: 'dev', resourceGroup: RG, subscription: standIn.subscriptionId, execute: true }, depsFor(out));
    expect(out.join('')).toContain('retired 440/v1');
    expect(signersNow().map(signerName)).toEqual(['440/v2']);
    expect(versions()[0].attributes.enabled).toBe(false);
    const identity = standIn.credentialFor(String(standIn.world.resourceGroups.get(RG)!.resources.get(`/subscriptions/${standIn.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Web/sites/${dev.publisherSite}`.toLowerCase())!.runtime.principalId));
    const old = new KeyVaultSigner(`${vault.vaultUrl}/keys/${dev.signingKey}/${versions()[0].version}`, identity, { keyId: '440', keyVersion: 'v1' }, vaultOptions());
    await expect(old.sign(Buffer.from('export.bin'))).rejects.toMatchObject({ statusCode: 403, message: 'Operation sign is not allowed on a disabled key.' });
    await expect(retire({ execute: true })).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('no key to retire') });
  });
});

describe('keys rotate as an operator runs it', () => {
  it('exits 2 with one line, before signing in, for a bad --overlap-days', async () => {
    const run = await runKeyfront(['keys', 'rotate', '--profile', 'prod', '--resource-group', 'rg', '--overlap-days', 'a month']);
    expect([run.status, run.stderr]).toEqual([2, 'keyfront: --overlap-days must be a whole number of days, got "a month"\n']);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });
});
