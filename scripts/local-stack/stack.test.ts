import { EventEmitter } from 'node:events';
import { access, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createServer } from 'node:net';
import { loadLocalStackConfig, type LocalStackConfig } from './config';
import { freePorts, LOOPBACK } from './ports';
import type { StartService } from './service';
import { runLocalStack, StackError } from './stack';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'keyfront-stack-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const exists = (file: string) => access(file).then(() => true, () => false);

/** The stack's settings on ports free a moment ago (the stack checks them before it starts anything). */
async function configOn(dataDir: string): Promise<LocalStackConfig> {
  const env: Record<string, string> = { KEYFRONT_DATA_DIR: dataDir };
  const names = ['KEYFRONT_API_PORT', 'KEYFRONT_COSMOS_PORT', 'KEYFRONT_BLOB_PORT', 'KEYFRONT_EDGE_PORT', 'KEYFRONT_EDGE_ADMIN_PORT'];
  const ports = await freePorts(names.length);
  names.forEach((name, i) => (env[name] = String(ports[i])));
  return loadLocalStackConfig(env);
}

function recorder() {
  const events: string[] = [];
  const service = (name: string, stack: Record<string, unknown> = {}): StartService =>
    async (context) => {
      events.push(`start ${name} after ${Object.keys(context.stack).filter((k) => k.endsWith('Url')).join(',')}`);
      return { name, url: `http://127.0.0.1/${name}`, stack, stop: async () => void events.push(`stop ${name}`) };
    };
  return { events, service };
}

describe('runLocalStack', () => {
  it('starts the services in order, writes stack.json (0600), prints them, and on a signal stops them in reverse and removes stack.json', async () => {
    const config = await configOn(root);
    const { events, service } = recorder();
    const signals = new EventEmitter();
    const out: string[] = [];
    const stack = await runLocalStack([service('cosmos', { cosmosEndpoint: 'https://c' }), service('api', { apiUrl: 'http://a', frontDoorId: 'fd' })], config, { signals, write: (t) => out.push(t) });
    const written = JSON.parse(await readFile(stack.stackFile, 'utf8')) as Record<string, unknown>;
    expect(written).toMatchObject({ pid: process.pid, cosmosEndpoint: 'https://c', apiUrl: 'http://a', dataDir: root, services: [{ name: 'cosmos' }, { name: 'api' }] });
    expect((await stat(stack.stackFile)).mode & 0o777).toBe(0o600);
    expect(out.join('')).toMatch(/cosmos +http:\/\/127\.0\.0\.1\/cosmos[\s\S]*api +http:\/\/127\.0\.0\.1\/api[\s\S]*X-Azure-FDID: fd[\s\S]*ready/);
    signals.emit('SIGINT');
    await stack.stopped;
    expect(events).toEqual(['start cosmos after ', 'start api after ', 'stop api', 'stop cosmos']);
    expect(await exists(stack.stackFile)).toBe(false);
    expect(await exists(path.join(root, 'stack.lock'))).toBe(false);
  });

  it('refuses a second stack on the same data directory while the first runs, and allows one after', async () => {
    const config = await configOn(root);
    const { service } = recorder();
    const signals = new EventEmitter();
    const first = await runLocalStack([service('a')], config, { signals, write: () => undefined });
    // The lock holds our own pid; a second stack in another process sees a live holder.
    await writeFile(path.join(root, 'stack.lock'), `${process.ppid}\n`);
    await expect(runLocalStack([service('b')], config, { signals: new EventEmitter(), write: () => undefined })).rejects.toThrow(/a local stack already runs .* \(pid \d+\)/);
    await first.stop();
    const again = await runLocalStack([service('c')], config, { signals, write: () => undefined });
    await again.stop();
  });

  it('takes over the lock of a stack that died', async () => {
    const config = await configOn(root);
    await writeFile(path.join(root, 'stack.lock'), '999999999\n');
    const stack = await runLocalStack([recorder().service('a')], config, { signals: new EventEmitter(), write: () => undefined });
    await stack.stop();
  });

  it('stops what it started when a service fails, and says which and why', async () => {
    const config = await configOn(root);
    const { events, service } = recorder();
    const startBrokenService: StartService = async () => {
      throw Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE', port: 7071 });
    };
    const failure = runLocalStack([service('cosmos'), startBrokenService], config, { signals: new EventEmitter(), write: () => undefined });
    await expect(failure).rejects.toThrow(StackError);
    await expect(failure).rejects.toThrow(/broken: port 7071 is already in use/);
    expect(events).toEqual(['start cosmos after ', 'stop cosmos']);
    expect(await exists(path.join(root, 'stack.lock'))).toBe(false);
    expect(await exists(path.join(root, 'stack.json'))).toBe(false);
  });

  it('names KEYFRONT_DATA_DIR when it points at a file', async () => {
    const file = path.join(root, 'not-a-directory');
    await writeFile(file, 'x');
    const config = await configOn(file);
    await expect(runLocalStack([recorder().service('a')], config, { signals: new EventEmitter(), write: () => undefined })).rejects.toThrow(new StackError(`KEYFRONT_DATA_DIR ${file} cannot be used as the data directory: it is a file`));
  });

  it('names the service and the setting of a port in use, before it starts anything', async () => {
    const config = await configOn(root);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(config.ports.blob, LOOPBACK, resolve));
    try {
      const { events, service } = recorder();
      await expect(runLocalStack([service('cosmos')], config, { signals: new EventEmitter(), write: () => undefined })).rejects.toThrow(
        new StackError(`cannot start the local stack: publisher: port ${config.ports.blob} is already in use by another program; free it or choose another port with KEYFRONT_BLOB_PORT`),
      );
      expect(events).toEqual([]);
      expect(await exists(path.join(root, 'stack.lock'))).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
