/**
 * Publishes the transparency page next to the exports: the built files of `site/` go to the
 * exports container under `site/` (the edge serves `site/index.html` at `/` and the rest at
 * `/site/<name>`), with `site/config.json` telling the page the regions and the signing key it
 * checks every file against.
 *
 * Assets carry a content hash in their name and are immutable (create-only, cached a year), so a
 * cached `index.html` always finds the assets it names. `index.html` and `config.json` are the
 * page's index: short cache lifetimes, written last and only when they change, then `/` and
 * `/site/*` are purged. The public key in `config.json` is checked against a signature the signer
 * makes first: the page never announces a key that does not sign the files.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { KeyClient, parseKeyVaultKeyIdentifier, type KeyClientOptions } from '@azure/keyvault-keys';
import type { Logger } from '../platform/log';
import { ECDSA_P256_SHA256_OID } from '../proto/signature';
import type { Signer } from '../proto/signer';
import type { BlobWriter } from './blob/blob-writer';
import type { PublisherConfig } from './config';
import { purgeWithRetry } from './purge';
import type { Purger } from './purgers/purger';
import { scheduleOf, type PublisherSigning } from './signers/schedule';
import type { SignerSetting } from './signers/signer-settings';

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
/** index.html and config.json: purged when they change; five minutes on the edge bound a lost purge. */
export const SITE_INDEX_CACHE_CONTROL = 'public, max-age=60, s-maxage=300';
/** The edge paths purged after the page changed. */
export const SITE_PURGE_PATHS: readonly string[] = ['/', '/site/*'];

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  json: 'application/json; charset=utf-8',
};

/** A file of the built page, named as under `/site/`. */
export interface SiteFile {
  name: string;
  data: Buffer;
}

/** `site/config.json`: what the page reads before anything else. */
export interface SiteConfig {
  regions: string[];
  signingKey: {
    keyId: string;
    keyVersion: string;
    algorithm: string;
    /** SPKI, PEM. */
    publicKeyPem: string;
    publicKeyJwk: { kty: string; crv: string; x: string; y: string };
    /** SHA-256 of the SPKI DER, lower-case hex: what `openssl pkey -pubin -outform DER | sha256sum` prints. */
    fingerprintSha256: string;
  };
}

/** The page cannot be published as built or configured (a build mistake, a key that does not sign). */
export class SitePublishError extends Error {
  override readonly name = 'SitePublishError';
}

export interface SitePublishDeps {
  exports: BlobWriter;
  signer: PublisherSigning;
  purger: Purger;
  logger: Logger;
  settings: { regions: string[]; purgeAttempts: number; purgeBackoffInMs: number };
}

