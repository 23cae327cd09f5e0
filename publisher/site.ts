/**
 * Publishes the transparency page next to the exports: the built files of `site/` go to the
 * exports container under `site/` (the edge serves `site/index.html` at `/` and the rest at
 * `/site/<name>`), with `site/config.json` telling the page the regions and the signing keys it
 * checks every file against (several during a key rotation: a file passes when one of them verifies
 * it, and the page says which signed it), and `site/signing-key.pem` the key it names first, for
 * checks by hand.
 *
 * `index.html` is rendered at publish time (site-page.ts): it lists every file of every region's
 * index, so it reads without JavaScript. It is written at start-up from the build, and again after
 * every publisher run whose index changed what it says (`refreshSitePage`, from the page as stored).
 *
 * Assets carry a content hash in their name and are immutable (create-only, cached a year), so a
 * cached `index.html` always finds the assets it names. `index.html`, `config.json` and the key are
 * the page's index: short cache lifetimes, written last and only when they change, and then only
 * their own paths are purged. The public key is checked against a signature the signer makes
 * first: the page never announces a key that does not sign the files.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { KeyClient, parseKeyVaultKeyIdentifier, type KeyClientOptions } from '@azure/keyvault-keys';
import { withDeadline } from '../platform/deadline';
import { DEFAULT_KEY_VAULT_TIMEOUT_IN_MS } from './signers/key-vault';
import type { Logger } from '../platform/log';
import { ECDSA_P256_SHA256_OID } from '../proto/signature';
import type { Signer } from '../proto/signer';
import { SIGNING_KEY_PATH, type PageKey } from '../site/page-content';
import { BlobConditionError, type BlobRequestOptions, type BlobWriter } from './blob/blob-writer';
import type { PublisherConfig } from './config';
import { purgeWithRetry } from './purge';
import type { Purger } from './purgers/purger';
import { scheduleOf, type PublisherSigning } from './signers/schedule';
import type { SignerSetting } from './signers/signer-settings';
import { fillPage, missingSlots, readPageContent, type PageSources } from './site-page';

/**
 * Where the built page is read from: `dist/site/` at the repository root (`npm run build:site`),
 * and the same place in the publisher package, whose bundle runs from `dist/`.
 */
export const SITE_BUILD_DIR = path.join(__dirname, '..', 'dist', 'site');
/** Blob prefix of the page; the edge serves `/site/<name>` from it. */
export const SITE_PREFIX = 'site/';
/** Names the edge serves under `/site/` (and so the only names the page may have). */
export const SITE_FILE_NAME = /^[a-z0-9][a-z0-9.-]*\.(html|js|css|svg|json)$/;
/** An asset whose name carries the first 12 hex digits of its SHA-256: `app.0123456789ab.js`. */
const HASHED_NAME = /^[a-z0-9-]+\.([0-9a-f]{12})\.(js|css|svg)$/;

/** Assets named by their content: cached everywhere for a year, never rewritten. */
export const SITE_ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';
/** index.html, config.json and the key: purged when they change; five minutes on the edge bound a lost purge. */
export const SITE_INDEX_CACHE_CONTROL = 'public, max-age=60, s-maxage=300';
/** Blob name of the public key, written by the publisher (the page links to it; `openssl` reads it). */
const SIGNING_KEY_NAME = SIGNING_KEY_PATH.slice('/site/'.length);
const INDEX_HTML = 'index.html';

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  json: 'application/json; charset=utf-8',
  pem: 'application/x-pem-file',
};

/** A file of the built page, named as under `/site/`. */
export interface SiteFile {
  name: string;
  data: Buffer;
}

/** A signing key as config.json gives it. */
export interface SiteSigningKey {
  keyId: string;
  keyVersion: string;
  algorithm: string;
  /** SPKI, PEM. */
  publicKeyPem: string;
  publicKeyJwk: { kty: string; crv: string; x: string; y: string };
  /** SHA-256 of the SPKI DER, lower-case hex: what `openssl pkey -pubin -outform DER | sha256sum` prints. */
  fingerprintSha256: string;
}

