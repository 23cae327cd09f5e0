import { toStoreError } from './cosmos-store';
import { StoreUnavailableError } from './exposure-store';

function cosmosError(fields: Record<string, unknown>): Error {
  return Object.assign(new Error('failed'), { name: 'ErrorResponse' }, fields);
}

describe('toStoreError', () => {
  it('turns 429 into StoreUnavailableError with the retry-after of the response', () => {
    const mapped = toStoreError(cosmosError({ code: 429, retryAfterInMs: 1500 }), 'store an exposure');
    expect(mapped).toBeInstanceOf(StoreUnavailableError);
    expect((mapped as StoreUnavailableError).retryAfterInMs).toBe(1500);
  });

  it('defaults the retry-after of a 429 without one to a second', () => {
    expect((toStoreError(cosmosError({ code: 429 }), 'x') as StoreUnavailableError).retryAfterInMs).toBe(1000);
  });

  it.each([408, 410, 449, 500, 502, 503, 504, 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'])('treats %p as the store being unavailable', (code) => {
    expect(toStoreError(cosmosError({ code }), 'x')).toBeInstanceOf(StoreUnavailableError);
  });

  it('treats a request timeout as the store being unavailable', () => {
    expect(toStoreError(Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'x')).toBeInstanceOf(StoreUnavailableError);
  });

  it.each([400, 401, 403, 404, 409, 413])('passes %p through: a fault of ours or of the configuration, not of availability', (code) => {
    const error = cosmosError({ code });
    expect(toStoreError(error, 'x')).toBe(error);
  });

  it('passes aborts through unchanged', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(toStoreError(abort, 'x')).toBe(abort);
  });
});
