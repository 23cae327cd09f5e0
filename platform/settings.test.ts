import { ConfigError, SettingsReader } from './settings';

const TABLE = [{ env: 'A_PORT', default: '8080' }, { env: 'A_NAME' }, { env: 'A_FLAG', default: 'true' }, { env: 'A_LIST', default: 'x, y' }];

describe('SettingsReader', () => {
  it('takes the value as set, trimmed, else the default; an empty value counts as unset', () => {
    const read = new SettingsReader({ A_NAME: '  kf  ', A_PORT: ' ' }, TABLE);
    expect([read.string('A_NAME'), read.string('A_PORT'), read.raw('A_PORT'), read.list('A_LIST')]).toEqual(['kf', '8080', undefined, ['x', 'y']]);
    expect(read.problems).toEqual([]);
  });

  it('collects every problem with the variable and the value it got, instead of stopping at the first', () => {
    const read = new SettingsReader({ A_PORT: '80a', A_FLAG: 'yes', A_LIST: 'ftp://x' }, TABLE);
    expect(read.integer('A_PORT', 1, 65535)).toBe(1);
    expect(read.boolean('A_FLAG')).toBe(true);
    expect(read.required('A_NAME')).toBe('');
    expect(read.url('A_LIST')).toBe('http://invalid');
    expect(read.oneOf('A_FLAG', ['on', 'off'])).toBe('on');
    expect(read.matching('A_PORT', /^\d+$/, 'digits')).toBe('80a');
    expect(read.problems).toEqual([
      'A_PORT must be an integer from 1 to 65535, got "80a"',
      'A_FLAG must be true or false, got "yes"',
      'A_NAME is required',
      'A_LIST must be an http(s) URL, got "ftp://x"',
      'A_FLAG must be one of on, off, got "yes"',
      'A_PORT must be digits, got "80a"',
    ]);
  });

  it('reads integers in range, booleans as true/false/1/0, and URLs without their trailing slash', () => {
    const read = new SettingsReader({ A_PORT: '65535', A_FLAG: '0', A_NAME: 'https://example.org/' }, TABLE);
    expect([read.integer('A_PORT', 1, 65535), read.boolean('A_FLAG'), read.url('A_NAME')]).toEqual([65535, false, 'https://example.org']);
    expect(read.integer('A_PORT', 1, 1000, 'a small number')).toBe(1);
    expect(read.problems).toEqual(['A_PORT must be a small number, got "65535"']);
  });
});

describe('ConfigError', () => {
  it('is thrown once with every problem, saying what was read', () => {
    const read = new SettingsReader({ A_PORT: 'x' }, TABLE, 'demo settings');
    read.integer('A_PORT', 1, 2);
    read.required('A_NAME', 'when A_FLAG=true');
    expect(() => read.throwIfAny()).toThrow(new ConfigError(['A_PORT must be an integer from 1 to 2, got "x"', 'A_NAME is required when A_FLAG=true'], 'demo settings'));
    expect(() => read.throwIfAny()).toThrow(/^invalid demo settings:\n {2}A_PORT/);
    expect(() => new SettingsReader({}, TABLE).throwIfAny()).not.toThrow();
  });

  it('never repeats the value of a secret', () => {
    const read = new SettingsReader({ A_KEY: 'hunter2-very-secret' }, [{ env: 'A_KEY', secret: true }]);
    read.matching('A_KEY', /^v\d+:/, 'version:base64');
    expect(read.problems).toEqual(['A_KEY must be version:base64, got another value (not shown: a secret)']);
  });

  it('reads an optional setting only when it is set', () => {
    const read = new SettingsReader({ A_NAME: 'ftp://x' }, TABLE);
    expect(read.optional('A_OTHER', (name) => read.url(name))).toBeUndefined();
    expect(read.optional('A_NAME', (name) => read.url(name))).toBe('http://invalid');
    expect(read.problems).toEqual(['A_NAME must be an http(s) URL, got "ftp://x"']);
  });
});