/** `site/config.json`: what the page reads before anything else. */
export interface SiteConfig {
  regions: string[];
  /** The key the page names: the first that signs new files. */
  signingKey: SiteSigningKey;
  /** Every key the page accepts, `signingKey` first: during a key rotation, the old and the new one. */
  signingKeys: SiteSigningKey[];
}

/** A public key with the key id and version files name it by. */
export interface IdentifiedPublicKey {
  publicKey: KeyObject;
  keyId: string;
  keyVersion: string;
}

/** The page cannot be published as built or configured (a build mistake, a key that does not sign). */
export class SitePublishError extends Error {
  override readonly name = 'SitePublishError';
}

/** What the page says beyond the published files (publisher settings). */
export interface SiteSettings {
  /** Where the health authority publishes its key's fingerprint (KEYFRONT_SITE_FINGERPRINT_URL). */
  fingerprintUrl?: string;
}

export interface SitePublishDeps {
  exports: BlobWriter;
  /** The private state container: the manifests' real counts. */
  state: BlobWriter;
  signer: PublisherSigning;
  purger: Purger;
  logger: Logger;
  settings: { regions: string[]; minKeysPerFile: number; purgeAttempts: number; purgeBackoffInMs: number };
  site?: SiteSettings;
}

export interface SitePublishResult {
  /** Blob names written (new or changed). */
  written: string[];
  /** `null` when nothing changed and no purge was due. */
  purged: boolean | null;
}

/** What `refreshSitePage` did: `written` once index.html changed; `purged` as for the index. */
export interface SiteRefresh {
  written: boolean;
  purged: boolean | null;
  /** Why nothing was written when something was in the way (the page of another build, no page yet). */
  skipped?: string;
}

function extensionOf(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Refuses a build the edge could not serve or whose hashed names lie about their content. */
export function checkSiteFiles(files: readonly SiteFile[]): void {
  const names = new Set<string>();
  for (const file of files) {
    if (!SITE_FILE_NAME.test(file.name)) throw new SitePublishError(`site file name ${JSON.stringify(file.name)} is not one the edge serves (${SITE_FILE_NAME.source})`);
    if (file.name === 'config.json') throw new SitePublishError('the build must not carry config.json: the publisher writes it from its settings and signing key');
    if (names.has(file.name)) throw new SitePublishError(`site file ${file.name} is given twice`);
    names.add(file.name);
    const hashed = HASHED_NAME.exec(file.name);
    if (hashed && !sha256Hex(file.data).startsWith(hashed[1])) throw new SitePublishError(`site file ${file.name} does not hold the content its name's hash says`);
  }
  const index = files.find((file) => file.name === INDEX_HTML);
  if (!index) throw new SitePublishError('the site build has no index.html');
  const missing = missingSlots(index.data.toString('utf8'));
  if (missing.length > 0) throw new SitePublishError(`the site build's index.html lacks the slots the publisher fills: ${missing.join(', ')}`);
}

/** Reads a built page from a folder (flat: the edge serves no sub-folders). */
export async function readSiteBuild(dir: string): Promise<SiteFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new SitePublishError(`cannot read the site build in ${dir} (build it with \`npm run build:site\`): ${(error as Error).message}`);
  }
  const files = await Promise.all(entries.filter((entry) => entry.isFile()).map(async (entry) => ({ name: entry.name, data: await readFile(path.join(dir, entry.name)) })));
  checkSiteFiles(files);
  return files;
}

function siteSigningKey({ publicKey, keyId, keyVersion }: IdentifiedPublicKey): SiteSigningKey {
  if (publicKey.type !== 'public' || publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new SitePublishError('the signing key must be an ECDSA P-256 public key');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const jwk = publicKey.export({ format: 'jwk' });
  return { keyId, keyVersion, algorithm: ECDSA_P256_SHA256_OID, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), publicKeyJwk: { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! }, fingerprintSha256: sha256Hex(spki) };
}

