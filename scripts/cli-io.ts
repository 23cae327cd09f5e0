/**
 * Input and output helpers of the CLI: reads that fail with a CliError naming the file, writes
 * that never leave half a file, and stdout that ends quietly when its reader goes away.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseIsoInstant } from '../platform/instant';
import { CliError } from './cli-error';

export async function readInputFile(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new CliError(`cannot read ${what} ${file}: ${why}`);
  }
}

export async function readJsonFile(file: string, what: string): Promise<unknown> {
  const text = (await readInputFile(file, what)).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`${what} ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Writes to a temporary sibling and renames it into place, so a crash never leaves a partial file. */
export async function writeFileAtomic(file: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { mode, flag: 'wx' });
    await chmod(tmp, mode);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw new CliError(`cannot write ${file}: ${(error as Error).message}`, 1);
  }
}

/**
 * Parses an ISO 8601 instant given on the command line (platform/instant.ts): a time without a zone
 * is refused, and so are dates and times that do not exist. `dateOnly` also allows a bare date,
 * meaning its UTC midnight.
 */
export function parseIsoOption(value: string, option: string, options: { dateOnly?: boolean } = {}): Date {
  const date = parseIsoInstant(value, options);
  if (!date) throw new CliError(`${option} must be an ISO 8601 date-time with a time zone, such as 2026-11-30T00:00:00Z, got ${JSON.stringify(value)}`);
  return date;
}

/** A repeatable option's values, in the order given (commander's argument parser). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** One line of output on stdout. */
export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** A value as JSON on stdout: one line, or indented with `pretty`. */
export function printJson(value: unknown, pretty = false): void {
  printLine(pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value));
}

/**
 * Ends the process quietly when the reader of `stream` goes away (`keyfront ... | head`): the
 * write fails with EPIPE, which is the reader's choice, not a failure of the command, so it is
 * neither a stack trace nor an error message. Other write errors are reported in one line.
 */
export function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout, exit: (code: number) => void = (code) => process.exit(code)): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') return exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    process.stderr.write(`keyfront: cannot write the output: ${error.message}\n`);
    exit(1);
  });
}
