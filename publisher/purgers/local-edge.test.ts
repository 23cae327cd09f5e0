import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalEdgePurger } from './local-edge';
import { PurgeError } from './purge-error';
import { freePort } from '../../scripts/local-stack/ports';

/** A stand-in admin server answering with what each test sets; records what it got. */
describe('LocalEdgePurger', () => {
  let server: Server;
  let adminUrl: string;
  let received: { method?: string; url?: string; contentType?: string; body: string }[];
  let answer: (res: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ method: req.method, url: req.url, contentType: req.headers['content-type'], body });
        answer(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    adminUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    received = [];
  });

  const reply = (status: number, body: string) => (res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  };

  it('POSTs {"contentPaths": [...]} to /purge and resolves to the number purged on 202', async () => {
    answer = reply(202, '{"purged":3}');
    const purger = new LocalEdgePurger(adminUrl);
    await expect(purger.purgeEntries(['/v1/440/index.txt', '/v1/440/*'])).resolves.toBe(3);
    await expect(purger.purge(['/v1/440/index.txt'])).resolves.toBeUndefined();
    expect(received[0]).toEqual({ method: 'POST', url: '/purge', contentType: 'application/json', body: '{"contentPaths":["/v1/440/index.txt","/v1/440/*"]}' });
    expect(purger.name).toBe(`local-edge:${new URL(adminUrl).host}`);
  });

  it('rejects bad paths without calling the edge', async () => {
    answer = reply(202, '{"purged":0}');
    await expect(new LocalEdgePurger(adminUrl).purge(['index.txt'])).rejects.toThrow('contentPaths[0] must start with "/"');
    expect(received).toEqual([]);
  });

  it.each([
    [400, '{"error":"contentPaths[0] must start with \\"/\\"","code":"invalid_content_paths"}', 'invalid_content_paths', false, 'must start with'],
    [500, '{"error":"boom","code":"internal"}', 'internal', true, 'boom'],
    [503, 'not json', 'unexpected_response', true, 'HTTP 503'],
    [202, '{"purged":"three"}', 'unexpected_response', false, 'unexpected answer'],
  ])('fails clearly on HTTP %i %s', async (status, body, code, retryable, message) => {
    answer = reply(status, body);
    const error = (await new LocalEdgePurger(adminUrl).purge(['/v1/*']).catch((e: unknown) => e)) as PurgeError;
    expect(error).toBeInstanceOf(PurgeError);
    expect(error).toMatchObject({ statusCode: status, code, retryable });
    expect(error.message).toContain(message);
  });

  it('says the local stack may not be running when nothing listens', async () => {
    const port = await freePort();
    const error = (await new LocalEdgePurger(`http://127.0.0.1:${port}`).purge(['/v1/*']).catch((e: unknown) => e)) as PurgeError;
    expect(error).toBeInstanceOf(PurgeError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', retryable: true });
    expect(error.message).toContain('is the local stack running?');
  });

  it('gives up after timeoutInMs when the edge does not answer', async () => {
    answer = () => undefined; // never answers
    const error = (await new LocalEdgePurger(adminUrl, { timeoutInMs: 100 }).purge(['/v1/*']).catch((e: unknown) => e)) as PurgeError;
    expect(error).toBeInstanceOf(PurgeError);
    expect(error.retryable).toBe(true);
    server.closeAllConnections();
  });
});
