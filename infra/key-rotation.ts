/**
 * Rotating the export signing key of a deployment, in two steps, each a plan (data) and an
 * executor, as `keyfront keys rotate|retire` run them:
 *
 * 1. Rotate: a new version of the Key Vault key is created, and the publisher's KEYFRONT_SIGNERS
 *    becomes [old key until the end of the overlap, new key from now]: every file built during the
 *    overlap carries both signatures, so phones configured with either key verify it. Files already
 *    published are never signed again.
 * 2. Retire, after the overlap: the old key leaves KEYFRONT_SIGNERS and its Key Vault version is
 *    disabled (Key Vault then refuses to sign with it). Refused while any index still names a file
 *    signed only by the old key: the phones that know only the new key could not verify it.
 *
 * The settings are read and written through Web Apps' application settings (ARM, List / Update
 * Application Settings; an update replaces the whole set, so the rest is written back as read), the
 * key through Key Vault's data plane (`@azure/keyvault-keys`: Create Key makes a new version of a
 * key that exists; Update Key sets `enabled`). Creating a version takes the data action
 * `Microsoft.KeyVault/vaults/keys/create/action`, which Key Vault Crypto Officer holds and Key Vault
 * Crypto User does not (https://learn.microsoft.com/azure/key-vault/general/rbac-guide). Every
 * index is read the way phones read it, anonymously from the exports container.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { WebSiteManagementClient } from '@azure/arm-appservice';
import type { KeyClient } from '@azure/keyvault-keys';
import { ConfigError } from '../platform/settings';
import { isoOfSeconds } from '../platform/instant';
import { loadPublisherConfig, SINGLE_KEY_SETTINGS } from '../publisher/config';
import { indexJsonName } from '../publisher/export-names';
import type { IndexJson, IndexJsonFile } from '../publisher/index-file';
import { isKeyVaultKeyVersionUrl, signerName, SIGNERS_SETTING, signersSettingValue, signsAt, type SignerSetting } from '../publisher/signers/signer-settings';

const DAY = 86400;
/** The longest overlap `keys rotate` plans (a year: longer means the retirement was forgotten). */
export const MAX_OVERLAP_DAYS = 365;

/** The deployment whose key rotates: names from infra/profiles.ts. */
export interface RotationTarget {
  resourceGroupName: string;
  publisherSite: string;
  keyVaultName: string;
  keyName: string;
  exportsAccount: string;
  exportsContainer: string;
}

/** What the steps call: Azure clients, and how to reach a host (tests point it at the stand-ins). */
export interface RotationClients {
  web: WebSiteManagementClient;
  keys: KeyClient;
  fetch?: typeof fetch;
  hostUrl?: (hostName: string) => string;
  abortSignal?: AbortSignal;
}

/** The answer is no (a rotation in progress, an overlap not over, files only the old key signed): nothing was changed. */
export class RotationRefusedError extends Error {
  override readonly name = 'RotationRefusedError';
}

/** A step failed after an earlier one changed something; the message says what is left to do by hand. */
export class RotationIncompleteError extends Error {
  override readonly name = 'RotationIncompleteError';
}

interface PublisherState {
  settings: Record<string, string>;
  signers: SignerSetting[];
  regions: string[];
  fileRetentionDays: number;
}

/** The publisher's settings as the app would read them at start-up (the same validation). */
function readConfig(settings: Record<string, string>, now: number): ReturnType<typeof loadPublisherConfig> {
  try {
    return loadPublisherConfig(settings, { now: new Date(now * 1000) });
  } catch (error) {
    if (error instanceof ConfigError) throw new RotationRefusedError(`the publisher's settings would not start the publisher: ${error.problems.join('; ')}`);
    throw error;
  }
}

async function readPublisher(clients: RotationClients, target: RotationTarget, now: number): Promise<PublisherState> {
  let settings: Record<string, string>;
  try {
    settings = (await clients.web.webApps.listApplicationSettings(target.resourceGroupName, target.publisherSite, { abortSignal: clients.abortSignal })).properties ?? {};
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) throw new RotationRefusedError(`the publisher ${target.publisherSite} does not exist in resource group ${target.resourceGroupName}: deploy first (keyfront deploy apply)`);
    throw error;
  }
  const config = readConfig(settings, now);
  return { settings, signers: config.signers, regions: config.regions, fileRetentionDays: config.fileRetentionDays };
}

