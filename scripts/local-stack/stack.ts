/**
 * Runs the local stack: takes the data directory's lock (one stack per data directory), starts the
 * services in order, writes `stack.json` for the CLI commands, prints what runs where, and on
 * Ctrl-C/SIGTERM stops everything in reverse order and removes `stack.json`.
 */
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../cli-io';
import type { Env } from '../../platform/settings';
import { STACK_PORTS, stackFileOf, type LocalStackConfig, type PortName } from './config';
import { ensurePortFree } from './ports';
import type { RunningService, StartService } from './service';

/** A reason the stack cannot start, for the operator (no stack trace). */
export class StackError extends Error {
  override readonly name = 'StackError';
}

/** Whether a process with this id runs (a lock or stack.json may outlive its process). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `stack.lock` (holding our pid) or fails naming the stack that holds it; a dead holder's lock is taken over. */
async function lock(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'stack.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return file;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new StackError(`a local stack already runs with data directory ${dataDir} (pid ${holder}); stop it first (Ctrl-C in its terminal, or kill ${holder})`);
      }
      await rm(file, { force: true });
    }
  }
  throw new StackError(`cannot take the lock ${file}`);
}

function explain(error: unknown, service: number, starters: readonly StartService[]): string {
  const failure = error as NodeJS.ErrnoException & { port?: number };
  const name = starters[service]?.name.replace(/^start|Service$/g, '').toLowerCase() || `service ${service + 1}`;
  if (failure?.code === 'EADDRINUSE') return `${name}: port ${failure.port ?? ''} is already in use by another program; free it or choose another port with the KEYFRONT_*_PORT settings`;
  return `${name}: ${failure?.message ?? String(error)}`;
}

/** Fails, naming the service and the setting, when a port of the stack is taken: before anything starts. */
async function checkPortsFree(config: LocalStackConfig): Promise<void> {
  for (const [name, setting] of Object.entries(STACK_PORTS) as Array<[PortName, (typeof STACK_PORTS)[PortName]]>) {
    const port = config.ports[name];
    const free = await ensurePortFree(port).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE') return false;
        throw error;
      },
    );
    if (!free) throw new StackError(`cannot start the local stack: ${setting.service}: port ${port} is already in use by another program; free it or choose another port with ${setting.env}`);
  }
}

export interface RunOptions {
  write?: (text: string) => void;
  /** The environment services read their settings from (`npm start`: the process's). */
  env?: Env;
  /** Signals that stop the stack; tests pass an emitter of their own. */
  signals?: NodeJS.EventEmitter;
}

export interface RunningStack {
  services: RunningService[];
  stackFile: string;
  /** Resolves when the stack has stopped (after a signal or `stop()`). */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

export async function runLocalStack(starters: readonly StartService[], config: LocalStackConfig, options: RunOptions = {}): Promise<RunningStack> {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const signals = options.signals ?? process;
  try {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    await chmod(config.dataDir, 0o700);
  } catch (error) {
    throw new StackError(`KEYFRONT_DATA_DIR ${config.dataDir} cannot be used as the data directory: ${(error as NodeJS.ErrnoException).code === 'EEXIST' ? 'it is a file' : (error as Error).message}`);
  }
  const lockFile = await lock(config.dataDir);
  try {
    await checkPortsFree(config);
  } catch (error) {
    await rm(lockFile, { force: true });
    throw error;
  }
  const stackFile = stackFileOf(config.dataDir);
  const services: RunningService[] = [];
  const stack: Record<string, unknown> = { pid: process.pid, startedAt: new Date().toISOString(), dataDir: config.dataDir };

  const stopAll = async (): Promise<void> => {
    await rm(stackFile, { force: true });
    for (const service of [...services].reverse()) {
      await service.stop().catch((error: unknown) => write(`  ${service.name}: stop failed: ${(error as Error).message}\n`));
    }
    services.length = 0;
    await rm(lockFile, { force: true });
  };

  for (let i = 0; i < starters.length; i++) {
    try {
      const service = await starters[i]({ config, stack, env: options.env });
      services.push(service);
      Object.assign(stack, service.stack);
    } catch (error) {
      await stopAll();
      throw new StackError(`cannot start the local stack: ${explain(error, i, starters)}`);
    }
  }
  stack.services = services.map(({ name, url }) => ({ name, url }));
  await writeFileAtomic(stackFile, `${JSON.stringify(stack, null, 2)}\n`, 0o600);

  const width = Math.max(...services.map((s) => s.name.length));
  write(`keyfront local stack — data directory ${config.dataDir}\n`);
  for (const service of services) write(`  ${service.name.padEnd(width)}  ${service.url}${service.description ? `  ${service.description}` : ''}\n`);
  if (typeof stack.frontDoorId === 'string') write(`  requests to the API must carry  X-Azure-FDID: ${stack.frontDoorId}\n`);
  write(`  endpoints for the CLI: ${stackFile}\n`);
  write('ready. Ctrl-C stops everything.\n');

  let stopping: Promise<void> | undefined;
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      signals.removeListener('SIGINT', onSignal);
      signals.removeListener('SIGTERM', onSignal);
      write('stopping the local stack...\n');
      await stopAll();
      write('stopped.\n');
      resolveStopped();
    })();
    return stopping;
  };
  const onSignal = (): void => void stop();
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  return { services, stackFile, stopped, stop };
}
