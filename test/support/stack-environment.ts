/** The environment of a local stack started by a test: its own data directory and a free port for every port of the stack. */
import { STACK_PORTS } from '../../scripts/local-stack/config';
import { freePort } from '../../scripts/local-stack/ports';

export async function freeStackEnvironment(dataDir: string): Promise<Record<string, string>> {
  const env: Record<string, string> = { KEYFRONT_DATA_DIR: dataDir, KEYFRONT_LOG_LEVEL: 'warn' };
  for (const port of Object.values(STACK_PORTS)) env[port.env] = String(await freePort());
  return env;
}