/** config.json for these regions and keys (the one the page names first), as the page parses it. */
export function siteConfig(regions: readonly string[], keys: readonly IdentifiedPublicKey[]): SiteConfig {
  const signingKeys = keys.map(siteSigningKey);
  return { regions: [...regions], signingKey: signingKeys[0], signingKeys };
}

/**
 * The publisher's signers with their public keys (`publicKeys` in the schedule's order): the keys
 * the page accepts, the one it names first. It names the last key that signs files of the first
 * region now, the newest during a key rotation: its signature ends export.sig, where the page's
 * commands to check a file by hand take it from.
 */
function pageSigners(deps: Pick<SitePublishDeps, 'signer' | 'settings'>, publicKeys: readonly KeyObject[]): Array<IdentifiedPublicKey & { signer: Signer }> {
  const schedule = scheduleOf(deps.signer);
  if (publicKeys.length !== schedule.entries.length) throw new SitePublishError(`the page was given ${publicKeys.length} public keys for ${schedule.entries.length} signers`);
  const named = schedule.signersFor(deps.settings.regions[0], Math.floor(Date.now() / 1000)).at(-1);
  const keys = schedule.entries.map(({ signer }, i) => ({ signer, publicKey: publicKeys[i], keyId: signer.signatureInfo.verificationKeyId ?? '', keyVersion: signer.signatureInfo.verificationKeyVersion ?? '' }));
  if (keys.some((key) => !key.keyId || !key.keyVersion)) throw new SitePublishError('a signer has no key id and version for the page to name');
  return [...keys.filter((key) => key.signer === named), ...keys.filter((key) => key.signer !== named)];
}

/**
 * The public key of a signing key: derived from the local PEM file, or read from Key Vault (the
 * version the setting pins; the publisher's identity needs `keys/get`).
 */
export async function signingPublicKey(setting: SignerSetting, credential: () => TokenCredential, clientOptions: KeyClientOptions = {}, timeoutInMs = DEFAULT_KEY_VAULT_TIMEOUT_IN_MS): Promise<KeyObject> {
  if (setting.keyFile !== undefined) {
    try {
      return createPublicKey(await readFile(setting.keyFile, 'utf8'));
    } catch (error) {
      throw new SitePublishError(`cannot read the signing key in ${setting.keyFile}: ${(error as Error).message}`);
    }
  }
  const id = parseKeyVaultKeyIdentifier(setting.keyVaultKeyId!);
  const client = new KeyClient(id.vaultUrl, credential(), clientOptions);
  const bound = { dependency: 'Key Vault', operation: `read the key ${id.name}/${id.version ?? ''}`, timeoutInMs };
  const key = await withDeadline(bound, (abortSignal) => client.getKey(id.name, { version: id.version, abortSignal, requestOptions: { timeout: timeoutInMs } }));
  const { crv, x, y } = key.key ?? {};
  if (crv !== 'P-256' || !x || !y) throw new SitePublishError(`the Key Vault key ${id.name} is not a P-256 key`);
  return createPublicKey({ key: { kty: 'EC', crv, x: Buffer.from(x).toString('base64url'), y: Buffer.from(y).toString('base64url') }, format: 'jwk' });
}

/** Signs a probe with the signer and checks it with `publicKey`: config.json must name the key that signs. */
async function checkKeySigns(signer: Signer, publicKey: KeyObject, abortSignal?: AbortSignal): Promise<void> {
  const probe = Buffer.from(`keyfront site key check ${Date.now()}`);
  const signature = await signer.sign(probe, { abortSignal });
  if (!verify('sha256', probe, { key: publicKey, dsaEncoding: 'der' }, signature)) {
    throw new SitePublishError('the public key for the page does not verify what the signer signs: check the signing key settings');
  }
}

/** Writes an index-like file only if its bytes changed (`data` computed once the current version is read); `true` when written. */
async function writeIfChanged(blobs: BlobWriter, name: string, data: Buffer | (() => Promise<Buffer>), abortSignal?: AbortSignal): Promise<boolean> {
  const blobName = SITE_PREFIX + name;
  const current = await blobs.read(blobName, { abortSignal });
  const bytes = typeof data === 'function' ? await data() : data;
  const content = { contentType: CONTENT_TYPES[extensionOf(name)], cacheControl: SITE_INDEX_CACHE_CONTROL };
  if (current && current.data.equals(bytes) && current.contentType === content.contentType && current.cacheControl === content.cacheControl) return false;
  // Conditional on the version read: two publisher instances starting together write once each, never a mix.
  await blobs.replace(blobName, bytes, content, { ifMatch: current?.etag ?? null, abortSignal });
  return true;
}

