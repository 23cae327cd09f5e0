/** Port helpers of the local stack and the tests: loopback only. */
import { createServer, connect, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const LOOPBACK = '127.0.0.1';

/** A port that was free a moment ago (for programs that cannot listen on port 0 themselves). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}

/**
 * `count` distinct ports that were free a moment ago: every listener stays open until all are
 * taken, since the OS may hand out a port just closed again (two services of a stack once got one).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      server.unref();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, LOOPBACK, () => resolve());
      });
    }
    return servers.map((server) => {
      const address = server.address();
      if (typeof address !== 'object' || !address) throw new Error('no port');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))));
  }
}

/**
 * Fails with `EADDRINUSE` (and the port) when something already listens on the port: for children
 * that would only log the conflict, while another program answers on their port.
 */
export function ensurePortFree(port: number, host = LOOPBACK): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? Object.assign(new Error(`port ${port} is already in use`), { code: 'EADDRINUSE', port }) : error));
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** Resolves once something accepts TCP connections on the port, or rejects after `timeoutInMs`. */
export async function waitForPort(port: number, options: { timeoutInMs?: number; host?: string } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutInMs ?? 20000);
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, options.host ?? LOOPBACK);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${options.host ?? LOOPBACK}:${port} after ${options.timeoutInMs ?? 20000} ms`);
    await sleep(50);
  }
}