/** The settings with a new signer list: the single-key settings go (the publisher refuses both), the rest stays as read. */
function withSigners(settings: Record<string, string>, signers: readonly SignerSetting[]): Record<string, string> {
  const next = Object.fromEntries(Object.entries(settings).filter(([name]) => !SINGLE_KEY_SETTINGS.some((setting) => setting.env === name)));
  return { ...next, [SIGNERS_SETTING]: signersSettingValue(signers) };
}

async function writeSigners(clients: RotationClients, target: RotationTarget, state: PublisherState, signers: readonly SignerSetting[], now: number): Promise<string> {
  const settings = withSigners(state.settings, signers);
  // Never write a list the publisher would refuse at start-up.
  readConfig(settings, now);
  await clients.web.webApps.updateApplicationSettings(target.resourceGroupName, target.publisherSite, { properties: settings }, { abortSignal: clients.abortSignal });
  return settings[SIGNERS_SETTING];
}

/** `https://{vault}.vault.azure.net/keys/{name}/{version}` -> name and version. */
function keyVersionOf(keyVaultKeyId: string): { name: string; version: string } {
  const [, , name, version] = new URL(keyVaultKeyId).pathname.split('/');
  return { name, version };
}

/** The next version label: `v1` -> `v2`, `2025a3` -> `2025a4`; `undefined` without trailing digits. */
export function nextKeyVersionLabel(label: string): string | undefined {
  const match = /^(.*?)(\d+)$/.exec(label);
  return match ? `${match[1]}${Number(match[2]) + 1}` : undefined;
}

export interface RotationOptions {
  /** UTC seconds. */
  now: number;
  overlapDays: number;
  /** The key id of the key to rotate (when several sign now, one per region) and of its successor. */
  keyId?: string;
  /** The version label phones will know the new key by; the next number after the current one by default. */
  keyVersion?: string;
}

export interface RotationPlan {
  target: RotationTarget;
  now: number;
  /** The signer whose key gets a new version. */
  current: SignerSetting & { keyVaultKeyId: string };
  next: { keyId: string; keyVersion: string };
  overlap: { start: number; end: number };
  /** Versions the key has in Key Vault now, newest first. */
  versions: Array<{ version: string; enabled: boolean; createdOn?: Date }>;
  keyType: string;
  /** The publisher's other signers, kept as they are. */
  others: SignerSetting[];
  fileRetentionDays: number;
  state: PublisherState;
}

/** What the rotation needs to know and would do; throws `RotationRefusedError` when it must not happen. */
export async function planRotation(clients: RotationClients, target: RotationTarget, options: RotationOptions): Promise<RotationPlan> {
  const { now } = options;
  const state = await readPublisher(clients, target, now);
  // One rotation at a time: a key with an end is the old key of one, until `keys retire` removes it.
  const ending = state.signers.filter((signer) => signer.notAfter !== undefined);
  if (ending.length > 0) {
    const what = ending.map((signer) => (signer.notAfter! > now ? `${signerName(signer)} signs until ${isoOfSeconds(signer.notAfter!)}` : `${signerName(signer)} stopped signing at ${isoOfSeconds(signer.notAfter!)}`)).join(', ');
    throw new RotationRefusedError(`a rotation is in progress: ${what}; retire it (keyfront keys retire, after its overlap) before rotating again`);
  }
  const signingNow = state.signers.filter((signer) => state.regions.some((region) => signsAt(signer, region, now)));
  const candidates = signingNow.filter((signer) => options.keyId === undefined || signer.keyId === options.keyId);
  if (candidates.length !== 1) {
    const names = signingNow.map(signerName).join(', ');
    throw new RotationRefusedError(candidates.length === 0 ? `no key with key id ${JSON.stringify(options.keyId)} signs now (the publisher signs with ${names})` : `several keys sign now (${names}): name the one to rotate with --key-id`);
  }
  const current = candidates[0];
  if (current.keyVaultKeyId === undefined) throw new RotationRefusedError(`${signerName(current)} is a local key file (${current.keyFile}), not a Key Vault key: keys rotate rotates Key Vault keys`);
  const { name } = keyVersionOf(current.keyVaultKeyId);
  if (name !== target.keyName) throw new RotationRefusedError(`the publisher signs with Key Vault key ${name}, not ${target.keyName} of this deployment`);
  const minimum = state.fileRetentionDays + 1;
  if (options.overlapDays < minimum || options.overlapDays > MAX_OVERLAP_DAYS) {
    throw new RotationRefusedError(`the overlap must be ${minimum} to ${MAX_OVERLAP_DAYS} days, got ${options.overlapDays}: files signed only by the old key stay in the index ${state.fileRetentionDays} days (KEYFRONT_FILE_RETENTION_DAYS), and phones need the new key's configuration before the old key stops`);
  }
  const nextVersion = options.keyVersion ?? nextKeyVersionLabel(current.keyVersion);
  if (nextVersion === undefined) throw new RotationRefusedError(`cannot number the version after ${JSON.stringify(current.keyVersion)}: give the new key's version with --key-version`);
  const next = { keyId: current.keyId, keyVersion: nextVersion };
  if (state.signers.some((signer) => signer.keyId === next.keyId && signer.keyVersion === next.keyVersion)) {
    throw new RotationRefusedError(`the publisher already has a key ${signerName(next)}: choose another --key-version`);
  }
  const currentKey = await clients.keys.getKey(name, { version: keyVersionOf(current.keyVaultKeyId).version, abortSignal: clients.abortSignal });
  const versions: RotationPlan['versions'] = [];
  for await (const properties of clients.keys.listPropertiesOfKeyVersions(name, { abortSignal: clients.abortSignal })) {
    versions.push({ version: properties.version ?? '', enabled: properties.enabled !== false, ...(properties.createdOn ? { createdOn: properties.createdOn } : {}) });
  }
  versions.sort((a, b) => (b.createdOn?.getTime() ?? 0) - (a.createdOn?.getTime() ?? 0));
  return {
    target,
    now,
    current: current as RotationPlan['current'],
    next,
    overlap: { start: now, end: now + options.overlapDays * DAY },
    versions,
    keyType: currentKey.keyType ?? 'EC',
    others: state.signers.filter((signer) => signer !== current),
    fileRetentionDays: state.fileRetentionDays,
    state,
  };
}

