/**
 * The attestation check inside the publish handler, in process: each mode (off, report, enforce,
 * and a health authority's override), each platform, what is refused with which code, that a
 * refused upload stores nothing, and what the metric and the logs carry.
 */
import { MemoryExposureStore } from '../../exposures/memory-store';
import { noopMetrics, type Metrics } from '../../platform/metrics';
import { createDevAttestation, devAttestationEnvironment, devUploadDigest, mintAppAttestation, mintPlayIntegrityToken } from '../../scripts/local-stack/dev-attestation';
import { createDevHealthAuthority } from '../../scripts/local-stack/dev-material';
import { issueVerificationCertificate } from '../../scripts/local-stack/verification-certificate';
import { createApiFixture, dailyKeys, NOW, REGION, type ApiFixture } from '../../test/support/api-fixture';
import type { AttestationPlatform, CanonicalUploadFields } from '../../proto/canonical-upload';

const attestation = createDevAttestation(NOW);

interface Counted {
  mode: string;
  platform: string;
  code: string;
}

function fixtureIn(mode: string, env: Record<string, string> = {}): { fixture: ApiFixture; store: MemoryExposureStore; counted: Counted[] } {
  const counted: Counted[] = [];
  const metrics: Metrics = { ...noopMetrics, attestation: (m, platform, code) => void counted.push({ mode: m, platform, code }) };
  const store = new MemoryExposureStore();
  const fixture = createApiFixture({ env: { ...devAttestationEnvironment(attestation), KEYFRONT_ATTESTATION: mode, ...env }, metrics, store });
  return { fixture, store, counted };
}

/** A valid body for fresh keys, attested (or not) for `platform`. */
async function body(fixture: ApiFixture, platform?: AttestationPlatform, payload?: (digest: Buffer) => Promise<string> | string): Promise<Record<string, unknown>> {
  const fields = await fixture.publishBody(dailyKeys(3));
  if (!platform) return fields;
  const digest = devUploadDigest({ ...(fields as unknown as CanonicalUploadFields), platform });
  const minted = payload ? await payload(digest) : platform === 'android' ? await mintPlayIntegrityToken(attestation.android, digest, { now: NOW }) : mintAppAttestation(attestation.ios, digest, { now: NOW });
  return { ...fields, platform, deviceVerificationPayload: minted };
}

async function publish(fixture: ApiFixture, fields: Record<string, unknown>) {
  return fixture.invoke('publish', { body: fields, headers: await fixture.callerHeaders() });
}

