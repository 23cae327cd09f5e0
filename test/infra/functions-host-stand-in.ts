/**
 * A stand-in for the Azure Functions host loading a package the way run-from-package does: the
 * zip is extracted, the Node.js worker's `@azure/functions-core` module is provided (here: one
 * that records `registerFunction`, `registerHook` and `setProgrammingModel` calls instead of
 * talking gRPC to the host), and the `main` entry of the package's package.json is required in a
 * fresh process with the app's settings. The registrations come back as the host would index them:
 * name and bindings, and the capabilities the app reports (`getCapabilities`, as the worker asks at
 * start). HTTP functions can then be invoked as the worker invokes them: the app's `preInvocation`
 * hooks first (they may replace the callback), with the host's trace context in the invocation
 * context; `terminate` runs the `appTerminate` hooks as the host's stop of the worker does. The
 * worker's stdout is the host's to log (functions-host-telemetry.ts), so the loader reports back
 * through a file.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
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
  /** Each invocation as the host saw it, in order. */
  invocations: Invocation[];
  /** What the app told the host it does (`WorkerOpenTelemetryEnabled`, ...). */
  capabilities: Record<string, string>;
  /** The worker's stdout, line by line: what the host logs as `Host.Function.Console`. */
  consoleLines: string[];
  /** The environment's SDK statistics switches as the app left them. */
  statsbeat: Record<string, string | null>;
  /** The Node.js version the package ran on. */
  node: string;
  stderr: string;
}

export interface Invocation extends Invoke {
  invocationId: string;
  status: number;
  durationMs: number;
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
const hooks = { appStart: [], appTerminate: [], preInvocation: [], postInvocation: [], log: [] };
let model;
module.exports = {
  functions, handlers, hooks, model: () => model,
  registerFunction(metadata, handler) { functions.push(metadata); handlers.set(metadata.name, handler); return { dispose() {} }; },
  setProgrammingModel(value) { model = value; }, getProgrammingModel() { return model; },
  registerHook(name, callback) {
    if (!hooks[name]) throw new RangeError('unknown hook ' + name);
    hooks[name].push(callback);
    return { dispose() { hooks[name].splice(hooks[name].indexOf(callback), 1); } };
  },
  log() {},
};
`;

/**
 * Runs in the child: load the package, ask its capabilities, then invoke the named HTTP functions
 * with one request each (a web-standard Request, as the worker's HttpRequest wraps one), each through
 * the app's preInvocation hooks, and at the end (when asked) the appTerminate hooks.
 */
const LOADER = `
const { randomUUID } = require('crypto');
const core = require(process.env.STAND_IN_CORE);
const main = require(require('path').join(process.env.STAND_IN_DIR, 'package.json')).main;
require(require('path').join(process.env.STAND_IN_DIR, main));
(async () => {
  const capabilities = core.model() ? await core.model().getCapabilities({}) : {};
  const appHookData = {};
  const invoked = {};
  const invocations = [];
  for (const call of JSON.parse(process.env.STAND_IN_INVOKE)) {
    const url = 'https://stand-in' + call.path;
    const request = new Request(url, { method: call.method, headers: call.headers, ...(call.body !== undefined ? { body: call.body } : {}) });
    Object.defineProperties(request, { query: { value: new URL(url).searchParams }, params: { value: {} } });
    const invocationId = randomUUID();
    const context = { invocationId, functionName: call.name, options: { trigger: { type: 'httpTrigger' } },
      traceContext: { traceParent: call.traceParent, traceState: '', attributes: {} },
      log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
    const hookContext = { invocationContext: context, functionCallback: core.handlers.get(call.name), inputs: [request], hookData: {}, appHookData };
    for (const hook of core.hooks.preInvocation) await hook(hookContext);
    const started = Date.now();
    const response = await hookContext.functionCallback(...hookContext.inputs, context);
    const status = response.status ?? 200;
    invocations.push({ ...call, invocationId, status, durationMs: Date.now() - started });
    invoked[call.name + ' ' + JSON.stringify(call.headers)] = { status, body: response.jsonBody ?? (typeof response.body === 'string' ? JSON.parse(response.body) : null) };
  }
  if (process.env.STAND_IN_TERMINATE === 'true') for (const hook of core.hooks.appTerminate) await hook({ hookData: {}, appHookData });
  const statsbeat = Object.fromEntries(['APPLICATIONINSIGHTS_STATSBEAT_DISABLED', 'APPLICATION_INSIGHTS_NO_STATSBEAT'].map((name) => [name, process.env[name] ?? null]));
  require('fs').writeFileSync(process.env.STAND_IN_RESULT, JSON.stringify({ functions: core.functions, invoked, invocations, capabilities, statsbeat, node: process.versions.node }));
  process.exit(0);
})().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
`;

export interface Invoke {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** The host's W3C trace context for this invocation (`traceContext.traceParent`). */
  traceParent?: string;
}

export interface LoadOptions {
  /** The Node.js binary the worker runs (Azure runs WEBSITE_NODE_DEFAULT_VERSION); this process's by default. */
  node?: string;
  /** Stop the worker at the end as the host does (its `appTerminate` hooks run). */
  terminate?: boolean;
}

export async function loadPackage(zip: Buffer, env: Record<string, string>, invoke: Invoke[] = [], options: LoadOptions = {}): Promise<HostLoad> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kf-host-'));
  for (const [name, data] of await readZip(zip)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), data);
  }
  const coreDir = path.join(dir, 'node_modules', '@azure', 'functions-core');
  await mkdir(coreDir, { recursive: true });
  await writeFile(path.join(coreDir, 'index.js'), CORE_MODULE);
  const result = path.join(dir, 'stand-in-result.json');
  // Only what the app is given: no inherited KEYFRONT_* settings, and no access to the repository's node_modules.
  const childEnv = { PATH: process.env.PATH ?? '', NODE_PATH: '', ...env, STAND_IN_DIR: dir, STAND_IN_CORE: coreDir, STAND_IN_INVOKE: JSON.stringify(invoke), STAND_IN_RESULT: result, STAND_IN_TERMINATE: String(options.terminate === true) };
  const { stdout, stderr } = await promisify(execFile)(options.node ?? process.execPath, ['-e', LOADER], { cwd: dir, env: childEnv, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  const parsed = JSON.parse(await readFile(result, 'utf8')) as Omit<HostLoad, 'consoleLines' | 'stderr'>;
  return { ...parsed, consoleLines: stdout.split('\n').filter((line) => line.trim() !== ''), stderr };
}
