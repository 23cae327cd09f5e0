/**
 * `keyfront site build --out DIR` as an operator (and the publisher package step) runs it: the
 * page's files with hashed asset names that index.html points at; bad folders refused with exit
 * 2 and nothing written; an earlier build replaced only with --force.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readSiteBuild } from '../../publisher/site';
import { runKeyfront, STACK_TRACE } from '../support/cli';

describe('keyfront site build', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'keyfront-site-build-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes index.html and content-hashed assets it references, which the publisher accepts', async () => {
    const out = path.join(dir, 'site');
    const run = await runKeyfront(['site', 'build', '--out', out], { timeoutInMs: 120_000 });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    const names = (await readdir(out)).sort();
    expect(names).toEqual([expect.stringMatching(/^app\.[0-9a-f]{12}\.js$/), 'index.html', expect.stringMatching(/^style\.[0-9a-f]{12}\.css$/)]);
    const html = await readFile(path.join(out, 'index.html'), 'utf8');
    for (const asset of names.filter((name) => name !== 'index.html')) {
      expect(html).toContain(`/site/${asset}`);
      expect(asset).toContain(createHash('sha256').update(await readFile(path.join(out, asset))).digest('hex').slice(0, 12));
    }
    // No inline script or style: the CSP allows neither.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
    expect((await readSiteBuild(out)).map((file) => file.name).sort()).toEqual(names);
    expect(JSON.parse(run.stdout)).toMatchObject({ out, files: expect.arrayContaining([{ name: 'index.html', bytes: Buffer.byteLength(html) }]) });
  });

  it('replaces an earlier build only with --force', async () => {
    const out = path.join(dir, 'site');
    const again = await runKeyfront(['site', 'build', '--out', out], { timeoutInMs: 120_000 });
    expect([again.status, again.stderr]).toEqual([2, expect.stringMatching(/already holds a site build; pass --force/)]);
    const forced = await runKeyfront(['site', 'build', '--out', out, '--force'], { timeoutInMs: 120_000 });
    expect(forced.status).toBe(0);
    expect(await readdir(out)).toHaveLength(3);
  });

  it.each<[string, (base: string) => Promise<string>, RegExp]>([
    ['a file', async (base) => {
      const file = path.join(base, 'a-file');
      await writeFile(file, 'x');
      return file;
    }, /is a file, not a directory/],
    ['a folder holding other files', async (base) => {
      const other = path.join(base, 'other');
      await mkdir(other, { recursive: true });
      await writeFile(path.join(other, 'notes.txt'), 'keep me');
      return other;
    }, /holds files that are not a site build \(notes\.txt\)/],
  ])('refuses --out that is %s (exit 2, nothing written)', async (_what, prepare, message) => {
    const out = await prepare(dir);
    const before = await readdir(path.dirname(out));
    const run = await runKeyfront(['site', 'build', '--out', out, '--force'], { timeoutInMs: 120_000 });
    expect([run.status, run.stdout]).toEqual([2, '']);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(STACK_TRACE);
    expect(await readdir(path.dirname(out))).toEqual(before);
  });

  it('explains itself with --help, and needs --out', async () => {
    const help = await runKeyfront(['site', 'build', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--out <dir>/);
    const bare = await runKeyfront(['site', 'build']);
    expect([bare.status, bare.stderr]).toEqual([2, expect.stringMatching(/required option '--out <dir>'/)]);
  });
});
