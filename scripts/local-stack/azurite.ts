/**
 * The Blob storage stand-in: Azurite's blob service (pinned to 3.35.0, the last for Node 20) in a
 * child process, telemetry off, on loopback. In memory for tests, on disk under the data
 * directory for the local stack. The real `@azure/storage-blob` client talks to it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { ensurePortFree, freePort, LOOPBACK, waitForPort } from './ports';

/** Azurite's well-known development account (public, documented; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  port?: number;
  /** Persist blobs in this folder; in memory when absent. */
  location?: string;
  /**
   * HTTPS with this certificate and key (PEM files) and Entra ID bearer tokens checked as Azurite's
   * `--oauth basic` does (issuer, audience, lifetime): what a client with a TokenCredential needs.
   */
  tls?: { certFile: string; keyFile: string; oauth?: boolean };
  /** Accounts besides devstoreaccount1, name -> base64 key (Azurite's AZURITE_ACCOUNTS). */
  accounts?: Record<string, string>;
}

export interface Azurite {
  port: number;
  /** `http://127.0.0.1:{port}/devstoreaccount1`: the account's blob endpoint. */
  blobEndpoint: string;
  connectionString: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function azuriteConnectionString(blobEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint};`;
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const port = options.port ?? (await freePort());
  const main = require.resolve('azurite/dist/src/blob/main.js');
  const args = [main, '--blobHost', LOOPBACK, '--blobPort', String(port), '--disableTelemetry', '--silent', '--skipApiVersionCheck', '--loose'];
  if (options.tls) args.push('--cert', options.tls.certFile, '--key', options.tls.keyFile, ...(options.tls.oauth ? ['--oauth', 'basic'] : []));
  if (options.location) {
    await mkdir(options.location, { recursive: true, mode: 0o700 });
    args.push('--location', path.resolve(options.location));
  } else {
    args.push('--inMemoryPersistence');
  }
  // Another program on the port would answer the readiness check in Azurite's place.
  await ensurePortFree(port);
  // The IPC channel and the preload make Azurite exit with this process, however it dies.
  const accounts = Object.entries(options.accounts ?? {});
  const env = accounts.length ? { ...process.env, AZURITE_ACCOUNTS: [`${AZURITE_ACCOUNT}:${AZURITE_ACCOUNT_KEY}`, ...accounts.map(([name, key]) => `${name}:${key}`)].join(';') } : process.env;
  const child = spawn(process.execPath, ['--require', path.join(__dirname, 'exit-with-parent.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env });
  child.channel?.unref();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      // Ready once the port answers while our child still runs (a child that died is caught below).
      waitForPort(port).then(() => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`azurite exited before listening on ${port}: ${stderr.trim()}`);
      }),
      exited.then(() => {
        throw new Error(`azurite exited before listening on ${port}: ${stderr.trim()}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const blobEndpoint = `${options.tls ? 'https' : 'http'}://${LOOPBACK}:${port}/${AZURITE_ACCOUNT}`;
  return {
    port,
    blobEndpoint,
    connectionString: azuriteConnectionString(blobEndpoint),
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