/** The public key as phones' configuration and people take it. */
export interface PublishedPublicKey {
  pem: string;
  /** The SPKI DER in base64 (the PEM body on one line): what the app stores' configuration registers. */
  spkiBase64: string;
  /** SHA-256 of the SPKI DER, lower-case hex (`openssl pkey -pubin -outform DER | sha256sum`). */
  fingerprintSha256: string;
}

export function describePublicKey(key: KeyObject): PublishedPublicKey {
  const der = key.export({ type: 'spki', format: 'der' });
  return { pem: key.export({ type: 'spki', format: 'pem' }).toString(), spkiBase64: der.toString('base64'), fingerprintSha256: createHash('sha256').update(der).digest('hex') };
}

export interface RotationResult {
  /** The new version's key identifier, as KEYFRONT_SIGNERS names it. */
  keyVaultKeyId: string;
  next: { keyId: string; keyVersion: string };
  publicKey: PublishedPublicKey;
  overlap: { start: number; end: number };
  /** KEYFRONT_SIGNERS as written. */
  signersSetting: string;
}

/** Creates the new key version, then writes the overlap into the publisher's settings. */
export async function executeRotation(clients: RotationClients, plan: RotationPlan): Promise<RotationResult> {
  const created = await clients.keys.createKey(plan.target.keyName, plan.keyType, { curve: 'P-256', keyOps: ['sign', 'verify'], abortSignal: clients.abortSignal });
  const { x, y, crv } = created.key ?? {};
  if (!created.id || !isKeyVaultKeyVersionUrl(created.id) || crv !== 'P-256' || !x || !y) throw new RotationIncompleteError(`Key Vault created ${created.id ?? 'a key version'} but did not answer with a P-256 key version: nothing else was changed; check the key in the vault`);
  const publicKey = describePublicKey(createPublicKey({ key: { kty: 'EC', crv, x: Buffer.from(x).toString('base64url'), y: Buffer.from(y).toString('base64url') }, format: 'jwk' }));
  const newSigner: SignerSetting = { ...plan.next, keyVaultKeyId: created.id, notBefore: plan.overlap.start, ...(plan.current.regions ? { regions: plan.current.regions } : {}) };
  const signers = [...plan.others, { ...plan.current, notAfter: plan.overlap.end }, newSigner];
  try {
    const signersSetting = await writeSigners(clients, plan.target, plan.state, signers, plan.now);
    return { keyVaultKeyId: created.id, next: plan.next, publicKey, overlap: plan.overlap, signersSetting };
  } catch (error) {
    throw new RotationIncompleteError(
      `created key version ${created.id} (${signerName(plan.next)}), but writing the publisher's settings failed (${(error as Error).message}): nothing signs with it yet. Set ${SIGNERS_SETTING} of ${plan.target.publisherSite} to ${signersSettingValue(signers)} (az functionapp config appsettings set), or disable that version (az keyvault key set-attributes --enabled false) and rotate again`,
    );
  }
}

