/**
 * The sync's state machine against a scripted edge (real signed files, a fake fetch and clock):
 * partial progress, retries of pending files on the next sync (also after a 304), an early stop
 * when the server fails, cancels and index failures that leave the state as it was, and windows
 * judged by the server's time when the phone's clock is wrong.
 */
import { craftedExport, exportPath, goodKeys, testAuthority, WINDOW_START, type TestAuthority } from '../test/client/signed-exports';
import type { ClientEnvironment } from './retry';
import { emptyState, type PhoneState } from './state';
import { syncRegion, type SyncOptions } from './sync';

const HOUR = 3600;
/** Four hourly files, the newest ending at the next full hour (as `publish --now` can make it). */
const PATHS = [0, 1, 2, 3].map((i) => exportPath(WINDOW_START - HOUR + i * HOUR));
const NEWEST_END = WINDOW_START + 3 * HOUR;

interface Edge {
  files: Map<string, Buffer | number>;
  index: string[];
  etag: string;
  /** The `Date` the edge sends (epoch ms); none when undefined. */
  date?: number;
  calls: string[];
  fetch: NonNullable<ClientEnvironment['fetch']>;
}

function fakeEdge(files: Record<string, Buffer | number>, index: string[]): Edge {
  const edge: Edge = {
    files: new Map(Object.entries(files)),
    index,
    etag: '"v1"',
    date: Date.now(),
    calls: [],
    fetch: async (url, init = {}) => {
      const path = new URL(url).pathname.slice(1);
      edge.calls.push(path);
      const dated: Record<string, string> = edge.date === undefined ? {} : { date: new Date(edge.date).toUTCString() };
      if (path.endsWith('index.txt')) {
        if (init.headers?.['if-none-match'] === edge.etag) return new Response(null, { status: 304, headers: { etag: edge.etag, ...dated } });
        return new Response(edge.index.join('\n'), { headers: { etag: edge.etag, 'content-type': 'text/plain', ...dated } });
      }
      const body = edge.files.get(path);
      if (body === undefined) return new Response('{"code":"not_found"}', { status: 404 });
      if (typeof body === 'number') return new Response('busy', { status: body });
      return new Response(body, { headers: dated });
    },
  };
  return edge;
}

