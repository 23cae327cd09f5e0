/**
 * The Azurite launcher of the local stack and the tests: another program on its port is named as
 * a port conflict (not mistaken for Azurite), and Azurite never outlives the process that started
 * it, even one killed with SIGKILL.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAzurite } from '../../scripts/local-stack/azurite';
import { ensurePortFree, LOOPBACK } from '../../scripts/local-stack/ports';

it('refuses a port another program listens on, as a port conflict', async () => {
  const other = createServer((_req, res) => res.end('<!DOCTYPE HTML>not azurite'));
  await new Promise<void>((resolve) => other.listen(0, LOOPBACK, resolve));
  try {
    const port = (other.address() as AddressInfo).port;
    await expect(startAzurite({ port })).rejects.toMatchObject({ code: 'EADDRINUSE', port });
  } finally {
    await new Promise((resolve) => other.close(resolve));
  }
});

it('stops when the process that started it is killed with SIGKILL', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'keyfront-azurite-'));
  const script = path.join(dir, 'parent.ts');
  await writeFile(script, `import { startAzurite } from ${JSON.stringify(path.resolve(__dirname, '../../scripts/local-stack/azurite'))};\nstartAzurite().then((a) => process.stdout.write(a.port + '\\n'));\nsetInterval(() => undefined, 1000);\n`);
  // One process (tsx's require hook, not its CLI, which would run the script in a child of its own).
  const parent = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      parent.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      parent.once('exit', () => reject(new Error('the parent exited before Azurite was ready')));
    });
    await expect(ensurePortFree(port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    parent.kill('SIGKILL');
    // Azurite notices that its parent is gone and exits: its port frees up (bounded wait).
    let free = false;
    for (let attempt = 0; attempt < 100 && !free; attempt++) {
      free = await ensurePortFree(port).then(() => true, () => false);
      if (!free) await sleep(100);
    }
    expect(free).toBe(true);
  } finally {
    parent.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}, 30_000);
