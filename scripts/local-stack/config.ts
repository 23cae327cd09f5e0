/**
 * Settings of the local stack (`npm start`) and of the commands that find it: the data directory,
 * the region the dev health authority uploads for, and every port, each with its env var and default.
 */
import * as path from 'node:path';

export interface LocalStackConfig {
  /** Absolute path of `KEYFRONT_DATA_DIR`. */
  dataDir: string;
  region: string;
  ports: {
    api: number;
    cosmos: number;
    blob: number;
    edge: number;
    edgeAdmin: number;
  };
}

export const LOCAL_STACK_SETTINGS = [
  { env: 'KEYFRONT_DATA_DIR', default: '.data', description: 'Dev material, stack.json and on-disk emulator data (files 0600, directories 0700).' },
  { env: 'KEYFRONT_REGION', default: '440', description: 'Region the dev health authority uploads for and the publisher exports.' },
  { env: 'KEYFRONT_API_PORT', default: '7071', description: 'Local API host.' },
  { env: 'KEYFRONT_COSMOS_PORT', default: '8081', description: 'Cosmos DB emulator (HTTPS).' },
  { env: 'KEYFRONT_BLOB_PORT', default: '10000', description: 'Azurite blob.' },
  { env: 'KEYFRONT_EDGE_PORT', default: '8080', description: 'Local edge: the only URL phones use.' },
  { env: 'KEYFRONT_EDGE_ADMIN_PORT', default: '8089', description: 'Local edge admin (purge, metrics), loopback only.' },
] as const;

type Env = Readonly<Record<string, string | undefined>>;

/** A local stack configuration problem, naming the variable. */
export class LocalStackConfigError extends Error {
  override readonly name = 'LocalStackConfigError';
}

function setting(env: Env, name: (typeof LOCAL_STACK_SETTINGS)[number]['env']): string {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? LOCAL_STACK_SETTINGS.find((s) => s.env === name)!.default : value;
}

function port(env: Env, name: (typeof LOCAL_STACK_SETTINGS)[number]['env']): number {
  const text = setting(env, name);
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 65535) throw new LocalStackConfigError(`${name} must be a port number from 1 to 65535, got ${JSON.stringify(text)}`);
  return value;
}

export function loadLocalStackConfig(env: Env = process.env, cwd: string = process.cwd()): LocalStackConfig {
  const region = setting(env, 'KEYFRONT_REGION');
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(region)) throw new LocalStackConfigError(`KEYFRONT_REGION must match [A-Za-z0-9_-]{1,16}, got ${JSON.stringify(region)}`);
  const config: LocalStackConfig = {
    dataDir: path.resolve(cwd, setting(env, 'KEYFRONT_DATA_DIR')),
    region,
    ports: {
      api: port(env, 'KEYFRONT_API_PORT'),
      cosmos: port(env, 'KEYFRONT_COSMOS_PORT'),
      blob: port(env, 'KEYFRONT_BLOB_PORT'),
      edge: port(env, 'KEYFRONT_EDGE_PORT'),
      edgeAdmin: port(env, 'KEYFRONT_EDGE_ADMIN_PORT'),
    },
  };
  const used = new Map<number, string>();
  for (const [name, value] of Object.entries(config.ports)) {
    if (used.has(value)) throw new LocalStackConfigError(`ports of ${used.get(value)} and ${name} are both ${value}`);
    used.set(value, name);
  }
  return config;
}

/** Where `npm start` describes the running stack. */
export function stackFileOf(dataDir: string): string {
  return path.join(dataDir, 'stack.json');
}
