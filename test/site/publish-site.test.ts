/**
 * The publisher writes the transparency page into Blob storage (Azurite, through the real
 * AzureBlobWriter): content types and cache headers per file, config.json and the public key from
 * the signing key, hashed assets create-only, index-like files only when changed, index.html
 * rendered with every file of the indexes, and exactly the changed paths purged (never an asset);
 * after a publisher run the page is renewed from the new index, and left alone when nothing it
 * says changed; a bad build or a key that does not sign writes nothing.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { BlobServiceClient } from '@azure/storage-blob';
import { createLogger, silentLogger } from '../../platform/log';
import { MemoryExposureStore } from '../../exposures/memory-store';
import { PAGE_FORMAT, PAGE_SLOTS } from '../../site/page-content';
import { AzureBlobWriter } from '../../publisher/blob/azure-blob-writer';
import type { PurgeOptions, Purger } from '../../publisher/purgers/purger';
import { publishExports } from '../../publisher/run';
import { LocalSigner } from '../../publisher/signers/local';
import { SignerSchedule } from '../../publisher/signers/schedule';
import { publishSite, publishSiteOnStart, readSiteBuild, refreshSitePage, signingPublicKey, SitePublishError, SITE_ASSET_CACHE_CONTROL, SITE_INDEX_CACHE_CONTROL, type SiteConfig, type SiteFile } from '../../publisher/site';
import { startAzurite, type Azurite } from '../../scripts/local-stack/azurite';
import { STAND_IN_TOKEN, startKeyVaultStandIn } from '../support/key-vault-stand-in';
import { exposuresInWindow, HOUR, T0, TEST_SETTINGS } from '../support/publisher-harness';

class RecordingPurger implements Purger {
  readonly name = 'recording';
  readonly calls: string[][] = [];
  failing = false;
  async purge(contentPaths: readonly string[], _options?: PurgeOptions): Promise<void> {
    this.calls.push([...contentPaths]);
    if (this.failing) throw Object.assign(new Error('edge unreachable'), { retryable: false });
  }
}

function hashed(base: string, extension: string, text: string): SiteFile {
  const data = Buffer.from(text);
  return { name: `${base}.${createHash('sha256').update(data).digest('hex').slice(0, 12)}.${extension}`, data };
}

const SLOTS = PAGE_SLOTS.map((slot) => `<!--keyfront:${slot}:${PAGE_FORMAT}--><!--/keyfront:${slot}-->`).join('');

function build(version: string): SiteFile[] {
  const script = hashed('app', 'js', `console.log(${JSON.stringify(version)})`);
  const style = hashed('style', 'css', 'body{margin:0}');
  return [script, style, { name: 'index.html', data: Buffer.from(`<!doctype html><script type="module" src="/site/${script.name}"></script><link rel="stylesheet" href="/site/${style.name}">${SLOTS}`) }];
}

describe('publishing the transparency page', () => {
  let azurite: Azurite;
  let exports: AzureBlobWriter;
  let state: AzureBlobWriter;
  let container: ReturnType<BlobServiceClient['getContainerClient']>;
  let signer: LocalSigner;
  let publicKey: KeyObject;
  let purger: RecordingPurger;
  const settings = { regions: ['440', '441'], minKeysPerFile: 1000, purgeAttempts: 1, purgeBackoffInMs: 0 };
  const deps = () => ({ exports, state, signer, purger, logger: silentLogger, settings, site: { fingerprintUrl: 'https://health.example/keys' } });
  const names = async (prefix = 'site/') => {
    const found: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix })) found.push(blob.name);
    return found.sort();
  };
  const page = async () => (await container.getBlockBlobClient('site/index.html').downloadToBuffer()).toString();

  beforeAll(async () => {
    azurite = await startAzurite();
    exports = AzureBlobWriter.fromConnectionString(azurite.connectionString, 'exports');
    state = AzureBlobWriter.fromConnectionString(azurite.connectionString, 'publisher-state');
    await exports.ensureContainer({ publicRead: true });
    await state.ensureContainer({ publicRead: false });
    container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('exports');
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    signer = new LocalSigner(pair.privateKey, { keyId: '440', keyVersion: 'v7' });
    publicKey = pair.publicKey;
  });
  afterAll(async () => {
    await azurite?.stop();
  });
  beforeEach(async () => {
    purger = new RecordingPurger();
    for (const name of [...(await names()), ...(await names('v1/'))]) await container.deleteBlob(name);
  });

  it('writes every file with its content type and cache lifetime, config.json and the key from the signing key, then purges exactly what changed', async () => {
    const files = build('one');
    const result = await publishSite(deps(), files, publicKey);
    expect(result.purged).toBe(true);
    expect(result.written).toEqual([`site/${files[0].name}`, `site/${files[1].name}`, 'site/signing-key.pem', 'site/config.json', 'site/index.html']);
    // The assets are new names nobody has cached: only the page's index-like paths are purged.
    expect(purger.calls).toEqual([['/site/signing-key.pem', '/site/config.json', '/', '/site/index.html']]);
    const expected: Record<string, [string, string]> = {
      [files[0].name]: ['text/javascript; charset=utf-8', SITE_ASSET_CACHE_CONTROL],
      [files[1].name]: ['text/css; charset=utf-8', SITE_ASSET_CACHE_CONTROL],
      'config.json': ['application/json; charset=utf-8', SITE_INDEX_CACHE_CONTROL],
      'signing-key.pem': ['application/x-pem-file', SITE_INDEX_CACHE_CONTROL],
      'index.html': ['text/html; charset=utf-8', SITE_INDEX_CACHE_CONTROL],
    };
    for (const [name, [contentType, cacheControl]] of Object.entries(expected)) {
      const properties = await container.getBlockBlobClient(`site/${name}`).getProperties();
      expect({ name, contentType: properties.contentType, cacheControl: properties.cacheControl }).toEqual({ name, contentType, cacheControl });
    }
    expect(SITE_ASSET_CACHE_CONTROL).toBe('public, max-age=31536000, immutable');
    const config = JSON.parse((await container.getBlockBlobClient('site/config.json').downloadToBuffer()).toString()) as SiteConfig;
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const fingerprint = createHash('sha256').update(spki).digest('hex');
    const signingKey = {
      keyId: '440',
      keyVersion: 'v7',
      algorithm: '1.2.840.10045.4.3.2',
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      publicKeyJwk: { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) },
      fingerprintSha256: fingerprint,
    };
    expect(config).toEqual({ regions: ['440', '441'], signingKey, signingKeys: [signingKey] });
    // The JWK and the key file are the same key as the PEM.
    expect(createPublicKey({ key: config.signingKey.publicKeyJwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }).equals(spki)).toBe(true);
    expect((await container.getBlockBlobClient('site/signing-key.pem').downloadToBuffer()).toString()).toBe(config.signingKey.publicKeyPem);
    // The page, as written, names the key, its fingerprint and where the health authority publishes it; no region has files yet.
    const html = await page();
    expect(html).toContain(`data-fingerprint="${fingerprint}"`);
    expect(html).toContain('<a href="/site/signing-key.pem">signing-key.pem</a>');
    expect(html).toContain('<a href="https://health.example/keys" rel="noopener noreferrer" class="authority-link">');
    expect(html.match(/The index names no files at the moment\./g)).toHaveLength(2);
  });

  it('writes nothing and purges nothing when the page has not changed', async () => {
    await publishSite(deps(), build('one'), publicKey);
    purger.calls.length = 0;
    const again = await publishSite(deps(), build('one'), publicKey);
    expect(again).toEqual({ written: [], purged: null });
    expect(purger.calls).toEqual([]);
  });

  it('adds a new build beside the old assets (a cached index.html still finds them) and rewrites only index.html', async () => {
    const first = build('one');
    await publishSite(deps(), first, publicKey);
    const second = build('two');
    const result = await publishSite(deps(), second, publicKey);
    expect(result.written).toEqual([`site/${second[0].name}`, 'site/index.html']);
    expect(await names()).toEqual(['site/config.json', 'site/index.html', 'site/signing-key.pem', `site/${first[0].name}`, `site/${second[0].name}`, `site/${first[1].name}`].sort());
    expect(purger.calls[1]).toEqual(['/', '/site/index.html']);
  });

  it('keeps the written page when the purge fails, and says so', async () => {
    purger.failing = true;
    const result = await publishSite(deps(), build('one'), publicKey);
    expect(result.purged).toBe(false);
    expect(result.written).toContain('site/index.html');
  });

  const good = build('one');
  it.each<[string, SiteFile[], RegExp]>([
    ['a name the edge would not serve', [...good, { name: '../evil.js', data: Buffer.from('x') }], /not one the edge serves/],
    ['an upper-case name', [...good, { name: 'App.js', data: Buffer.from('x') }], /not one the edge serves/],
    ['a type the edge does not serve', [...good, { name: 'tool.exe', data: Buffer.from('x') }], /not one the edge serves/],
    ['no index.html', good.slice(0, 2), /has no index\.html/],
    ['a hashed name that lies about its content', [{ ...good[0], data: Buffer.from('tampered') }, ...good.slice(1)], /does not hold the content/],
    ['its own config.json', [...good, { name: 'config.json', data: Buffer.from('{}') }], /must not carry config\.json/],
    ['a file twice', [...good, good[2]], /given twice/],
    ['an index.html without the slots the publisher fills', [...good.slice(0, 2), { name: 'index.html', data: Buffer.from('<!doctype html><p>old page') }], /lacks the slots the publisher fills: key, regions, recipe/],
  ])('refuses a build with %s and writes nothing', async (_what, files, message) => {
    await expect(publishSite(deps(), files, publicKey)).rejects.toThrow(message);
    await expect(publishSite(deps(), files, publicKey)).rejects.toBeInstanceOf(SitePublishError);
    expect(await names()).toEqual([]);
    expect(purger.calls).toEqual([]);
  });

  it('renews the page after a publisher run from the new index (purging / and /site/index.html only), and leaves it alone when nothing changed', async () => {
    await publishSite(deps(), build('one'), publicKey);
    purger.calls.length = 0;
    const store = new MemoryExposureStore();
    await store.insert([...exposuresInWindow('440', T0, 3), ...exposuresInWindow('440', T0 + HOUR, 2)]);
    const run = await publishExports({ store, exports, state, signer, purger, logger: silentLogger, settings: { ...TEST_SETTINGS, regions: ['440', '441'] }, site: {} }, { now: new Date((T0 + 2 * HOUR + 600) * 1000) });
    expect(run.regions.map((r) => [r.region, r.status, r.filesWritten.length])).toEqual([['440', 'done', 2], ['441', 'done', 0]]);
    expect(run.site).toEqual({ written: true, purged: true });
    // Each region's first (here empty for 441) index, then the page.
    expect(purger.calls).toEqual([['/v1/440/index.txt', '/v1/440/index.json'], ['/v1/441/index.txt', '/v1/441/index.json'], ['/', '/site/index.html']]);
    const html = await page();
    const listed = (await container.getBlockBlobClient('v1/440/index.txt').downloadToBuffer()).toString().split('\n');
    expect(listed).toHaveLength(2);
    for (const path of listed) expect(html).toContain(`href="/${path}"`);
    // Without the settings' fingerprint URL, the page says it does not know where to compare.
    expect(html).toContain('This server does not say.');

    purger.calls.length = 0;
    const again = await publishExports({ store, exports, state, signer, purger, logger: silentLogger, settings: { ...TEST_SETTINGS, regions: ['440', '441'] }, site: {} }, { now: new Date((T0 + 2 * HOUR + 600) * 1000) });
    expect(again.site).toEqual({ written: false, purged: null });
    expect(purger.calls).toEqual([]);
  });

  it('leaves a page of another build, and a missing one, to the publisher that writes it at start-up', async () => {
    expect(await refreshSitePage(deps())).toEqual({ written: false, purged: null, skipped: expect.stringMatching(/no page is published yet/) });
    await publishSite(deps(), build('one'), publicKey);
    const other = '<!doctype html><p>a page of another version, without these slots</p>';
    await container.getBlockBlobClient('site/index.html').upload(other, other.length, { blobHTTPHeaders: { blobContentType: 'text/html; charset=utf-8' } });
    purger.calls.length = 0;
    expect(await refreshSitePage(deps())).toEqual({ written: false, purged: null, skipped: 'the published page is of another build' });
    expect(await page()).toBe(other);
    expect(purger.calls).toEqual([]);
  });

  it('at start-up, logs a page it cannot publish and lets the publisher go on (nothing written)', async () => {
    const lines: string[] = [];
    const logger = createLogger('publisher', { write: (line) => lines.push(line) });
    const missing = path.join(tmpdir(), 'keyfront-no-such-site-build');
    const result = await publishSiteOnStart({ ...deps(), logger }, { signers: [{ keyFile: path.join(missing, 'key.pem'), keyId: '440', keyVersion: 'v7' }], keyVaultTimeoutInMs: 10_000 }, () => readSiteBuild(missing));
    expect(result).toBeUndefined();
    expect(lines.join('\n')).toMatch(/the transparency page was not published/);
    expect(await names()).toEqual([]);
  });

  it('refuses to announce a public key that does not verify what the signer signs', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    await expect(publishSite(deps(), build('one'), other)).rejects.toThrow(/does not verify what the signer signs/);
    expect(await names()).toEqual([]);
  });

  it('during a key rotation names the newest key (its signature ends export.sig), accepts every key, and checks each against its own signer', async () => {
    const next = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const now = Math.floor(Date.now() / 1000);
    const rotation = new SignerSchedule([
      { signer, window: { notAfter: now + 86400 } },
      { signer: new LocalSigner(next.privateKey, { keyId: '440', keyVersion: 'v8' }), window: { notBefore: now - 1 } },
    ]);
    await expect(publishSite({ ...deps(), signer: rotation }, build('one'), [next.publicKey, publicKey])).rejects.toThrow(/does not verify what the signer signs/);
    await expect(publishSite({ ...deps(), signer: rotation }, build('one'), publicKey)).rejects.toThrow('the page was given 1 public keys for 2 signers');
    expect(await names()).toEqual([]);
    await publishSite({ ...deps(), signer: rotation }, build('one'), [publicKey, next.publicKey]);
    const config = JSON.parse((await container.getBlockBlobClient('site/config.json').downloadToBuffer()).toString()) as SiteConfig;
    expect([config.signingKey.keyVersion, config.signingKeys.map((key) => key.keyVersion)]).toEqual(['v8', ['v8', 'v7']]);
    expect((await container.getBlockBlobClient('site/signing-key.pem').downloadToBuffer()).toString()).toBe(next.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const oldFingerprint = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
    expect(await page()).toContain(`data-fingerprint="${oldFingerprint}"`);
    expect(await page()).toContain('<dt>Also accepted</dt>');
  });

  it('refuses a key that is not P-256', async () => {
    const rsaSigner = { signatureInfo: signer.signatureInfo, sign: async () => Buffer.alloc(0) };
    const rsa = generateKeyPairSync('ed25519').publicKey;
    await expect(publishSite({ ...deps(), signer: rsaSigner }, build('one'), rsa)).rejects.toThrow(SitePublishError);
    expect(await names()).toEqual([]);
  });
});

describe('the built page and the signing key, read by the publisher', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'keyfront-site-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a build folder, and names `npm run build:site` when it is missing', async () => {
    const out = path.join(dir, 'build');
    await mkdir(out);
    for (const file of build('one')) await writeFile(path.join(out, file.name), file.data);
    expect((await readSiteBuild(out)).map((file) => file.name).sort()).toEqual(build('one').map((file) => file.name).sort());
    await expect(readSiteBuild(path.join(dir, 'missing'))).rejects.toThrow(/npm run build:site/);
  });

  it('derives the local public key from the private key file, and says which file it cannot read', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const keyFile = path.join(dir, 'signing-private.pem');
    await writeFile(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const setting = { keyFile, keyId: '440', keyVersion: 'v1' };
    const noCredential = () => {
      throw new Error('no credential for a local key');
    };
    expect((await signingPublicKey(setting, noCredential)).export({ type: 'spki', format: 'pem' })).toBe(pair.publicKey.export({ type: 'spki', format: 'pem' }));
    await expect(signingPublicKey({ ...setting, keyFile: path.join(dir, 'none.pem') }, noCredential)).rejects.toThrow(/cannot read the signing key in .*none\.pem/);
  });

  it('reads the Key Vault key the signer pins (GET /keys/{name}/{version}, documented REST shape)', async () => {
    const vault = await startKeyVaultStandIn();
    try {
      const credential: TokenCredential = { getToken: async () => ({ token: STAND_IN_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }) };
      const key = await signingPublicKey({ keyVaultKeyId: vault.keyId, keyId: '440', keyVersion: 'v1' }, () => credential, {
        disableChallengeResourceVerification: true,
        tlsOptions: { ca: vault.ca },
        retryOptions: { maxRetries: 0 },
      } as never);
      expect(key.export({ type: 'spki', format: 'pem' })).toBe(vault.publicKey.export({ type: 'spki', format: 'pem' }));
      expect(vault.requests.some((request) => request.method === 'GET' && request.path.startsWith('/keys/'))).toBe(true);
    } finally {
      await vault.stop();
    }
  });
});