describe('device attestation of uploads', () => {
  describe('enforce', () => {
    const { fixture, store, counted } = fixtureIn('enforce');
    beforeEach(() => (counted.length = 0));

    it.each<AttestationPlatform>(['android', 'ios'])('stores an upload attested for itself on %s, and counts it ok', async (platform) => {
      const answer = await publish(fixture, await body(fixture, platform));
      expect([answer.status, answer.json.insertedExposures]).toEqual([200, 3]);
      expect(counted).toEqual([{ mode: 'enforce', platform, code: 'ok' }]);
    });

    it.each<[string, AttestationPlatform | undefined, ((digest: Buffer) => Promise<string> | string) | undefined, string]>([
      ['no attestation', undefined, undefined, 'attestation_required'],
      ['a Play Integrity token made for another upload', 'android', () => mintPlayIntegrityToken(attestation.android, Buffer.alloc(32, 1), { now: NOW }), 'attestation_nonce_mismatch'],
      ['an App Attest attestation made for another upload', 'ios', () => mintAppAttestation(attestation.ios, Buffer.alloc(32, 1), { now: NOW }), 'attestation_nonce_mismatch'],
      ['a token of another app', 'android', (digest) => mintPlayIntegrityToken(attestation.android, digest, { now: NOW, packageName: 'org.example.other' }), 'attestation_app_mismatch'],
      ['a token from a rooted device', 'android', (digest) => mintPlayIntegrityToken(attestation.android, digest, { now: NOW, deviceLabels: [] }), 'attestation_device_integrity'],
      ['a token ten minutes old', 'android', (digest) => mintPlayIntegrityToken(attestation.android, digest, { now: new Date(NOW.getTime() - 600_000) }), 'attestation_expired'],
      ['an attestation by another CA', 'ios', (digest) => mintAppAttestation(createDevAttestation(NOW).ios, digest, { now: NOW }), 'attestation_invalid'],
      ['garbage', 'ios', () => 'AAAA', 'attestation_invalid'],
    ])('refuses an upload with %s: 401 with the code, nothing stored', async (_name, platform, payload, code) => {
      const fields = platform ? await body(fixture, platform, payload) : await body(fixture);
      const before = store.size;
      const answer = await publish(fixture, fields);
      expect([answer.status, answer.json.code]).toEqual([401, code]);
      expect(store.size).toBe(before);
      expect(counted).toEqual([{ mode: 'enforce', platform: platform ?? 'none', code }]);
    });

    it('refuses a payload without a known platform as invalid, and one with the other platform\'s payload', async () => {
      const android = await body(fixture, 'android');
      expect((await publish(fixture, { ...android, platform: 'windows' })).json.code).toBe('attestation_invalid');
      expect((await publish(fixture, { ...android, platform: 'ios' })).json.code).toBe('attestation_invalid');
      expect(counted.map((c) => [c.platform, c.code])).toEqual([['none', 'attestation_invalid'], ['ios', 'attestation_invalid']]);
    });

    it('answers a wrongly typed field 400 before anything else', async () => {
      const answer = await publish(fixture, { ...(await body(fixture)), platform: 1 });
      expect([answer.status, answer.json.code]).toEqual([400, 'bad_request']);
      expect(counted).toEqual([]);
    });

    it('takes chaff with attestation fields as chaff, checking nothing', async () => {
      const answer = await fixture.invoke('publish', { body: { ...(await body(fixture, 'ios', () => 'AAAA')) }, headers: { ...(await fixture.callerHeaders()), 'x-chaff': '1' } });
      expect(answer.status).toBe(200);
      expect(counted).toEqual([]);
    });

    it('logs the refusal by its code only, nothing of the attestation', async () => {
      const fields = await body(fixture, 'ios', () => mintAppAttestation(attestation.ios, Buffer.alloc(32, 1), { now: NOW }));
      const payload = String(fields.deviceVerificationPayload);
      const before = fixture.logs.length;
      await publish(fixture, fields);
      const logged = fixture.logs.slice(before).join('\n');
      expect(logged).toContain('"code":"attestation_nonce_mismatch"');
      for (let at = 0; at + 24 <= payload.length; at += 500) expect(logged).not.toContain(payload.slice(at, at + 24));
    });
  });

  describe('report', () => {
    const { fixture, counted } = fixtureIn('report');
    beforeEach(() => (counted.length = 0));

    it('stores every upload and counts each verdict by code: none, another upload\'s, its own', async () => {
      const none = await body(fixture);
      const other = await body(fixture, 'ios', () => mintAppAttestation(attestation.ios, Buffer.alloc(32, 1), { now: NOW }));
      const own = await body(fixture, 'android');
      for (const fields of [none, other, own]) expect((await publish(fixture, fields)).status).toBe(200);
      expect(counted).toEqual([
        { mode: 'report', platform: 'none', code: 'attestation_required' },
        { mode: 'report', platform: 'ios', code: 'attestation_nonce_mismatch' },
        { mode: 'report', platform: 'android', code: 'ok' },
      ]);
    });
  });

  describe('off, and the override of a health authority', () => {
    it('ignores the fields when off, whatever they hold', async () => {
      const { fixture, counted } = fixtureIn('off');
      expect((await publish(fixture, { ...(await body(fixture)), platform: 'windows', deviceVerificationPayload: 'anything' })).status).toBe(200);
      expect(counted).toEqual([]);
    });

    it("applies each authority's own mode over the default", async () => {
      // Two authorities on one API whose default is off: one enforces, one reports.
      type Authority = ReturnType<typeof createDevHealthAuthority>;
      const entry = (authority: Authority, mode: string) => ({ id: authority.id, issuer: authority.issuer, audience: authority.audience, regions: [REGION], jwks: { keys: [authority.publicJwk] }, attestation: mode });
      const enforcing = { ...createDevHealthAuthority(), id: 'enforcing' };
      const reporting = { ...createDevHealthAuthority(), id: 'reporting' };
      const { fixture, counted } = fixtureIn('off', { KEYFRONT_HEALTH_AUTHORITIES: JSON.stringify([entry(enforcing, 'enforce'), entry(reporting, 'report')]) });
      const upload = async (authority: Authority) => {
        const keys = dailyKeys(2);
        const issued = await issueVerificationCertificate(authority, { keys, now: NOW });
        return publish(fixture, { temporaryExposureKeys: keys, healthAuthorityID: authority.id, ...issued });
      };
      const refused = await upload(enforcing);
      expect([refused.status, refused.json.code]).toEqual([401, 'attestation_required']);
      expect((await upload(reporting)).status).toBe(200);
      expect(counted).toEqual([
        { mode: 'enforce', platform: 'none', code: 'attestation_required' },
        { mode: 'report', platform: 'none', code: 'attestation_required' },
      ]);
    });
  });
});