export interface SitePublishResult {
  /** Blob names written (new or changed). */
  written: string[];
  /** `null` when nothing changed and no purge was due. */
  purged: boolean | null;
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
  if (!names.has('index.html')) throw new SitePublishError('the site build has no index.html');
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

/** config.json for these regions and key, as the page parses it. */
export function siteConfig(regions: readonly string[], publicKey: KeyObject, identity: { keyId: string; keyVersion: string }): SiteConfig {
  if (publicKey.type !== 'public' || publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new SitePublishError('the signing key must be an ECDSA P-256 public key');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    regions: [...regions],
    signingKey: {
      keyId: identity.keyId,
      keyVersion: identity.keyVersion,
      algorithm: ECDSA_P256_SHA256_OID,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      publicKeyJwk: { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! },
      fingerprintSha256: sha256Hex(spki),
    },
  };
}

/** The signer the page names: the first that signs files of the first region now. */
function pageSigner(deps: Pick<SitePublishDeps, 'signer' | 'settings'>): Signer {
  return scheduleOf(deps.signer).signersFor(deps.settings.regions[0], Math.floor(Date.now() / 1000))[0];
}

/**
 * The public key of a signing key: derived from the local PEM file, or read from Key Vault (the
 * version the setting pins; the publisher's identity needs `keys/get`).
 */
export async function signingPublicKey(setting: SignerSetting, credential: () => TokenCredential, clientOptions: KeyClientOptions = {}): Promise<KeyObject> {
  if (setting.keyFile !== undefined) {
    try {
      return createPublicKey(await readFile(setting.keyFile, 'utf8'));
    } catch (error) {
      throw new SitePublishError(`cannot read the signing key in ${setting.keyFile}: ${(error as Error).message}`);
    }
  }
  const id = parseKeyVaultKeyIdentifier(setting.keyVaultKeyId!);
  const key = await new KeyClient(id.vaultUrl, credential(), clientOptions).getKey(id.name, { version: id.version });
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

/** Writes an index-like file only if its bytes changed; `true` when written. */
async function writeIfChanged(blobs: BlobWriter, name: string, data: Buffer, abortSignal?: AbortSignal): Promise<boolean> {
  const blobName = SITE_PREFIX + name;
  const current = await blobs.read(blobName, { abortSignal });
  const content = { contentType: CONTENT_TYPES[extensionOf(name)], cacheControl: SITE_INDEX_CACHE_CONTROL };
  if (current && current.data.equals(data) && current.contentType === content.contentType && current.cacheControl === content.cacheControl) return false;
  // Conditional on the version read: two publisher instances starting together write once each, never a mix.
  await blobs.replace(blobName, data, content, { ifMatch: current?.etag ?? null, abortSignal });
  return true;
}

/**
 * Writes the page: hashed assets first (create-only), then config.json, then index.html, each
 * only when new or changed; purges `/` and `/site/*` when anything changed. A failed purge is
 * logged (the edge serves the old page at most five more minutes), never thrown.
 */
export async function publishSite(deps: SitePublishDeps, files: readonly SiteFile[], publicKey: KeyObject, options: { abortSignal?: AbortSignal } = {}): Promise<SitePublishResult> {
  const { abortSignal } = options;
  checkSiteFiles(files);
  const signer = pageSigner(deps);
  const { verificationKeyId: keyId, verificationKeyVersion: keyVersion } = signer.signatureInfo;
  if (!keyId || !keyVersion) throw new SitePublishError('the signer has no key id and version for the page to name');
  const config = siteConfig(deps.settings.regions, publicKey, { keyId, keyVersion });
  await checkKeySigns(signer, publicKey, abortSignal);
  const written: string[] = [];
  const assets = files.filter((file) => HASHED_NAME.test(file.name));
  for (const file of assets) {
    const created = await deps.exports.create(SITE_PREFIX + file.name, file.data, { contentType: CONTENT_TYPES[extensionOf(file.name)], cacheControl: SITE_ASSET_CACHE_CONTROL }, { abortSignal });
    if (created.created) written.push(SITE_PREFIX + file.name);
  }
  // index.html last: it names the assets, as the export index names files already written.
  const others = files.filter((file) => !HASHED_NAME.test(file.name) && file.name !== 'index.html');
  const indexLike = [...others, { name: 'config.json', data: Buffer.from(`${JSON.stringify(config, null, 2)}\n`) }, files.find((file) => file.name === 'index.html')!];
  for (const file of indexLike) {
    if (await writeIfChanged(deps.exports, file.name, file.data, abortSignal)) written.push(SITE_PREFIX + file.name);
  }
  if (written.length === 0) {
    deps.logger.debug('transparency page unchanged');
    return { written, purged: null };
  }
  deps.logger.info('transparency page written', { files: written.length, fingerprintSha256: config.signingKey.fingerprintSha256 });
  const purged = await purgeWithRetry(deps.purger, SITE_PURGE_PATHS, { attempts: deps.settings.purgeAttempts, backoffInMs: deps.settings.purgeBackoffInMs, logger: deps.logger, abortSignal });
  return { written, purged };
}

/**
 * The start-up call of the publisher (Function App, local stack): builds or reads the page, finds
 * the signing key's public half and publishes. A failure is logged, never thrown: the export
 * files must go on being published without the page.
 */
export async function publishSiteOnStart(
  deps: SitePublishDeps,
  config: Pick<PublisherConfig, 'signers'>,
  loadFiles: () => Promise<SiteFile[]>,
  options: { credential?: () => TokenCredential; abortSignal?: AbortSignal } = {},
): Promise<SitePublishResult | undefined> {
  try {
    const { verificationKeyId, verificationKeyVersion } = pageSigner(deps).signatureInfo;
    const setting = config.signers.find((entry) => entry.keyId === verificationKeyId && entry.keyVersion === verificationKeyVersion) ?? config.signers[0];
    const [files, publicKey] = await Promise.all([loadFiles(), signingPublicKey(setting, options.credential ?? (() => new DefaultAzureCredential()))]);
    return await publishSite(deps, files, publicKey, { abortSignal: options.abortSignal });
  } catch (error) {
    deps.logger.error('the transparency page was not published; export files are published as usual', { error });
    return undefined;
  }
}
