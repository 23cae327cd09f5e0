/**
 * The page's checking, in Node with the same phone library: every failure the network can cause
 * becomes a failed file with a code (a file missing or refused, a count other than the page lists),
 * good files verify, the index is read as a phone reads it, and the cache mode the caller asks for
 * reaches every request. Responses are web-standard `Response` objects from an injected fetch.
 */
import { generateKeyPairSync } from 'node:crypto';
import { parseExportPath } from '../client';
import { buildExport } from '../proto/codec';
import { realisticKeys } from '../proto/test-keys';
import { readExportZip, writeExportZip } from '../proto/zip';
import { LocalSigner } from '../publisher/signers/local';
import { checkFiles, readIndex, type CacheMode, type CheckDeps, type FileCheck } from './check-files';
import { importPageKey } from './signing-key';

const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const hour = Math.floor(Date.now() / 3_600_000) * 3600;

async function file(hoursAgo: number, keys = 5) {
  const start = hour - hoursAgo * 3600;
  const built = await buildExport({ region: '440', startTimestamp: start, endTimestamp: start + 3600, keys: realisticKeys(keys) }, new LocalSigner(pair.privateKey, { keyId: '440', keyVersion: 'v1' }));
  return { path: `v1/440/${start}-${start + 3600}-00001.zip`, zip: built.zip };
}

async function pageKey() {
  const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return importPageKey({ keyId: '440', keyVersion: 'v1', algorithm: '1.2.840.10045.4.3.2', publicKeyPem: pem, fingerprintSha256: '0'.repeat(64) });
}

function depsFrom(routes: Record<string, () => Response>, seen: Array<[string, CacheMode]> = []): CheckDeps {
  return {
    fetch: async (input, init) => {
      seen.push([input, init.cache]);
      const route = routes[input];
      return route ? route() : new Response('{"error":"not found","code":"not_found"}', { status: 404 });
    },
    nowSeconds: () => Math.floor(Date.now() / 1000),
  };
}

const checkOf = (path: string, listedKeys?: number): FileCheck => ({ entry: parseExportPath(path)!, status: 'unchecked', ...(listedKeys === undefined ? {} : { listedKeys }) });

