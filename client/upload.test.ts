import { uploadDigest } from '../api/attestation/verifier';
import { parsePublishRequest } from '../api/upload/upload';
import { attestationDigest, chaffRequest, paddedBody, REQUEST_BLOCK_BYTES, upload } from './upload';

describe('request padding and chaff', () => {
  it('pads every body to a multiple of the block, whatever it holds', () => {
    for (const fields of [{}, { a: 'x'.repeat(100) }, { a: 'x'.repeat(REQUEST_BLOCK_BYTES) }]) {
      const body = paddedBody(fields);
      expect(new TextEncoder().encode(body).length % REQUEST_BLOCK_BYTES).toBe(0);
      expect(JSON.parse(body)).toMatchObject({ ...fields, padding: expect.stringMatching(/^[A-Za-z0-9+/]*$/) });
    }
  });

  it('makes chaff of the shape the API reads, one block like a real upload', () => {
    const chaff = chaffRequest(Date.UTC(2026, 11, 1, 12), () => 0.99);
    expect(chaff.temporaryExposureKeys).toHaveLength(14);
    expect(() => parsePublishRequest(JSON.parse(paddedBody({ ...chaff })))).not.toThrow();
    expect(paddedBody({ ...chaff }).length).toBe(REQUEST_BLOCK_BYTES);
  });

  it.each([
    ['no keys', { temporaryExposureKeys: [] }],
    ['31 keys', { temporaryExposureKeys: Array.from({ length: 31 }, () => ({ key: 'AAAAAAAAAAAAAAAAAAAAAA==', rollingStartNumber: 1, rollingPeriod: 144 })) }],
    ['no certificate', { verificationPayload: '' }],
  ])('refuses an upload with %s before sending anything: bad_request', async (_name, change) => {
    const fetch = jest.fn();
    const request = { ...chaffRequest(Date.now(), Math.random), healthAuthorityID: 'ha', ...change };
    await expect(upload('http://edge', request, { env: { fetch } })).rejects.toMatchObject({ code: 'bad_request' });
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('device attestation of an upload, from the phone', () => {
  const request = { ...chaffRequest(Date.UTC(2026, 11, 1, 12), () => 0.5), healthAuthorityID: 'ha', platform: 'ios' as const };

  it('binds the attestation to the same digest the API computes from what it receives', async () => {
    const sent = JSON.parse(paddedBody({ ...request, deviceVerificationPayload: 'AAAA' })) as unknown;
    expect(Buffer.from(await attestationDigest(request)).toString('hex')).toBe(uploadDigest(parsePublishRequest(sent)).toString('hex'));
  });

  it('sends the platform and the payload with the upload', async () => {
    let sentBody = '';
    const fetch = jest.fn(async (_url: string, init: RequestInit) => {
      sentBody = String(init.body);
      return new Response(JSON.stringify({ revisionToken: 't', insertedExposures: 1 }), { status: 200 });
    });
    await upload('http://edge', { ...request, deviceVerificationPayload: 'payload' }, { env: { fetch: fetch as unknown as typeof globalThis.fetch } });
    expect(JSON.parse(sentBody)).toMatchObject({ platform: 'ios', deviceVerificationPayload: 'payload' });
  });

  it("shapes an attesting app's chaff as its uploads: the platform and a payload of the platform's size", () => {
    const random = () => 0.99;
    for (const [platform, blocks] of [['android', 1], ['ios', 2]] as const) {
      const chaff = chaffRequest(Date.UTC(2026, 11, 1, 12), random, platform);
      expect(parsePublishRequest(JSON.parse(paddedBody({ ...chaff })))).toMatchObject({ platform, deviceVerificationPayload: expect.any(String) });
      expect(paddedBody({ ...chaff }).length).toBe(blocks * REQUEST_BLOCK_BYTES);
    }
  });
});
