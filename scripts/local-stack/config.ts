/**
 * Settings of the local stack (`npm start`) and of the commands that find it: the data directory,
 * the region the dev health authority uploads for, and every port, each with its env var and default.
 */
import * as path from 'node:path';
import { REGION_PATTERN, SettingsReader, type Env } from '../../platform/settings';

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

/** A local stack configuration problem, naming the variable. */
export class LocalStackConfigError extends Error {
  override readonly name = 'LocalStackConfigError';
}

export function loadLocalStackConfig(env: Env = process.env, cwd: string = process.cwd()): LocalStackConfig {
  const read = new SettingsReader(env, LOCAL_STACK_SETTINGS);
  const port = (name: (typeof LOCAL_STACK_SETTINGS)[number]['env']) => read.integer(name, 1, 65535, 'a port number from 1 to 65535');
  const config: LocalStackConfig = {
    dataDir: path.resolve(cwd, read.required('KEYFRONT_DATA_DIR')),
    region: read.matching('KEYFRONT_REGION', REGION_PATTERN, `a region code matching ${REGION_PATTERN.source}`),
    ports: {
      api: port('KEYFRONT_API_PORT'),
      cosmos: port('KEYFRONT_COSMOS_PORT'),
      blob: port('KEYFRONT_BLOB_PORT'),
      edge: port('KEYFRONT_EDGE_PORT'),
      edgeAdmin: port('KEYFRONT_EDGE_ADMIN_PORT'),
    },
  };
  if (read.problems.length === 0) {
    const used = new Map<number, string>();
    for (const [name, value] of Object.entries(config.ports)) {
      if (used.has(value)) read.problems.push(`ports of ${used.get(value)} and ${name} are both ${value}`);
      used.set(value, name);
    }
  }
  if (read.problems.length > 0) throw new LocalStackConfigError(read.problems.join('; '));
  return config;
}

/** Where `npm start` describes the running stack. */
export function stackFileOf(dataDir: string): string {
  return path.join(dataDir, 'stack.json');
}