describe('checking files in the page', () => {
  it('with the keys of a rotation: a file passes when one verifies it, and says which signed it', async () => {
    const next = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const start = hour - 5 * 3600;
    const signers = [new LocalSigner(pair.privateKey, { keyId: '440', keyVersion: 'v1' }), new LocalSigner(next.privateKey, { keyId: '440', keyVersion: 'v2' })];
    const both = { path: `v1/440/${start}-${start + 3600}-00001.zip`, zip: (await buildExport({ region: '440', startTimestamp: start, endTimestamp: start + 3600, keys: realisticKeys(5) }, signers)).zip };
    const old = await file(4);
    const nextKey = await importPageKey({ keyId: '440', keyVersion: 'v2', algorithm: '1.2.840.10045.4.3.2', publicKeyPem: next.publicKey.export({ type: 'spki', format: 'pem' }).toString(), fingerprintSha256: '0'.repeat(64) });
    const files = [checkOf(both.path), checkOf(old.path)];
    await checkFiles(files, [await pageKey(), nextKey], depsFrom({ [`/${both.path}`]: () => new Response(both.zip), [`/${old.path}`]: () => new Response(old.zip) }), { cache: 'default' });
    expect(files.map((f) => [f.status, f.verified?.signedBy.map((info) => info.verificationKeyVersion)])).toEqual([['verified', ['v1', 'v2']], ['verified', ['v1']]]);
  });

  it("judges a file's window by the server's time of its answer, as a phone does (a day's tolerance only without it)", async () => {
    // A window that ends 3 hours after the server answered: a forged or future file to a phone that has the server's time.
    const ahead = await file(-3);
    const fetchWith = (date?: Date) => depsFrom({ [`/${ahead.path}`]: () => new Response(ahead.zip, { headers: date ? { date: date.toUTCString() } : {} }) }).fetch;
    const withDate = [checkOf(ahead.path)];
    await checkFiles(withDate, await pageKey(), { ...depsFrom({}), fetch: fetchWith(new Date()) }, { cache: 'default' });
    const withoutDate = [checkOf(ahead.path)];
    await checkFiles(withoutDate, await pageKey(), { ...depsFrom({}), fetch: fetchWith() }, { cache: 'default' });
    expect([withDate[0].status, withDate[0].failure?.code, withoutDate[0].status]).toEqual(['failed', 'window_invalid', 'verified']);
  });

  it('verifies good files and fails a missing one, a refused one and one holding another count than listed, each with its code', async () => {
    const [a, b, c] = await Promise.all([file(4), file(3), file(2, 7)]);
    const missing = `v1/440/${hour - 3600}-${hour}-00001.zip`;
    const refused = `v1/440/${hour - 3600}-${hour}-00002.zip`;
    const seen: Array<[string, CacheMode]> = [];
    const deps = depsFrom({ [`/${a.path}`]: () => new Response(a.zip), [`/${b.path}`]: () => new Response(b.zip), [`/${c.path}`]: () => new Response(c.zip), [`/${refused}`]: () => new Response('busy', { status: 503 }) }, seen);
    const files = [checkOf(a.path, 5), checkOf(b.path), checkOf(c.path, 8), checkOf(missing), checkOf(refused)];
    const done: string[] = [];
    await checkFiles(files, await pageKey(), deps, { cache: 'reload', onFile: (f) => done.push(f.entry.path) });
    expect(files.map((f) => [f.entry.path, f.status, f.failure?.code])).toEqual([
      [a.path, 'verified', undefined],
      [b.path, 'verified', undefined],
      [c.path, 'failed', 'count_mismatch'],
      [missing, 'failed', 'file_missing'],
      [refused, 'failed', 'http_error'],
    ]);
    expect(files[2].failure?.message).toBe('the file is signed and holds 7 keys, but this page lists 8');
    expect(files[0].verified).toMatchObject({ region: '440', keyCount: 5, batchNum: 1, batchSize: 1 });
    expect(files[0].size).toBe(a.zip.length);
    expect(done.sort()).toEqual(files.map((f) => f.entry.path).sort());
    expect(seen.every(([, cache]) => cache === 'reload')).toBe(true);
  });

  it('checks again from the start: a file that verified and is now altered fails', async () => {
    const a = await file(2);
    let bytes = a.zip;
    const deps = depsFrom({ [`/${a.path}`]: () => new Response(bytes) });
    const check = checkOf(a.path);
    await checkFiles([check], await pageKey(), deps, { cache: 'default' });
    expect(check.status).toBe('verified');
    // One key byte changed after signing: the zip is sound, the signature is not.
    const { bin, sig } = await readExportZip(a.zip);
    bin[bin.length - 30] ^= 0x01;
    bytes = await writeExportZip(bin, sig);
    await checkFiles([check], await pageKey(), deps, { cache: 'reload' });
    expect([check.status, check.verified, check.failure?.code]).toEqual(['failed', undefined, 'signature_invalid']);
  });

  it('reads the index as a phone does, with the cache mode asked for', async () => {
    const seen: Array<[string, CacheMode]> = [];
    const entries = await readIndex('440', depsFrom({ '/v1/440/index.txt': () => new Response(`v1/440/${hour}-${hour + 3600}-00001.zip\n`) }, seen), { cache: 'reload' });
    expect(entries.map((e) => e.path)).toEqual([`v1/440/${hour}-${hour + 3600}-00001.zip`]);
    expect(seen).toEqual([['/v1/440/index.txt', 'reload']]);
    await expect(readIndex('440', depsFrom({ '/v1/440/index.txt': () => new Response('') }), { cache: 'default' })).resolves.toEqual([]);
  });

  it.each<[string, () => Response, string]>([
    ['an index that is an HTML page', () => new Response('<!doctype html><p>hello'), 'not_an_index'],
    ['an index naming another region', () => new Response('v1/441/1-2-00001.zip'), 'not_an_index'],
    ['an index the server refuses', () => new Response('nope', { status: 500 }), 'http_error'],
  ])('refuses %s, with its code', async (_what, index, code) => {
    await expect(readIndex('440', depsFrom({ '/v1/440/index.txt': index }), { cache: 'default' })).rejects.toMatchObject({ code });
  });
});
