/**
 * A stand-in for the Azure Functions host loading a package the way run-from-package does: the
 * zip is extracted, the Node.js worker's `@azure/functions-core` module is provided (here: one
 * that records `registerFunction` calls instead of talking gRPC to the host), and the `main` entry
 * of the package's package.json is required in a fresh process with the app's settings. The
 * registrations come back as the host would index them: name and bindings; HTTP functions can
 * then be invoked once, to see the bundled handler answer.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as yauzl from 'yauzl';

export interface HostBinding {
  type: string;
  direction: string;
  authLevel?: string;
  methods?: string[];
  route?: string;
  schedule?: string;
  [extra: string]: unknown;
}

export interface HostFunction {
  name: string;
  bindings: Record<string, HostBinding>;
}

export interface HostLoad {
  functions: HostFunction[];
  /** Answers of `invoke`: function name -> status and body. */
  invoked: Record<string, { status: number; body: unknown }>;
  /** The Node.js version the package ran on. */
  node: string;
  stderr: string;
}

/** The entries of a zip, by name. */
export async function readZip(zip: Buffer): Promise<Map<string, Buffer>> {
  const zipFile = await promisify<Buffer, yauzl.Options, yauzl.ZipFile>(yauzl.fromBuffer)(zip, { lazyEntries: true });
  const entries = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zipFile.on('entry', (entry: yauzl.Entry) => {
      zipFile.openReadStream(entry, (error, stream) => {
        if (error) return reject(error);
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          entries.set(entry.fileName, Buffer.concat(chunks));
          zipFile.readEntry();
        });
        stream.on('error', reject);
      });
    });
    zipFile.on('end', () => resolve());
    zipFile.on('error', reject);
    zipFile.readEntry();
  });
  return entries;
}

const CORE_MODULE = `
const functions = [];
const handlers = new Map();
module.exports = {
  functions, handlers,
  registerFunction(metadata, handler) { functions.push(metadata); handlers.set(metadata.name, handler); return { dispose() {} }; },
  setProgrammingModel() {}, getProgrammingModel() { return undefined; },
  registerHook() { return { dispose() {} }; },
  log() {},
};
`;

/** Runs in the child: load the package, then invoke the named HTTP functions with one request each. */
const LOADER = `
const core = require(process.env.STAND_IN_CORE);
const main = require(require('path').join(process.env.STAND_IN_DIR, 'package.json')).main;
require(require('path').join(process.env.STAND_IN_DIR, main));
(async () => {
  const invoked = {};
  for (const call of JSON.parse(process.env.STAND_IN_INVOKE)) {
    const handler = core.handlers.get(call.name);
    const request = { method: call.method, url: 'https://stand-in' + call.path, headers: new Headers(call.headers), query: new URLSearchParams(), params: {},
      text: async () => '', json: async () => ({}), arrayBuffer: async () => new ArrayBuffer(0) };
    const context = { invocationId: 'stand-in', functionName: call.name, log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
    const response = await handler(request, context);
    invoked[call.name + ' ' + JSON.stringify(call.headers)] = { status: response.status ?? 200, body: response.jsonBody ?? (typeof response.body === 'string' ? JSON.parse(response.body) : null) };
  }
  process.stdout.write(JSON.stringify({ functions: core.functions, invoked, node: process.versions.node }));
  process.exit(0);
})().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
`;

export interface Invoke {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
}

/** `node`: the Node.js binary the worker runs (Azure runs WEBSITE_NODE_DEFAULT_VERSION); this process's by default. */
export async function loadPackage(zip: Buffer, env: Record<string, string>, invoke: Invoke[] = [], options: { node?: string } = {}): Promise<HostLoad> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kf-host-'));
  for (const [name, data] of await readZip(zip)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), data);
  }
  const coreDir = path.join(dir, 'node_modules', '@azure', 'functions-core');
  await mkdir(coreDir, { recursive: true });
  await writeFile(path.join(coreDir, 'index.js'), CORE_MODULE);
  // Only what the app is given: no inherited KEYFRONT_* settings, and no access to the repository's node_modules.
  const childEnv = { PATH: process.env.PATH ?? '', NODE_PATH: '', ...env, STAND_IN_DIR: dir, STAND_IN_CORE: coreDir, STAND_IN_INVOKE: JSON.stringify(invoke) };
  const { stdout, stderr } = await promisify(execFile)(options.node ?? process.execPath, ['-e', LOADER], { cwd: dir, env: childEnv, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  const parsed = JSON.parse(stdout) as { functions: HostFunction[]; invoked: HostLoad['invoked']; node: string };
  return { ...parsed, stderr };
}
