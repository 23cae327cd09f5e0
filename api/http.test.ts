import { HttpRequest, HttpResponse } from '@azure/functions';
import { HttpError } from './errors';
import { errorResponse, jsonResponse, MAX_BODY_BYTES, readJsonBody, requireKnownFields, RESPONSE_BLOCK_BYTES } from './http';
import { createLogger } from '../platform/log';
import { StoreUnavailableError } from '../exposures/exposure-store';

async function bodyOf(init: ReturnType<typeof jsonResponse>): Promise<string> {
  return new HttpResponse(init).text();
}

function request(body: string | Buffer | undefined, headers: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({ method: 'POST', url: 'http://127.0.0.1/api/x', headers, ...(body === undefined ? {} : { body: { bytes: Buffer.from(body) } }) });
}

async function refusal(promise: Promise<unknown>): Promise<[number, string]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof HttpError)) throw new Error(`expected an HttpError, got ${String(error)}`);
  return [error.status, error.code];
}

describe('jsonResponse', () => {
  it.each([0, 1, 100, 1000, 1500])('pads a body of %p extra characters to a multiple of the block with random base64', async (extra) => {
    const text = await bodyOf(jsonResponse(200, { a: 'x'.repeat(extra) }));
    expect(text.length % RESPONSE_BLOCK_BYTES).toBe(0);
    const parsed = JSON.parse(text) as { a: string; padding: string };
    expect(parsed.a).toBe('x'.repeat(extra));
    expect(parsed.padding).toMatch(/^[A-Za-z0-9+/]*$/);
  });

  it('pads with different bytes each time', async () => {
    const [a, b] = [await bodyOf(jsonResponse(200, {})), await bodyOf(jsonResponse(200, {}))];
    expect(a).not.toBe(b);
    expect(a.length).toBe(b.length);
  });

  it('marks answers JSON, not cacheable and not sniffable', () => {
    const headers = jsonResponse(200, {}).headers as Record<string, string>;
    expect(headers['Content-Type']).toBe('application/json; charset=utf-8');
    expect(headers['Cache-Control']).toBe('no-store');
    expect(headers['X-Content-Type-Options']).toBe('nosniff');
  });
});

describe('errorResponse', () => {
  const lines: string[] = [];
  const logger = createLogger('test', { write: (line) => lines.push(line) });
  beforeEach(() => {
    lines.length = 0;
  });

  it('answers an HttpError with its status, code, message and headers', async () => {
    const init = errorResponse(new HttpError(405, 'method_not_allowed', 'POST only', { Allow: 'POST' }), logger);
    expect(init.status).toBe(405);
    expect((init.headers as Record<string, string>).Allow).toBe('POST');
    expect(JSON.parse(await bodyOf(init))).toMatchObject({ error: 'POST only', code: 'method_not_allowed' });
  });

  it.each([
    [1, '1'],
    [1000, '1'],
    [1001, '2'],
    [2345, '3'],
  ])('answers an unavailable store (retry after %p ms) 503 with Retry-After %s', async (ms, seconds) => {
    const init = errorResponse(new StoreUnavailableError('throttled', ms), logger);
    expect(init.status).toBe(503);
    expect((init.headers as Record<string, string>)['Retry-After']).toBe(seconds);
    expect(JSON.parse(await bodyOf(init)).code).toBe('store_unavailable');
  });

  it('answers anything else with a generic 500 and logs it, never echoing internals', async () => {
    const init = errorResponse(new Error('connection string AccountKey=abc at /srv/x.ts:12'), logger);
    expect(init.status).toBe(500);
    const text = await bodyOf(init);
    expect(JSON.parse(text)).toMatchObject({ error: 'internal error', code: 'internal_error' });
    expect(text).not.toContain('AccountKey');
    expect(lines.some((line) => line.includes('unexpected failure'))).toBe(true);
  });

  it('refuses to build an HttpError whose status does not belong to its code', () => {
    expect(() => new HttpError(500, 'bad_request', 'x')).toThrow(RangeError);
  });
});

describe('readJsonBody', () => {
  it('parses a JSON body', async () => {
    await expect(readJsonBody(request('{"a":1}', { 'content-type': 'application/json; charset=utf-8' }))).resolves.toEqual({ a: 1 });
    await expect(readJsonBody(request('{"a":1}', { 'content-type': 'Application/JSON; Charset="UTF-8"' }))).resolves.toEqual({ a: 1 });
  });

  it.each([
    ['no Content-Type', '{}', {}, [415, 'unsupported_media_type']],
    ['text/plain', '{}', { 'content-type': 'text/plain' }, [415, 'unsupported_media_type']],
    ['application/jsonx', '{}', { 'content-type': 'application/jsonx' }, [415, 'unsupported_media_type']],
    ['JSON in Latin-1', '{}', { 'content-type': 'application/json; charset=latin1' }, [415, 'unsupported_media_type']],
    ['JSON in UTF-16', '{}', { 'content-type': 'application/json; charset="UTF-16"' }, [415, 'unsupported_media_type']],
    ['a declared length over the limit', '{}', { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1) }, [413, 'payload_too_large']],
    ['more bytes than the limit', `"${'a'.repeat(MAX_BODY_BYTES)}"`, { 'content-type': 'application/json' }, [413, 'payload_too_large']],
    ['an empty body', '', { 'content-type': 'application/json' }, [400, 'bad_request']],
    ['truncated JSON', '{"a":', { 'content-type': 'application/json' }, [400, 'bad_request']],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), { 'content-type': 'application/json' }, [400, 'bad_request']],
  ])('refuses %s', async (_name, body, headers, expected) => {
    expect(await refusal(readJsonBody(request(body, headers)))).toEqual(expected);
  });

  it('accepts a body of exactly the limit', async () => {
    const body = `"${'a'.repeat(MAX_BODY_BYTES - 2)}"`;
    await expect(readJsonBody(request(body, { 'content-type': 'application/json' }))).resolves.toHaveLength(MAX_BODY_BYTES - 2);
  });

  it('allows no body at all where the body is optional', async () => {
    await expect(readJsonBody(request(undefined), { optional: true })).resolves.toBeUndefined();
    expect(await refusal(readJsonBody(request('{}'), { optional: true }))).toEqual([415, 'unsupported_media_type']);
    // The media type is checked before the size, also where the body is optional.
    expect(await refusal(readJsonBody(request('x'.repeat(MAX_BODY_BYTES + 10)), { optional: true }))).toEqual([415, 'unsupported_media_type']);
  });
});

describe('requireKnownFields', () => {
  const allowed = new Set(['a']);
  it.each([['[]'], ['null'], ['1'], ['"s"'], ['{"b":1}'], ['{"__proto__":{}}']])('refuses %s', (json) => {
    expect(() => requireKnownFields(JSON.parse(json), allowed, 'the body')).toThrow(HttpError);
  });
  it('accepts known fields', () => {
    expect(requireKnownFields({ a: 1 }, allowed, 'the body')).toEqual({ a: 1 });
  });
});
