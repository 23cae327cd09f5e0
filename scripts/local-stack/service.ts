/**
 * The shape of a service of the local stack: `scripts/start.ts` starts a list of these in order.
 * A service may add entries to `stack.json` (its endpoints), which later services read.
 */
import type { Env } from '../../platform/settings';
import type { LocalStackConfig } from './config';

export interface StackContext {
  config: LocalStackConfig;
  /** The environment the stack was started with: each service reads its own settings from it (its config module). */
  env?: Env;
  /** What `stack.json` will hold, as filled in by the services started so far. */
  stack: Record<string, unknown>;
}

export interface RunningService {
  name: string;
  url: string;
  /** One line for the printout: what it is. */
  description?: string;
  /** Entries for `stack.json` (e.g. `apiUrl`). */
  stack?: Record<string, unknown>;
  stop(): Promise<void>;
}

export type StartService = (context: StackContext) => Promise<RunningService>;
