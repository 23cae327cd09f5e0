/**
 * Settings of the local stack (`npm start`) and of the commands that find it: the data directory,
 * the region the dev health authority uploads for, and every port, each with its env var and default.
 */
import * as path from 'node:path';
import { ConfigError, REGION_PATTERN, SettingsReader, type Env, type Setting } from '../../platform/settings';

/** Every port of the stack: its variable, default, and the service that listens on it. */
export const STACK_PORTS = {
  api: { env: 'KEYFRONT_API_PORT', default: '7071', service: 'api', description: 'Local API host.' },
  cosmos: { env: 'KEYFRONT_COSMOS_PORT', default: '8081', service: 'cosmos', description: 'Cosmos DB emulator (HTTPS).' },
  blob: { env: 'KEYFRONT_BLOB_PORT', default: '10000', service: 'publisher', description: 'Azurite blob.' },
  edge: { env: 'KEYFRONT_EDGE_PORT', default: '8080', service: 'edge', description: 'Local edge: the only URL phones use.' },
  edgeAdmin: { env: 'KEYFRONT_EDGE_ADMIN_PORT', default: '8089', service: 'edge', description: 'Local edge admin (purge, metrics), loopback only.' },
} as const satisfies Record<string, Setting & { service: string }>;

export type PortName = keyof typeof STACK_PORTS;

export interface LocalStackConfig {
  /** Absolute path of `KEYFRONT_DATA_DIR`. */
  dataDir: string;
  region: string;
  ports: Record<PortName, number>;
}

const DATA_DIR: Setting = { env: 'KEYFRONT_DATA_DIR', default: '.data', description: 'Dev material, stack.json and on-disk emulator data (files 0600, directories 0700).' };

export const LOCAL_STACK_SETTINGS: readonly Setting[] = [
  DATA_DIR,
  { env: 'KEYFRONT_REGION', default: '440', description: 'Region the dev health authority uploads for and the publisher exports.' },
  ...Object.values(STACK_PORTS),
];

/** @deprecated The one `ConfigError` of platform/settings; this name stays until every branch has merged. */
export const LocalStackConfigError = ConfigError;
export { ConfigError };

export function loadLocalStackConfig(env: Env, cwd: string = process.cwd()): LocalStackConfig {
  const read = new SettingsReader(env, LOCAL_STACK_SETTINGS, 'local stack settings');
  const ports = Object.fromEntries(
    (Object.entries(STACK_PORTS) as Array<[PortName, Setting]>).map(([name, setting]) => [name, read.integer(setting.env, 1, 65535, 'a port number from 1 to 65535')]),
  ) as Record<PortName, number>;
  const config: LocalStackConfig = {
    dataDir: path.resolve(cwd, read.required('KEYFRONT_DATA_DIR')),
    region: read.matching('KEYFRONT_REGION', REGION_PATTERN, `a region code matching ${REGION_PATTERN.source}`),
    ports,
  };
  if (read.problems.length === 0) {
    const used = new Map<number, string>();
    for (const [name, value] of Object.entries(config.ports)) {
      if (used.has(value)) read.problems.push(`ports of ${used.get(value)} and ${name} are both ${value}`);
      used.set(value, name);
    }
  }
  read.throwIfAny();
  return config;
}

/** Only the data directory (absolute), for commands that look for a running stack. */
export function localStackDataDir(env: Env, cwd: string = process.cwd()): string {
  return path.resolve(cwd, new SettingsReader(env, [DATA_DIR]).required(DATA_DIR.env));
}

/** Where `npm start` describes the running stack. */
export function stackFileOf(dataDir: string): string {
  return path.join(dataDir, 'stack.json');
}