describe('syncRegion', () => {
  let authority: TestAuthority;
  let good: Buffer[];
  let reportType6: Buffer;
  let duplicate: Buffer;
  const options = (edge: Edge, env: ClientEnvironment = {}): SyncOptions => ({ baseUrl: 'http://edge', region: '440', key: { publicKey: authority.publicPem }, retry: { attempts: 2, baseDelayInMs: 1 }, env: { fetch: edge.fetch, sleep: async () => undefined, ...env } });

  beforeAll(async () => {
    authority = testAuthority();
    good = await Promise.all(PATHS.map((_, i) => craftedExport(authority, { start: WINDOW_START - HOUR + i * HOUR })));
    const [a, b] = goodKeys(2);
    reportType6 = await craftedExport(authority, { start: WINDOW_START, keys: [a, { ...b, reportType: 6 }] });
    duplicate = await craftedExport(authority, { start: WINDOW_START + HOUR, keys: [a, b, { ...a }] });
  });

  it('keeps every good file, reports each bad one with its code, and tries only those again on the next (304) sync', async () => {
    const edge = fakeEdge({ [PATHS[0]]: good[0], [PATHS[1]]: reportType6, [PATHS[2]]: duplicate, [PATHS[3]]: good[3] }, PATHS);
    const first = await syncRegion(options(edge));
    expect(first.report.fetched.map((file) => file.path)).toEqual([PATHS[0], PATHS[3]]);
    expect(first.report.failed.map((file) => [file.path, file.code])).toEqual([[PATHS[1], 'key_invalid'], [PATHS[2], 'duplicate_key']]);
    expect(first.report.failed[0].message).toMatch(/report_type_invalid/);
    expect(first.report.pending).toEqual([PATHS[1], PATHS[2]]);
    expect(first.state).toMatchObject({ files: [PATHS[0], PATHS[3]], pending: [PATHS[1], PATHS[2]], index: { etag: '"v1"' } });

    // The server replaces the bad files (a test's liberty: published files never change).
    edge.files.set(PATHS[1], good[1]);
    edge.files.set(PATHS[2], good[2]);
    edge.calls.length = 0;
    const second = await syncRegion(options(edge), first.state);
    expect(second.report.indexStatus).toBe(304);
    expect(edge.calls).toEqual(['v1/440/index.txt', PATHS[1], PATHS[2]]);
    expect(second.report.fetched.map((file) => file.path)).toEqual([PATHS[1], PATHS[2]]);
    expect(second.report).toMatchObject({ failed: [], pending: [] });
    expect(second.state.files).toEqual(PATHS);
    expect(second.state.pending).toBeUndefined();

    edge.calls.length = 0;
    const idle = await syncRegion(options(edge), second.state);
    expect(idle.report).toMatchObject({ indexStatus: 304, fetched: [], failed: [], requests: 1 });
    expect(edge.calls).toEqual(['v1/440/index.txt']);
  });

  it('stops at a server failure, keeps what it fetched, and leaves the rest pending', async () => {
    const edge = fakeEdge({ [PATHS[0]]: good[0], [PATHS[1]]: 503, [PATHS[2]]: good[2], [PATHS[3]]: good[3] }, PATHS);
    const { report, state } = await syncRegion(options(edge));
    expect(report.fetched.map((file) => file.path)).toEqual([PATHS[0]]);
    expect(report.failed).toEqual([expect.objectContaining({ path: PATHS[1], code: 'http_error', statusCode: 503 })]);
    expect(edge.calls.filter((path) => path === PATHS[2])).toEqual([]);
    expect(state).toMatchObject({ files: [PATHS[0]], pending: PATHS.slice(1) });
  });

  it('goes on after a missing file, which stays pending', async () => {
    const edge = fakeEdge({ [PATHS[0]]: good[0], [PATHS[2]]: good[2], [PATHS[3]]: good[3] }, PATHS);
    const { report, state } = await syncRegion(options(edge));
    expect(report.failed.map((file) => [file.path, file.code])).toEqual([[PATHS[1], 'file_missing']]);
    expect(state).toMatchObject({ files: [PATHS[0], PATHS[2], PATHS[3]], pending: [PATHS[1]] });
  });

  it('throws when cancelled and when the index cannot be read, and the caller keeps its state', async () => {
    const before: PhoneState = { ...emptyState('440'), files: [PATHS[0]], pending: [PATHS[1]], index: { etag: '"v0"' } };
    const controller = new AbortController();
    const edge = fakeEdge({ [PATHS[1]]: good[1], [PATHS[2]]: good[2], [PATHS[3]]: good[3] }, PATHS);
    const cancelling: ClientEnvironment['fetch'] = async (url, init) => {
      if (url.endsWith(PATHS[2])) controller.abort();
      if (init?.signal?.aborted) throw new DOMException('aborted', 'AbortError');
      return edge.fetch(url, init);
    };
    await expect(syncRegion({ ...options(edge, { fetch: cancelling }), abortSignal: controller.signal }, before)).rejects.toMatchObject({ code: 'aborted' });
    const broken = fakeEdge({}, PATHS);
    broken.fetch = async () => new Response('<html>portal</html>', { headers: { 'content-type': 'text/html' } });
    await expect(syncRegion(options(broken), before)).rejects.toMatchObject({ code: 'not_an_index' });
    expect(before).toEqual({ ...emptyState('440'), files: [PATHS[0]], pending: [PATHS[1]], index: { etag: '"v0"' } });
  });

  it.each([
    ['2 hours behind', -2 * HOUR],
    ['2 hours ahead', 2 * HOUR],
    ['20 hours behind', -20 * HOUR],
  ])("fetches every file with the phone's clock %s, judging windows by the index's Date", async (_name, skew) => {
    const edge = fakeEdge(Object.fromEntries(PATHS.map((path, i) => [path, good[i]])), PATHS);
    edge.date = NEWEST_END * 1000 - 20 * 60_000;
    const { report } = await syncRegion(options(edge, { now: () => edge.date! + skew * 1000 }));
    expect(report).toMatchObject({ failed: [], pending: [], serverTimeSeconds: NEWEST_END - 20 * 60 });
    expect(report.fetched).toHaveLength(4);
  });

  it("refuses a window ending 2 hours after the index's Date, though the phone's clock (ahead) would allow it", async () => {
    const edge = fakeEdge(Object.fromEntries(PATHS.map((path, i) => [path, good[i]])), PATHS);
    edge.date = (NEWEST_END - 2 * HOUR) * 1000;
    const { report } = await syncRegion(options(edge, { now: () => (NEWEST_END + HOUR) * 1000 }));
    expect(report.failed.map((file) => [file.path, file.code])).toEqual([[PATHS[3], 'window_invalid']]);
    expect(report.fetched).toHaveLength(3);
  });
});
