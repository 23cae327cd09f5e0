/**
 * The transparency page bundles this library for the browser. The bundle must build with
 * `--platform=browser` and no Node shims: esbuild fails on any Node builtin a module reaches.
 */
import { build } from 'esbuild';
import * as path from 'node:path';

describe('client/ in a browser bundle', () => {
  it('bundles with esbuild for the browser without Node builtins', async () => {
    const result = await build({ entryPoints: [path.join(__dirname, 'index.ts')], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0].text;
    expect(code).not.toMatch(/require\(["'](node:)?(fs|path|zlib|crypto|os|http|https|stream|events|buffer|util)["']\)/);
    expect(code).toContain('verifyExportFile');
  });
});
