/**
 * `keyfront deploy package`: one zip per Function App, the way run-from-package mounts it:
 * `host.json`, a `package.json` whose `main` is the bundle, and `dist/index.js`, the app's entry
 * (`api/index.ts` or `publisher/index.ts`) bundled by esbuild with exactly the production code it
 * reaches. Each app therefore carries only its own functions, and the api bundle cannot hold the
 * signer or a Key Vault client because `api/` never imports them (checked again on the bundle).
 * The only modules left outside are the ones the Functions worker provides at run time.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { ZipFile } from 'yazl';
import { hostJson, type AppName } from './host/host-json';

const ROOT = path.resolve(__dirname, '..');
const ENTRY: Record<AppName, string> = { api: 'api/index.ts', publisher: 'publisher/index.ts' };
/** Provided by the Functions Node.js worker at run time, never by the package. */
const WORKER_MODULES = ['@azure/functions-core'];
/** Inputs the api package must never contain: the write side does not sign. */
export const FORBIDDEN_IN_API = [/^publisher\//, /node_modules\/@azure\/keyvault-keys\//];
/**
 * Modules replaced in one app's bundle. `@azure/cosmos` imports the Key Vault keys client for its
 * client-side encryption; the api never encrypts client-side, and must carry no Key Vault client.
 */
const ALIASES: Record<AppName, Record<string, string>> = {
  api: { '@azure/keyvault-keys': './infra/host/no-key-vault.ts' },
  publisher: {},
};
/**
 * Files code reads beside itself at run time (`path.join(__dirname, ...)`): in the bundle,
 * `__dirname` is `dist/`, so each goes there when the module that reads it was bundled.
 */
const RUNTIME_FILES: { readBy: string; from: string; to: string }[] = [{ readBy: 'proto/schema.ts', from: 'proto/export.proto', to: 'dist/export.proto' }];
/** Fixed timestamp of every entry, so the same code gives the same zip. */
const ZIP_DATE = new Date('2020-01-01T00:00:00Z');

export interface AppPackage {
  app: AppName;
  zip: Buffer;
  /** Source files and modules bundled, relative to the repository. */
  inputs: string[];
}

export class PackageError extends Error {
  override readonly name = 'PackageError';
}

async function bundle(app: AppName): Promise<{ code: Uint8Array; metafile: Metafile }> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY[app]],
    bundle: true,
    platform: 'node',
    // The Function Apps run Node 22 (WEBSITE_NODE_DEFAULT_VERSION in infra/template.ts).
    target: 'node22',
    format: 'cjs',
    external: WORKER_MODULES,
    alias: ALIASES[app],
    // ESM dependencies (@azure/storage-common, open) read import.meta.url at load; in a CommonJS
    // bundle it would be undefined and the app would not start. The bundle's own URL stands in.
    define: { 'import.meta.url': '__keyfrontBundleUrl' },
    banner: { js: "var __keyfrontBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    write: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'inline',
    outfile: 'dist/index.js',
  });
  const output = result.outputFiles.find((file) => file.path.endsWith('index.js'));
  if (!output) throw new PackageError(`esbuild wrote no bundle for ${app}`);
  return { code: output.contents, metafile: result.metafile };
}

function zip(entries: { name: string; data: Buffer | Uint8Array }[]): Promise<Buffer> {
  const file = new ZipFile();
  for (const entry of entries) file.addBuffer(Buffer.from(entry.data), entry.name, { mtime: ZIP_DATE, mode: 0o100644 });
  file.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    file.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    file.outputStream.on('error', reject);
    file.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** Where the publisher package carries the built transparency page: `publisher/site.ts` reads `dist/site/` beside its bundle. */
export const PACKAGED_SITE_DIR = 'dist/site';

export interface PackageOptions {
  /** The built transparency page (`buildSite()` of scripts/site/build.ts): required for the publisher, which publishes it at start-up. */
  site?: readonly { name: string; data: Uint8Array }[];
}

export async function buildAppPackage(app: AppName, options: PackageOptions = {}): Promise<AppPackage> {
  if (app === 'publisher' && !options.site?.length) throw new PackageError('the publisher package needs the built transparency page (buildSite()): without it the app cannot publish the page');
  if (app === 'api' && options.site) throw new PackageError('the api package carries no transparency page');
  const { code, metafile } = await bundle(app);
  const inputs = Object.keys(metafile.inputs).sort();
  if (app === 'api') {
    const forbidden = inputs.filter((input) => FORBIDDEN_IN_API.some((pattern) => pattern.test(input)));
    if (forbidden.length > 0) throw new PackageError(`the api package would contain signing code: ${forbidden.join(', ')}`);
  }
  const root = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const manifest = { name: `keyfront-${app}`, version: root.version, private: true, main: 'dist/index.js', engines: { node: '>=22' } };
  const data = await zip([
    { name: 'host.json', data: Buffer.from(`${JSON.stringify(hostJson(app), null, 2)}\n`) },
    { name: 'package.json', data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) },
    { name: 'dist/index.js', data: code },
    ...(await Promise.all(RUNTIME_FILES.filter((file) => inputs.includes(file.readBy)).map(async (file) => ({ name: file.to, data: await readFile(path.join(ROOT, file.from)) })))),
    ...(options.site ?? []).map((file) => ({ name: `${PACKAGED_SITE_DIR}/${file.name}`, data: file.data })),
  ]);
  return { app, zip: data, inputs };
}