/** A file of an index that only retiring keys signed. */
export interface UnverifiableFile {
  region: string;
  path: string;
  /** UTC seconds when it leaves the index (its window's end plus the file retention). */
  leavesIndexAt: number;
}

export interface RetirementPlan {
  target: RotationTarget;
  now: number;
  retiring: SignerSetting[];
  remaining: SignerSetting[];
  /** Why it must not happen now; empty when it may. */
  blockers: string[];
  onlyRetiring: UnverifiableFile[];
  regions: string[];
  state: PublisherState;
}

async function readIndexJson(clients: RotationClients, target: RotationTarget, region: string): Promise<IndexJsonFile[]> {
  const host = `${target.exportsAccount}.blob.core.windows.net`;
  const url = `${(clients.hostUrl ?? ((name: string) => `https://${name}`))(host)}/${target.exportsContainer}/${indexJsonName(region)}`;
  const response = await (clients.fetch ?? fetch)(url, { signal: clients.abortSignal });
  if (response.status === 404) return [];
  if (response.status !== 200) throw new RotationRefusedError(`cannot read the index of region ${region} (https://${host}/${target.exportsContainer}/${indexJsonName(region)} answered ${response.status}): retiring needs every index`);
  const index = (await response.json()) as IndexJson;
  return index.files ?? [];
}

/** What retiring the old key would do, and what stands in its way (`blockers`). */
export async function planRetirement(clients: RotationClients, target: RotationTarget, options: { now: number }): Promise<RetirementPlan> {
  const { now } = options;
  const state = await readPublisher(clients, target, now);
  const retiring = state.signers.filter((signer) => signer.notAfter !== undefined);
  const remaining = state.signers.filter((signer) => signer.notAfter === undefined);
  const plan: RetirementPlan = { target, now, retiring, remaining, blockers: [], onlyRetiring: [], regions: state.regions, state };
  if (retiring.length === 0) {
    plan.blockers.push(`no key to retire: no signer of the publisher has an end (${state.signers.map(signerName).join(', ')}); keys rotate starts a rotation`);
    return plan;
  }
  for (const signer of retiring) {
    if (signer.notAfter! > now) plan.blockers.push(`the overlap of ${signerName(signer)} runs until ${isoOfSeconds(signer.notAfter!)}: retire it after that`);
  }
  const retiringNames = new Set(retiring.map(signerName));
  for (const region of state.regions) {
    for (const file of await readIndexJson(clients, target, region)) {
      // An index written before files had several signatures names one key per file.
      const signedBy = file.signatures ?? [{ keyId: file.keyId, keyVersion: file.keyVersion }];
      if (signedBy.every((ref) => retiringNames.has(signerName(ref)))) plan.onlyRetiring.push({ region, path: file.path, leavesIndexAt: file.end + state.fileRetentionDays * DAY });
    }
  }
  if (plan.onlyRetiring.length > 0) {
    const last = Math.max(...plan.onlyRetiring.map((file) => file.leavesIndexAt));
    plan.blockers.push(`${plan.onlyRetiring.length} file(s) in the index are signed only by ${[...retiringNames].join(', ')} (e.g. ${plan.onlyRetiring[0].path}); phones that know only the new key cannot verify them. The last leaves the index at ${isoOfSeconds(last)}`);
  }
  return plan;
}

export interface RetirementResult {
  retired: SignerSetting[];
  /** Key Vault versions disabled. */
  disabled: string[];
  signersSetting: string;
}

/** Removes the retiring keys from the publisher's settings, then disables their Key Vault versions. */
export async function executeRetirement(clients: RotationClients, plan: RetirementPlan): Promise<RetirementResult> {
  if (plan.blockers.length > 0) throw new RotationRefusedError(plan.blockers.join('; '));
  const signersSetting = await writeSigners(clients, plan.target, plan.state, plan.remaining, plan.now);
  const disabled: string[] = [];
  for (const signer of plan.retiring) {
    if (signer.keyVaultKeyId === undefined) continue;
    const { name, version } = keyVersionOf(signer.keyVaultKeyId);
    try {
      await clients.keys.updateKeyProperties(name, version, { enabled: false, abortSignal: clients.abortSignal });
    } catch (error) {
      throw new RotationIncompleteError(`${signerName(signer)} no longer signs (the publisher's settings are written), but disabling its Key Vault version ${signer.keyVaultKeyId} failed (${(error as Error).message}): disable it by hand (az keyvault key set-attributes --enabled false)`);
    }
    disabled.push(signer.keyVaultKeyId);
  }
  return { retired: plan.retiring, disabled, signersSetting };
}
