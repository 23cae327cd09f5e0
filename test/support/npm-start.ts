/** `npm start` as a user runs it, in a child process: its output as it comes, and a wait for a line of it. */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

export interface Run {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** `npm start` itself: signals sent to npm must reach the stack (the script execs tsx). */
export function start(env: Record<string, string>): Run {
  const child = spawn('npm', ['start', '--silent'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Waits until the output holds `text`; fails with the output when the stack exits first or the time runs out. */
export async function until(run: Run, text: string, timeoutInMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  while (!run.output().includes(text)) {
    if (run.child.exitCode !== null) throw new Error(`npm start exited early:\n${run.output()}`);
    if (Date.now() > deadline) throw new Error(`no "${text}" after ${timeoutInMs} ms:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
