/**
 * A Node.js binary of a given major, for running the Function App packages on the Node the
 * deployment runs (WEBSITE_NODE_DEFAULT_VERSION ~22) whatever Node runs the tests. It comes from the
 * npm registry as the platform's `node-{platform}-{arch}` package (what the `node` package installs),
 * fetched once with `npm pack` and kept under `node_modules/.cache/keyfront/`; the running Node is
 * used when it already is that major. Without the registry it fails with one line saying so: the
 * tests that need it never skip.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CACHE = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'keyfront');

export async function nodeBinary(major: number): Promise<string> {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const target = path.join(CACHE, `node-${major}-${process.platform}-${process.arch}`, 'bin', 'node');
  if (existsSync(target)) return target;
  await mkdir(CACHE, { recursive: true });
  const work = await mkdtemp(path.join(CACHE, 'download-'));
  const spec = `node-${process.platform}-${process.arch}@${major}`;
  try {
    try {
      await run('npm', ['pack', spec, '--silent', '--pack-destination', work], { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      throw new Error(`cannot fetch Node ${major} from the npm registry (npm pack ${spec}): ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
    const tarball = (await readdir(work)).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${spec} wrote no tarball`);
    await run('tar', ['-xzf', tarball, 'package/bin/node'], { cwd: work });
    // Several test workers may fetch at once: the first complete binary to arrive stays.
    await rename(path.join(work, 'package'), path.dirname(path.dirname(target))).catch(() => undefined);
    if (!existsSync(target)) throw new Error(`Node ${major} from ${spec} has no bin/node`);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
