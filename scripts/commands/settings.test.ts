import { main } from '../cli';
import { allSettings, settingsMarkdown } from '../settings/table';

let out: string;
let err: string;

beforeEach(() => {
  out = '';
  err = '';
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
});
afterEach(() => jest.restoreAllMocks());

describe('keyfront settings', () => {
  it('prints the markdown table of every variable', async () => {
    await expect(main(['settings'])).resolves.toBe(0);
    expect([out, err]).toEqual([settingsMarkdown(), '']);
    expect(out).toMatch(/^\| `KEYFRONT_FRONT_DOOR_ID` \| required \| api \| /m);
  });

  it('prints JSON rows with --json', async () => {
    await expect(main(['settings', '--json'])).resolves.toBe(0);
    expect(JSON.parse(out)).toEqual(allSettings());
    expect(allSettings().find((row) => row.env === 'KEYFRONT_COSMOS_SHARDS')).toMatchObject({ default: '16', readers: ['api', 'publisher'] });
  });

  it.each([[['settings', '--yaml']], [['settings', 'extra']]])('refuses %j with the usage exit code and prints nothing on stdout', async (argv) => {
    await expect(main(argv)).resolves.toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(/error: (unknown option '--yaml'|too many arguments)/);
  });

  it('has help', async () => {
    await expect(main(['settings', '--help'])).resolves.toBe(0);
    expect(out).toContain('every environment variable keyfront reads');
  });
});
