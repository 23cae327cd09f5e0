/** The environment of a local stack started by a test: its own data directory and a free port for every port of the stack. */
import { STACK_PORTS } from '../../scripts/local-stack/config';
import { freePorts } from '../../scripts/local-stack/ports';

export async function freeStackEnvironment(dataDir: string): Promise<Record<string, string>> {
  const env: Record<string, string> = { KEYFRONT_DATA_DIR: dataDir, KEYFRONT_LOG_LEVEL: 'warn' };
  const specs = Object.values(STACK_PORTS);
  const ports = await freePorts(specs.length);
  specs.forEach((spec, i) => (env[spec.env] = String(ports[i])));
  return env;
}
