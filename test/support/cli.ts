/** Runs the real `keyfront` CLI (bin/keyfront.js) in a child process, as an operator would. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

export const KEYFRONT_BIN = path.resolve(__dirname, '..', '..', 'bin', 'keyfront.js');

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runKeyfront(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutInMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KEYFRONT_BIN, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutInMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** A stack trace line, which an operator must never see. */
export const STACK_TRACE = /^\s+at (?:async )?(?:\S.* \(.+\)|(?:node:|file:|\/)\S+:\d+:\d+)$/m;
