/** File helpers of the CLI: reads that fail with a CliError naming the file, writes that never leave half a file. */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
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

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an ISO 8601 instant given on the command line: a date-time with `Z` or a UTC offset (never
 * read as local time), each field in range (`2026-02-30` does not roll over into March).
 */
export function parseInstantOption(value: string, option: string): Date {
  const match = INSTANT.exec(value);
  if (!match) throw new CliError(`${option} must be an ISO 8601 date-time with Z or a UTC offset, such as 2026-11-30T00:00:00Z or 2026-11-30T01:00:00+01:00, got ${JSON.stringify(value)}`);
  const [, year, month, day, hour, minute, second = '0', fraction = '', zone, sign, offsetHours, offsetMinutes] = match;
  const fields = [year, month, day, hour, minute, second].map(Number);
  const utc = new Date(Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5]));
  const read = [utc.getUTCFullYear(), utc.getUTCMonth() + 1, utc.getUTCDate(), utc.getUTCHours(), utc.getUTCMinutes(), utc.getUTCSeconds()];
  if (read.some((field, i) => field !== fields[i]) || (zone !== 'Z' && (Number(offsetHours) > 23 || Number(offsetMinutes) > 59))) {
    throw new CliError(`${option} must be an ISO 8601 date-time that exists, got ${JSON.stringify(value)} (a field is out of range)`);
  }
  const offsetMs = zone === 'Z' ? 0 : (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  return new Date(utc.getTime() - offsetMs + Math.floor(Number(`0${fraction}`) * 1000));
}

/** Parses an ISO 8601 date-time given on the command line. */
export function parseIsoOption(value: string, option: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new CliError(`${option} must be an ISO 8601 date-time such as 2026-11-30T00:00:00Z, got ${JSON.stringify(value)}`);
  }
  return date;
}
