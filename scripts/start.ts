/**
 * `npm start`: the local stack. Its services, their ports and what each needs are described in
 * `local-stack/services.ts`; they start in that order and stop in reverse. `scripts/preflight.js`
 * has checked the Node version before; the ports are checked before anything starts.
 */
import { ConfigError, loadLocalStackConfig } from './local-stack/config';
import { STACK_SERVICES } from './local-stack/services';
import { runLocalStack, StackError } from './local-stack/stack';

async function main(): Promise<number> {
  try {
    const stack = await runLocalStack(
      STACK_SERVICES.map((service) => service.start),
      loadLocalStackConfig(process.env),
      { env: process.env },
    );
    await stack.stopped;
    return 0;
  } catch (error) {
    // A service's own failure (bad settings, missing material, port in use) arrives as a StackError naming it.
    if (error instanceof StackError || error instanceof ConfigError) {
      process.stderr.write(`keyfront start: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`keyfront start: unexpected failure: ${(error as Error)?.message ?? String(error)}\n`);
    return 1;
  }
}

void main().then((code) => process.exit(code));