/** The edge paths of written page blobs: `/site/<name>`, and `/` too for index.html (the edge serves it at both). */
export function sitePurgePaths(written: readonly string[]): string[] {
  return written.flatMap((blobName) => (blobName === SITE_PREFIX + INDEX_HTML ? ['/', `/${blobName}`] : [`/${blobName}`]));
}

function pageKeyOf({ keyId, keyVersion, algorithm, fingerprintSha256 }: SiteSigningKey): PageKey {
  return { keyId, keyVersion, algorithm, fingerprintSha256 };
}

/** The page's keys: the one it names, and the others it accepts (a config.json written before rotations has only the first). */
function pageKeysOf(config: SiteConfig): { key: PageKey; otherKeys: PageKey[] } {
  return { key: pageKeyOf(config.signingKey), otherKeys: (config.signingKeys ?? []).slice(1).map(pageKeyOf) };
}

function pageSources(deps: SitePublishDeps): PageSources {
  return { exports: deps.exports, state: deps.state, logger: deps.logger, regions: deps.settings.regions, privacyFloor: deps.settings.minKeysPerFile, fingerprintUrl: deps.site?.fingerprintUrl };
}

async function purgeSite(deps: SitePublishDeps, written: readonly string[], abortSignal?: AbortSignal): Promise<boolean> {
  return purgeWithRetry(deps.purger, sitePurgePaths(written), { attempts: deps.settings.purgeAttempts, backoffInMs: deps.settings.purgeBackoffInMs, logger: deps.logger, abortSignal });
}

/**
 * Writes the page: hashed assets first (create-only), then the key, config.json, and index.html
 * rendered from the build with what the indexes list now, each only when new or changed; purges
 * the paths of what changed (assets are new names: nothing cached them). A failed purge is logged
 * (the edge serves the old page at most five more minutes), never thrown. `publicKeys` are those
 * of the signers, in the schedule's order (one for one signer).
 */
export async function publishSite(deps: SitePublishDeps, files: readonly SiteFile[], publicKeys: KeyObject | readonly KeyObject[], options: { abortSignal?: AbortSignal } = {}): Promise<SitePublishResult> {
  const { abortSignal } = options;
  checkSiteFiles(files);
  const keys = pageSigners(deps, Array.isArray(publicKeys) ? publicKeys : [publicKeys as KeyObject]);
  const config = siteConfig(deps.settings.regions, keys);
  for (const key of keys) await checkKeySigns(key.signer, key.publicKey, abortSignal);
  const written: string[] = [];
  const assets = files.filter((file) => HASHED_NAME.test(file.name));
  for (const file of assets) {
    const created = await deps.exports.create(SITE_PREFIX + file.name, file.data, { contentType: CONTENT_TYPES[extensionOf(file.name)], cacheControl: SITE_ASSET_CACHE_CONTROL }, { abortSignal });
    if (created.created) written.push(SITE_PREFIX + file.name);
  }
  const changed = (name: string) => written.push(SITE_PREFIX + name);
  for (const file of files.filter((candidate) => !HASHED_NAME.test(candidate.name) && candidate.name !== INDEX_HTML)) {
    if (await writeIfChanged(deps.exports, file.name, file.data, abortSignal)) changed(file.name);
  }
  if (await writeIfChanged(deps.exports, SIGNING_KEY_NAME, Buffer.from(config.signingKey.publicKeyPem), abortSignal)) changed(SIGNING_KEY_NAME);
  if (await writeIfChanged(deps.exports, 'config.json', Buffer.from(`${JSON.stringify(config, null, 2)}\n`), abortSignal)) changed('config.json');
  // index.html last: it names the assets, as the export index names files already written. Read before the indexes it lists.
  const template = files.find((file) => file.name === INDEX_HTML)!.data.toString('utf8');
  const render = async () => Buffer.from(fillPage(template, await readPageContent(pageSources(deps), pageKeysOf(config), { abortSignal })));
  if (await writeIfChanged(deps.exports, INDEX_HTML, render, abortSignal)) changed(INDEX_HTML);
  // Only assets are hashed names nobody has cached: purge the rest.
  const purgeable = written.filter((name) => !HASHED_NAME.test(name.slice(SITE_PREFIX.length)));
  if (written.length === 0) {
    deps.logger.debug('transparency page unchanged');
    return { written, purged: null };
  }
  deps.logger.info('transparency page written', { files: written.length, fingerprintSha256: config.signingKey.fingerprintSha256 });
  const purged = purgeable.length === 0 ? null : await purgeSite(deps, purgeable, abortSignal);
  return { written, purged };
}

