/**
 * The compiled ARM template and the local edge agree on every hostile read the template can
 * express: for each corpus case (and each plain read of a published file), the ARM model (the
 * template's JSON read back and run through the local edge's own matchers) predicts refusal or the
 * exact origin request, and the local edge, over real HTTP in front of a recording origin, does
 * just that. Cases refused by the HTTP layer before any rule (a non-path target, a 64 KB header)
 * are outside what a template can say and are listed, not compared.
 */
import { compileArmTemplate } from '../../edge-config/arm/template';
import { localEdgeEnvironment } from '../../edge-config/config';
import { keyfrontEdge } from '../../edge-config/keyfront';
import { startLocalEdge, type LocalEdge } from '../../edge-config/local-edge/server';
import { validateEdgeDeclaration } from '../../edge-config/validate';
import { startOriginStandIn, type OriginStandIn } from '../support/origin-stand-in';
import { ArmModel } from './arm-model';
import { CORPUS_FILES, HOSTILE_READS, type HostileRead } from './hostile-reads';
import { rawRequest } from './raw-http';

const FDID = '6f1c2a4e-0b7d-4c55-9a1e-2d3f4a5b6c7d';
const ACCOUNT = '/devstoreaccount1';
/** Headers the edge itself owns or answers (Front Door does the same; ranges and conditionals are reserved to its cache): not a rule's doing, so not compared. */
const EDGE_OWNED = /^(host|connection|content-length|x-azure-.*|x-forwarded-.*|x-fd-.*|cache-control|pragma|if-none-match|if-modified-since|if-match|if-unmodified-since|range|if-range)$/;

const PLAIN_READS: HostileRead[] = Object.keys(CORPUS_FILES).flatMap((path) => [
  { name: `plain: GET ${path}`, method: 'GET', target: path, outcome: 'served' as const },
  { name: `plain: HEAD ${path}`, method: 'HEAD', target: path, outcome: 'served' as const },
]);
const CASES = [...HOSTILE_READS, ...PLAIN_READS];
const EXPRESSIBLE = CASES.filter((c) => !c.transport);

describe('the ARM template and the local edge, on the hostile-read corpus', () => {
  let origin: OriginStandIn;
  let edge: LocalEdge;
  let model: ArmModel;

  beforeAll(async () => {
    origin = await startOriginStandIn();
    const declaration = validateEdgeDeclaration(keyfrontEdge(localEdgeEnvironment({ api: origin.url, blobPrimary: `${origin.url}${ACCOUNT}` })), 'local');
    model = new ArmModel(compileArmTemplate(declaration));
    edge = await startLocalEdge(declaration, { frontDoorId: FDID, probeIntervalInMs: 60_000 });
  });
  afterAll(async () => {
    await edge?.stop();
    await origin?.stop();
  });

  it('compares every case a template can express and names the others', () => {
    expect(EXPRESSIBLE.length).toBeGreaterThanOrEqual(50);
    expect(CASES.filter((c) => c.transport).map((c) => c.name)).toEqual(['spelling: an absolute-form authority', 'header: a huge header (64 KB)']);
  });

  it.each(EXPRESSIBLE.map((c) => [c.name, c] as const))('%s', async (_name, read: HostileRead) => {
    edge.purge(['/*']);
    const host = new URL(edge.url).host;
    const predicted = model.predict({ method: read.method, target: read.target, host, headers: read.headers ?? {} });
    const answer = await rawRequest(edge.url, read);
    const reached = origin.requests.filter((r) => r.headers['x-azure-ref'] === answer.headers['x-azure-ref'] && r.headers['x-fd-healthprobe'] === undefined);

    if (predicted.refusedBy) {
      expect([read.target, answer.status >= 400 && answer.status < 500, reached.length]).toEqual([read.target, true, 0]);
      expect(read.outcome).toBe('refused');
      return;
    }
    expect(read.outcome).toBe('served');
    expect(reached.map((r) => `${r.method} ${r.url}`)).toEqual([`${read.method} ${ACCOUNT}${predicted.originTarget}`]);
    const deleted = new Set((predicted.requestHeaderEdits ?? []).filter((edit) => edit.headerAction === 'Delete').map((edit) => edit.header));
    for (const [name, value] of Object.entries(read.headers ?? {})) {
      const lower = name.toLowerCase();
      if (EDGE_OWNED.test(lower)) continue;
      expect([lower, reached[0].headers[lower]]).toEqual([lower, deleted.has(lower) ? undefined : value]);
    }
  });
});
