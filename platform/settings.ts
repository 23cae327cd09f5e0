/**
 * Reading settings from environment variables, for every deployable's `config.ts` (api, publisher,
 * edge-config, the local stack, the preflight): each setting is one row of its component's table
 * (variable, default, description), read once at start-up, and every problem is collected, naming
 * the variable, the value it got and what is allowed, so an operator sees them all at once. The
 * value of a secret is never echoed.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** Region codes as settings, the export format and blob names use them (e.g. `440`, `JP`, `DE`). */
export const REGION_PATTERN = /^[A-Za-z0-9_-]{1,16}$/;

/** One row of a settings table: the reader, README's Settings table and `keyfront settings` read it. */
export interface Setting {
  env: string;
  /** The default as one would write it in the environment; absent: no default. */
  default?: string;
  /** Needed in every setup (settings needed only in some modes say so in their description). */
  required?: boolean;
  /** A key or credential: its value never appears in an error. */
  secret?: boolean;
  description: string;
}

/** Settings that cannot be used; `problems` lists each one, naming its variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly problems: readonly string[],
    /** What was being read, for the first line of the message (e.g. `publisher settings`). */
    what = 'settings',
  ) {
    super(`invalid ${what}:\n  ${problems.join('\n  ')}`);
  }
}

export class SettingsReader {
  readonly problems: string[] = [];

  constructor(
    private readonly env: Env,
    private readonly table: readonly Pick<Setting, 'env' | 'default' | 'secret'>[],
    /** Names what is read in the `ConfigError` (e.g. `publisher settings`). */
    private readonly what = 'settings',
  ) {}

  /** Throws a `ConfigError` with every problem found so far. */
  throwIfAny(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems, this.what);
  }

  /** Records that `name` holds a value it must not; a secret's value is not repeated. */
  invalid(name: string, allowed: string, value = this.string(name) ?? ''): void {
    const secret = this.table.find((setting) => setting.env === name)?.secret === true;
    this.problems.push(`${name} must be ${allowed}, ${secret ? 'got another value (not shown: a secret)' : `got ${JSON.stringify(value)}`}`);
  }

  /** The value as set (trimmed); empty counts as unset. */
  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  /** The value as set, else the table's default. */
  string(name: string): string | undefined {
    return this.raw(name) ?? this.table.find((setting) => setting.env === name)?.default;
  }

  /** The value or default; a problem when there is none (`why`: e.g. `when KEYFRONT_SIGNER=key-vault`). */
  required(name: string, why?: string): string {
    const value = this.string(name);
    if (value === undefined) this.problems.push(`${name} is required${why ? ` ${why}` : ''}`);
    return value ?? '';
  }

  /** `read(name)` when the variable is set or has a default, else `undefined` without a problem. */
  optional<T>(name: string, read: (name: string) => T): T | undefined {
    return this.string(name) === undefined ? undefined : read(name);
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
    if (!pattern.test(value)) this.invalid(name, what, value);
    return value;
  }

  integer(name: string, min: number, max: number, what = `an integer from ${min} to ${max}`): number {
    const text = this.string(name) ?? '';
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      this.invalid(name, what, text);
      return min;
    }
    return value;
  }

  boolean(name: string): boolean {
    const text = (this.string(name) ?? '').toLowerCase();
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    this.invalid(name, 'true or false', text);
    return true;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const text = this.string(name) ?? values[0];
    if ((values as readonly string[]).includes(text)) return text as T;
    this.invalid(name, `one of ${values.join(', ')}`, text);
    return values[0];
  }

  /** An http(s) URL without its trailing slash. */
  url(name: string): string {
    const text = this.string(name) ?? '';
    try {
      const url = new URL(text);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
      return text.replace(/\/+$/, '');
    } catch {
      this.invalid(name, 'an http(s) URL', text);
      return 'http://invalid';
    }
  }
}
