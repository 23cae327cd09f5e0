/**
 * Reading settings from environment variables, shared by every component's `config.ts` (like the
 * logger): each setting has one row in its component's table (variable and default), is read once
 * at start-up, and every problem is collected with the variable's name, so an operator sees them
 * all at once. Values of secrets are never echoed: callers that read them word their own messages.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** Region codes as settings, the export format and blob names use them (e.g. `440`, `JP`, `DE`). */
export const REGION_PATTERN = /^[A-Za-z0-9_-]{1,16}$/;

/** The part of a settings-table row the reader needs. */
export interface SettingRow {
  env: string;
  /** The default as one would write it in the environment; absent: no default. */
  default?: string;
}

export class SettingsReader {
  readonly problems: string[] = [];

  constructor(
    private readonly env: Env,
    private readonly table: readonly SettingRow[],
  ) {}

  /** The value as set (trimmed); empty counts as unset. */
  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  /** The value as set, else the table's default. */
  string(name: string): string | undefined {
    return this.raw(name) ?? this.table.find((setting) => setting.env === name)?.default;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined) this.problems.push(`${name} is required`);
    return value ?? '';
  }

  /** A comma-separated list; empty items are dropped. */
  list(name: string): string[] {
    return (this.string(name) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  matching(name: string, pattern: RegExp, what: string): string {
    const value = this.string(name) ?? '';
    if (!pattern.test(value)) this.problems.push(`${name} must be ${what}, got ${JSON.stringify(value)}`);
    return value;
  }

  integer(name: string, min: number, max: number, what = `an integer from ${min} to ${max}`): number {
    const text = this.string(name) ?? '';
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      this.problems.push(`${name} must be ${what}, got ${JSON.stringify(text)}`);
      return min;
    }
    return value;
  }

  boolean(name: string): boolean {
    const text = (this.string(name) ?? '').toLowerCase();
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    this.problems.push(`${name} must be true or false, got ${JSON.stringify(text)}`);
    return true;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const text = this.string(name) ?? values[0];
    if ((values as readonly string[]).includes(text)) return text as T;
    this.problems.push(`${name} must be one of ${values.join(', ')}, got ${JSON.stringify(text)}`);
    return values[0];
  }

  /** An http(s) URL without its trailing slash. */
  url(name: string): string {
    const text = this.string(name) ?? '';
    try {
      const url = new URL(text);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
      return text.replace(/\/$/, '');
    } catch {
      this.problems.push(`${name} must be an http(s) URL, got ${JSON.stringify(text)}`);
      return 'http://invalid';
    }
  }
}
