/**
 * Origin groups of the local edge: the exports group over two Azurite processes filled alike
 * (the storage account's primary and its RA-GRS secondary). Stopping the primary moves reads to
 * the secondary without a failed client request; probes bring the primary back.
 */
import { request } from 'undici';
import { localEdgeEnvironment } from '../../edge-config/config';
import { keyfrontEdge } from '../../edge-config/keyfront';
import { startLocalEdge, type LocalEdge } from '../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import { freePort } from '../../scripts/local-stack/ports';
import { startAzurite, type Azurite } from '../../scripts/local-stack/azurite';
import { fillExports, waitFor, type ExportFile } from '../support/exports-fixture';

const FDID = '6f1c2a4e-0b7d-4c55-9a1e-2d3f4a5b6c7d';
/** The i-th export file's blob name, as the publisher names it (the WAF refuses other names). */
const zipName = (i: number) => `v1/440/${1_700_000_000 + i * 3600}-${1_700_003_600 + i * 3600}-00001.zip`;
const FILES: Record<string, ExportFile> = {
  'v1/440/index.txt': { body: 'index\n', contentType: 'text/plain', cacheControl: 'public, max-age=60' },
  ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [zipName(i), { body: `zip number ${i}`, contentType: 'application/zip', cacheControl: 'public, max-age=1209600, immutable' }])),
};

describe('failover between the primary and secondary blob origins', () => {
  let primary: Azurite;
  let secondary: Azurite;
  let primaryPort: number;
  let edge: LocalEdge;

  beforeAll(async () => {
    primaryPort = await freePort();
    [primary, secondary] = await Promise.all([startAzurite({ port: primaryPort }), startAzurite()]);
    await Promise.all([fillExports(primary.connectionString, FILES), fillExports(secondary.connectionString, FILES)]);
    const declaration = validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: 'http://127.0.0.1:9', blobPrimary: primary.blobEndpoint, blobSecondary: secondary.blobEndpoint })), 'local');
    edge = await startLocalEdge(declaration, { frontDoorId: FDID, probeIntervalInMs: 100 });
  });
  afterAll(async () => {
    await edge?.stop();
    await Promise.all([primary?.stop(), secondary?.stop()]);
  });

  const exportsGroup = () => Object.fromEntries(edge.metrics().originGroups.exports.map((origin) => [origin.name, origin]));
  const read = async (i: number) => {
    const response = await request(`${edge.url}/${zipName(i)}`);
    return { status: response.statusCode, body: await response.body.text() };
  };

  it('reads from the primary while it is healthy', async () => {
    for (let i = 0; i < 4; i += 1) expect(await read(i)).toEqual({ status: 200, body: `zip number ${i}` });
    expect(exportsGroup()['blob-primary']).toMatchObject({ healthy: true, requests: 4 });
    expect(exportsGroup()['blob-secondary'].requests).toBe(0);
  });

  it('moves reads to the secondary when the primary stops, without failing a client request', async () => {
    await primary.stop();
    // Files not cached yet: each read needs an origin. None may fail.
    const results = [];
    for (let i = 4; i < 10; i += 1) results.push(await read(i));
    expect(results).toEqual(Array.from({ length: 6 }, (_, k) => ({ status: 200, body: `zip number ${k + 4}` })));
    const group = exportsGroup();
    expect(group['blob-primary'].healthy).toBe(false);
    // At most the first read tried the primary (one retry on the secondary); the rest went straight there.
    expect(edge.metrics().routes.exports.failovers).toBeLessThanOrEqual(1);
    expect(group['blob-secondary'].requests).toBe(6);
    expect(edge.metrics().routes.exports.originFailures).toBe(0);
    // What was cached before stays cached.
    expect((await request(`${edge.url}/${zipName(0)}`)).headers['x-cache']).toBe('TCP_HIT');
  });

  it('returns reads to the primary once its probes succeed again', async () => {
    primary = await startAzurite({ port: primaryPort });
    await fillExports(primary.connectionString, FILES);
    await waitFor('the primary to be healthy again', () => exportsGroup()['blob-primary'].healthy, { attempts: 200, intervalInMs: 50 });
    const before = exportsGroup()['blob-primary'].requests;
    expect(await read(10)).toEqual({ status: 200, body: 'zip number 10' });
    expect(exportsGroup()['blob-primary'].requests).toBe(before + 1);
  });

  it('answers 502 with a JSON error when no origin of the group answers', async () => {
    await Promise.all([primary.stop(), secondary.stop()]);
    const response = await request(`${edge.url}/${zipName(11)}`);
    expect(response.statusCode).toBe(502);
    expect(await response.body.json()).toEqual({ error: 'no origin of this route answered', code: 'origin_unreachable' });
    expect(edge.metrics().routes.exports.originFailures).toBe(1);
  });
});
