/**
 * The page's checking, in Node with the same phone library: every failure the network can cause
 * becomes a failed row with a code (the index unreadable, a file missing or refused), and the
 * good files verify. Responses are web-standard `Response` objects from an injected fetch.
 */
import { generateKeyPairSync } from 'node:crypto';
import { buildExport } from '../proto/codec';
import { realisticKeys } from '../proto/test-keys';
import { LocalSigner } from '../publisher/signers/local';
import { checkRegion, type RegionCheck } from './check-files';
import { importPageKey } from './signing-key';

const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const hour = Math.floor(Date.now() / 3_600_000) * 3600;

async function file(hoursAgo: number) {
  const start = hour - hoursAgo * 3600;
  const built = await buildExport({ region: '440', startTimestamp: start, endTimestamp: start + 3600, keys: realisticKeys(5) }, new LocalSigner(pair.privateKey, { keyId: '440', keyVersion: 'v1' }));
  return { path: `v1/440/${start}-${start + 3600}-00001.zip`, zip: built.zip };
}

async function pageKey() {
  const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return importPageKey({ keyId: '440', keyVersion: 'v1', algorithm: '1.2.840.10045.4.3.2', publicKeyPem: pem, fingerprintSha256: '0'.repeat(64) });
}

function fetchFrom(routes: Record<string, () => Response>): typeof fetch {
  return (async (input: string | URL | Request) => {
    const route = routes[String(input)];
    return route ? route() : new Response('{"error":"not found","code":"not_found"}', { status: 404 });
  }) as typeof fetch;
}

describe('checking a region in the page', () => {
  it('verifies the good files and fails a missing one and a refused one with their codes, reporting each as it is known', async () => {
    const [a, b] = await Promise.all([file(3), file(2)]);
    const missing = `v1/440/${hour - 3600}-${hour}-00001.zip`;
    const refused = `v1/440/${hour - 3600}-${hour}-00002.zip`;
    const updates: number[] = [];
    const check = await checkRegion('440', await pageKey(), {
      fetch: fetchFrom({
        '/v1/440/index.txt': () => new Response([a.path, b.path, missing, refused].join('\n')),
        [`/${a.path}`]: () => new Response(a.zip),
        [`/${b.path}`]: () => new Response(b.zip),
        [`/${refused}`]: () => new Response('busy', { status: 503 }),
      }),
      onUpdate: (c: RegionCheck) => updates.push(c.files.filter((f) => f.status !== 'checking').length),
      nowSeconds: () => Math.floor(Date.now() / 1000),
    });
    expect(check.files.map((f) => [f.path, f.status, f.failure?.code])).toEqual([
      [a.path, 'verified', undefined],
      [b.path, 'verified', undefined],
      [missing, 'failed', 'file_missing'],
      [refused, 'failed', 'http_error'],
    ]);
    expect(check.files[0].verified).toMatchObject({ region: '440', keyCount: 5, batchNum: 1, batchSize: 1 });
    expect(check.files[0].size).toBe(a.zip.length);
    expect(updates[0]).toBe(0);
    expect(updates[updates.length - 1]).toBe(4);
  });

  it.each<[string, () => Response, string]>([
    ['an index that is an HTML page', () => new Response('<!doctype html><p>hello'), 'not_an_index'],
    ['an index naming another region', () => new Response('v1/441/1-2-00001.zip'), 'not_an_index'],
    ['an index the server refuses', () => new Response('nope', { status: 500 }), 'http_error'],
  ])('lists no file for %s, and says why', async (_what, index, code) => {
    const check = await checkRegion('440', await pageKey(), { fetch: fetchFrom({ '/v1/440/index.txt': index }), onUpdate: () => undefined });
    expect(check.files).toEqual([]);
    expect(check.indexFailure?.code).toBe(code);
  });

  it('reads an empty index as no files', async () => {
    const check = await checkRegion('440', await pageKey(), { fetch: fetchFrom({ '/v1/440/index.txt': () => new Response('') }), onUpdate: () => undefined });
    expect(check).toEqual({ region: '440', files: [] });
  });
});