/**
 * After a publisher run: renders the stored page again from what the indexes list now, and writes
 * it (then purges `/` and `/site/index.html`) only when it changed. The page is read before the
 * indexes and written conditionally on that read, so a publisher that rendered older indexes
 * cannot overwrite a page another one rendered from newer ones. A page without this build's slots
 * (another version's, during a deployment) is left to that version.
 */
export async function refreshSitePage(deps: SitePublishDeps, options: BlobRequestOptions = {}): Promise<SiteRefresh> {
  const { abortSignal } = options;
  const page = await deps.exports.read(SITE_PREFIX + INDEX_HTML, { abortSignal });
  if (!page) return { written: false, purged: null, skipped: 'no page is published yet (the publisher writes it at start-up)' };
  const html = page.data.toString('utf8');
  if (missingSlots(html).length > 0) return { written: false, purged: null, skipped: 'the published page is of another build' };
  const configBlob = await deps.exports.read(`${SITE_PREFIX}config.json`, { abortSignal });
  if (!configBlob) return { written: false, purged: null, skipped: 'no config.json is published' };
  const config = JSON.parse(configBlob.data.toString('utf8')) as SiteConfig;
  const filled = fillPage(html, await readPageContent(pageSources(deps), pageKeysOf(config), { abortSignal }));
  if (filled === html) return { written: false, purged: null };
  try {
    await deps.exports.replace(SITE_PREFIX + INDEX_HTML, Buffer.from(filled), { contentType: CONTENT_TYPES.html, cacheControl: SITE_INDEX_CACHE_CONTROL }, { ifMatch: page.etag, abortSignal });
  } catch (error) {
    if (!(error instanceof BlobConditionError)) throw error;
    return { written: false, purged: null, skipped: 'another publisher wrote the page meanwhile' };
  }
  deps.logger.info('transparency page renewed');
  return { written: true, purged: await purgeSite(deps, [SITE_PREFIX + INDEX_HTML], abortSignal) };
}

/**
 * The start-up call of the publisher (Function App, local stack): builds or reads the page, finds
 * the signing key's public half and publishes. A failure is logged, never thrown: the export
 * files must go on being published without the page.
 */
export async function publishSiteOnStart(
  deps: SitePublishDeps,
  /** The signers' settings, in the order of `deps.signer`'s schedule. */
  config: Pick<PublisherConfig, 'signers' | 'keyVaultTimeoutInMs'>,
  loadFiles: () => Promise<SiteFile[]>,
  options: { credential?: () => TokenCredential; abortSignal?: AbortSignal } = {},
): Promise<SitePublishResult | undefined> {
  try {
    const credential = options.credential ?? (() => new DefaultAzureCredential());
    const [files, ...publicKeys] = await Promise.all([loadFiles(), ...config.signers.map((setting) => signingPublicKey(setting, credential, {}, config.keyVaultTimeoutInMs))]);
    return await publishSite(deps, files, publicKeys, { abortSignal: options.abortSignal });
  } catch (error) {
    deps.logger.error('the transparency page was not published; export files are published as usual', { error });
    return undefined;
  }
}
