/**
 * Builds the transparency page from `site/`: `app.ts` with the phone library bundled by esbuild
 * for browsers (ES modules, no Node shims), `style.css` minified, both named by their content
 * hash, and `index.html` pointing at those names. The result is the list of files
 * `publisher/site.ts` publishes; `keyfront site build --out DIR` writes it to a folder (the
 * publisher Function App's package carries that folder).
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { build } from 'esbuild';
import { verifyExportFile } from '../../client';
import { buildExport } from '../../proto/codec';
import { rebuildWireTypes } from '../../proto/export-decode';
import { realisticKeys } from '../../proto/test-keys';
import type { SiteFile } from '../../publisher/site';
import { LocalSigner } from '../../publisher/signers/local';
import { cspSafeProtobuf, recordGeneratedFunctions } from './protobuf-precompile';

export const SITE_SOURCE_DIR = path.join(__dirname, '..', '..', 'site');

/** Browsers with JavaScript modules and DecompressionStream('deflate-raw'), which the phone library unzips with. */
const TARGETS = ['chrome111', 'firefox113', 'safari16.4', 'edge111'];

function hashedName(base: string, extension: string, data: Uint8Array): string {
  return `${base}.${createHash('sha256').update(data).digest('hex').slice(0, 12)}.${extension}`;
}

/** Verifies one signed sample file with the phone library, so that every protobufjs type it uses generates its functions. */
async function exercisePhoneLibrary(): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signer = new LocalSigner(privateKey, { keyId: '000', keyVersion: 'v1' });
  const start = Math.floor(Date.now() / 3_600_000) * 3600 - 7200;
  const keys = realisticKeys(3);
  const sample = await buildExport({ region: '000', startTimestamp: start, endTimestamp: start + 3600, keys, revisedKeys: realisticKeys(1) }, signer);
  // Types this process already decoded with would generate nothing to record.
  rebuildWireTypes();
  await verifyExportFile(new Uint8Array(sample.zip), { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), keyId: '000', keyVersion: 'v1' }, { region: '000' });
}

async function bundleScript(): Promise<Uint8Array> {
  const table = await recordGeneratedFunctions(exercisePhoneLibrary);
  const result = await build({
    entryPoints: [path.join(SITE_SOURCE_DIR, 'app.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: TARGETS,
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
    plugins: [cspSafeProtobuf(table)],
  });
  return result.outputFiles[0].contents;
}

async function bundleStyle(): Promise<Uint8Array> {
  const result = await build({ entryPoints: [path.join(SITE_SOURCE_DIR, 'style.css')], bundle: true, minify: true, target: TARGETS, write: false, logLevel: 'silent' });
  return result.outputFiles[0].contents;
}

/** Replaces the one reference to `from` in the page; a page that lost it is a build error, not a broken page. */
function rewrite(html: string, from: string, to: string): string {
  const count = html.split(from).length - 1;
  if (count !== 1) throw new Error(`site/index.html must reference ${from} exactly once, found ${count}`);
  return html.replace(from, to);
}

/** The page's files, as published under `/site/`. */
export async function buildSite(): Promise<SiteFile[]> {
  const [script, style, html] = await Promise.all([bundleScript(), bundleStyle(), readFile(path.join(SITE_SOURCE_DIR, 'index.html'), 'utf8')]);
  const scriptName = hashedName('app', 'js', script);
  const styleName = hashedName('style', 'css', style);
  const page = rewrite(rewrite(html, '/site/app.js', `/site/${scriptName}`), '/site/style.css', `/site/${styleName}`);
  return [
    { name: scriptName, data: Buffer.from(script) },
    { name: styleName, data: Buffer.from(style) },
    { name: 'index.html', data: Buffer.from(page) },
  ];
}
