import { runInNewContext } from 'node:vm';
import { createLogger } from './log';

function capture(level?: 'debug' | 'info' | 'warn' | 'error') {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('test', { level, write: (line) => lines.push(JSON.parse(line)), now: () => new Date('2026-11-30T00:00:00Z') });
  return { log, lines };
}

describe('the structured logger', () => {
  it('writes one JSON object per line with time, level, component and message', () => {
    const { log, lines } = capture();
    log.info('published', { files: 2 });
    expect(lines).toEqual([{ time: '2026-11-30T00:00:00.000Z', level: 'info', component: 'test', message: 'published', files: 2 }]);
  });

  it('never writes key data, secrets, tokens or client addresses, however deep or however spelled', () => {
    const { log, lines } = capture();
    log.warn('rejected', {
      keyData: 'AAAA',
      request: { headers: { authorization: 'Bearer s3cret', 'x-forwarded-for': '203.0.113.9', X_Forwarded_For: '203.0.113.9' }, verificationPayload: 'eyJ...', hmacKey: 'k' },
      temporaryExposureKeys: [{ key: 'AAAA' }],
      clientIp: '203.0.113.9',
      bytes: Buffer.from('raw'),
      connectionString: 'AccountKey=...',
    });
    const text = JSON.stringify(lines);
    for (const secret of ['AAAA', 's3cret', '203.0.113.9', 'eyJ', 'AccountKey', 'raw']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ keyData: '[redacted]', clientIp: '[redacted]', bytes: '[bytes]', request: { headers: { authorization: '[redacted]' } } });
  });

  it('replaces what is nested too deep to be checked, instead of writing it unchecked', () => {
    const { log, lines } = capture();
    let nested: Record<string, unknown> = { key: 'DEEPKEY', authorization: 'Bearer deep' };
    for (let i = 0; i < 12; i++) nested = { level: nested };
    log.info('deep', { nested });
    const text = JSON.stringify(lines);
    expect(text).not.toContain('DEEPKEY');
    expect(text).not.toContain('deep"}');
    expect(text).toContain('[too deep]');
  });

  it('redacts secrets quoted inside error messages', () => {
    const { log, lines } = capture();
    const error = new Error('request failed: AccountName=devstoreaccount1;AccountKey=abc123==;BlobEndpoint=x, url ?sv=1&sig=s1gn4ture, header Bearer t0ken, certificate eyJhbGciOi.eyJzdWIi.c2ln');
    log.error('failed', { error });
    const message = (lines[0].error as { message: string }).message;
    for (const secret of ['abc123', 's1gn4ture', 't0ken', 'eyJhbGciOi']) expect(message).not.toContain(secret);
    expect(message).toContain('AccountName=devstoreaccount1;AccountKey=[redacted];BlobEndpoint=x');
    expect(message).toContain('header Bearer [redacted]');
  });

  it('drops lines below its level', () => {
    const { log, lines } = capture('warn');
    log.debug('noise');
    log.info('noise');
    log.error('kept');
    expect(lines.map((l) => l.message)).toEqual(['kept']);
  });

  it('writes errors as name, message and code, also errors from another realm', () => {
    const { log, lines } = capture();
    const foreign = runInNewContext('Object.assign(new Error("from a vm context"), { code: "E_VM" })') as Error;
    log.error('failed', { error: foreign, local: Object.assign(new TypeError('local'), { code: 42 }) });
    expect(lines[0]).toMatchObject({ error: { name: 'Error', message: 'from a vm context', code: 'E_VM' }, local: { name: 'TypeError', message: 'local', code: 42 } });
    expect(JSON.stringify(lines[0])).not.toContain('at ');
  });

  it('adds bound fields to every line of a child', () => {
    const { log, lines } = capture();
    log.child({ invocationId: 'abc' }).info('step', { n: 1 });
    expect(lines[0]).toMatchObject({ invocationId: 'abc', n: 1 });
  });
});
