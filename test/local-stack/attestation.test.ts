/**
 * Device attestation on the local stack as a user runs it: `npm start` with
 * KEYFRONT_ATTESTATION=enforce and a second health authority whose own mode is report, uploads
 * through the local edge, payloads minted by `keyfront dev attestation` and
 * `keyfront phone upload --attest` with the dev material `npm start` created. For each platform
 * and mode: no payload, a payload minted for another body, and a payload minted for this body.
 * The stack exports its telemetry to the ingestion stand-in; once stopped, the attestation
 * metric is read back by mode, platform and code, and every exported byte is scanned for the
 * payloads. One stack for every case.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { request } from 'undici';
import type { AttestationPlatform } from '../../proto/canonical-upload';
import { main } from '../../scripts/cli';
import { randomDailyKeys } from '../../scripts/local-stack/dev-keys';
import { createDevHealthAuthority, loadOrCreateDevMaterial, type DevHealthAuthority } from '../../scripts/local-stack/dev-material';
import { issueVerificationCertificate } from '../../scripts/local-stack/verification-certificate';
import { startIngestionStandIn, type IngestionStandIn } from '../support/ingestion-stand-in';
import { start, until, type Run } from '../support/npm-start';
import { freeStackEnvironment } from '../support/stack-environment';

const PLATFORMS: AttestationPlatform[] = ['android', 'ios'];

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

describe('device attestation on the local stack, through the edge', () => {
  let standIn: IngestionStandIn;
  let dataDir: string;
  let stack: Run | undefined;
  let edge: string;
  let enforcing: DevHealthAuthority;
  const reporting = { ...createDevHealthAuthority(), id: 'dev-report' };
  const payloads: string[] = [];
  let caller: Record<string, string>;

  /** Runs the CLI in this process (as `npx keyfront` would), against the stack's data directory. */
  async function keyfront(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const saved = process.env.KEYFRONT_DATA_DIR;
    process.env.KEYFRONT_DATA_DIR = dataDir;
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
    try {
      return { code: await main(args), out, err };
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      if (saved === undefined) delete process.env.KEYFRONT_DATA_DIR;
      else process.env.KEYFRONT_DATA_DIR = saved;
    }
  }

  async function post(pathname: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await request(`${edge}${pathname}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> };
  }

  /** A publish body of fresh keys certified by `authority`, written to a file for the CLI. */
  async function bodyFile(authority: DevHealthAuthority, name: string): Promise<{ file: string; body: Record<string, unknown> }> {
    const keys = randomDailyKeys(3);
    const issued = await issueVerificationCertificate(authority, { keys });
    const body = { temporaryExposureKeys: keys, healthAuthorityID: authority.id, verificationPayload: issued.verificationPayload, hmacKey: issued.hmacKey };
    const file = path.join(dataDir, `${name}.json`);
    await writeFile(file, JSON.stringify(body));
    return { file, body };
  }

  /** `keyfront dev attestation` for the body in `file`. */
  async function attested(file: string, platform: AttestationPlatform): Promise<Record<string, unknown>> {
    const run = await keyfront(['dev', 'attestation', '--platform', platform, '--body', file]);
    expect([run.code, run.err]).toEqual([0, '']);
    const body = JSON.parse(run.out) as Record<string, unknown>;
    payloads.push(String(body.deviceVerificationPayload));
    return body;
  }

  /**
   * The three uploads of the done-when, each of its own keys (so that each one stored counts): no
   * payload, a payload minted for another body, a payload minted for this body.
   */
  async function threeUploads(authority: DevHealthAuthority, platform: AttestationPlatform): Promise<Answer[]> {
    const name = `${authority.id}-${platform}`;
    const [none, mismatched, own, other] = await Promise.all(['none', 'mismatched', 'own', 'other'].map((what) => bodyFile(authority, `${name}-${what}`)));
    const mintedForOther = await attested(other.file, platform);
    return [
      await post('/api/v1/publish', none.body, caller),
      await post('/api/v1/publish', { ...mismatched.body, platform, deviceVerificationPayload: mintedForOther.deviceVerificationPayload }, caller),
      await post('/api/v1/publish', await attested(own.file, platform), caller),
    ];
  }

  beforeAll(async () => {
    standIn = await startIngestionStandIn();
    dataDir = await mkdtemp(path.join(tmpdir(), 'keyfront-attestation-'));
    const env = await freeStackEnvironment(dataDir);
    // The dev material first, to name the dev authority (enforce, the default here) beside one of our own in report mode.
    enforcing = (await loadOrCreateDevMaterial(dataDir)).healthAuthority;
    const entry = (authority: DevHealthAuthority) => ({ id: authority.id, issuer: authority.issuer, audience: authority.audience, regions: ['440'], jwks: { keys: [authority.publicJwk] } });
    stack = start({
      ...env,
      KEYFRONT_ATTESTATION: 'enforce',
      KEYFRONT_HEALTH_AUTHORITIES: JSON.stringify([entry(enforcing), { ...entry(reporting), attestation: 'report' }]),
      APPLICATIONINSIGHTS_CONNECTION_STRING: standIn.connectionString,
      NODE_EXTRA_CA_CERTS: path.join(__dirname, '..', 'fixtures', 'tls', 'loopback-cert.pem'),
    });
    await until(stack, 'ready.');
    expect(stack.output()).toMatch(/api +http:\/\/\S+ +write API: .*; device attestation enforce \(KEYFRONT_ATTESTATION\)/);
    edge = `http://127.0.0.1:${env.KEYFRONT_EDGE_PORT}`;
    const registration = await post('/api/v1/register', {});
    caller = { authorization: `Bearer ${String(registration.json.secret)}`, 'x-user-uuid': String(registration.json.userUuid) };
  });

  afterAll(async () => {
    if (stack && stack.child.exitCode === null) {
      stack.child.kill('SIGKILL');
      await stack.exited;
    }
    await standIn?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each(PLATFORMS)('enforce, %s: no payload is 401 attestation_required, a payload minted for another body 401 attestation_nonce_mismatch, a payload minted for this body is stored', async (platform) => {
    const answers = await threeUploads(enforcing, platform);
    expect(answers.map((a) => [a.status, a.json.code ?? a.json.insertedExposures])).toEqual([
      [401, 'attestation_required'],
      [401, 'attestation_nonce_mismatch'],
      [200, 3],
    ]);
  });

  it.each(PLATFORMS)("report (a health authority's own mode), %s: the same three uploads are all stored", async (platform) => {
    const answers = await threeUploads(reporting, platform);
    expect(answers.map((a) => [a.status, a.json.insertedExposures])).toEqual([
      [200, 3],
      [200, 3],
      [200, 3],
    ]);
  });

  it('keyfront phone upload --attest registers and uploads an attested body through the edge, and --chaff --attest sends chaff of that shape', async () => {
    const { file } = await bodyFile(enforcing, 'phone');
    const run = await keyfront(['phone', 'upload', '--base', edge, '--keys', file, '--attest', 'ios', '--json']);
    expect([run.code, run.err]).toEqual([0, '']);
    expect(JSON.parse(run.out)).toMatchObject({ insertedExposures: 3 });
    expect((await keyfront(['phone', 'upload', '--base', edge, '--chaff', '--attest', 'android'])).code).toBe(0);
    const refused = await keyfront(['phone', 'upload', '--base', edge, '--keys', file, '--attest', 'windows']);
    expect([refused.code, refused.err]).toEqual([2, 'keyfront: --attest must be one of android, ios, got "windows"\n']);
  });

  it('counted every verdict by mode, platform and code, and exported nothing of the payloads', async () => {
    stack!.child.kill('SIGTERM');
    expect(await stack!.exited).toBe(0);
    const counted = new Map<string, number>();
    for (const metric of standIn.metrics('keyfront.attestations')) {
      const key = `${metric.properties.mode} ${metric.properties.platform} ${metric.properties.code}`;
      counted.set(key, (counted.get(key) ?? 0) + metric.value);
    }
    expect(Object.fromEntries([...counted].sort())).toEqual({
      'enforce android attestation_nonce_mismatch': 1,
      'enforce android ok': 1,
      'enforce ios attestation_nonce_mismatch': 1,
      'enforce ios ok': 2,
      'enforce none attestation_required': 2,
      'report android attestation_nonce_mismatch': 1,
      'report android ok': 1,
      'report ios attestation_nonce_mismatch': 1,
      'report ios ok': 1,
      'report none attestation_required': 2,
    });
    const exported = standIn.bodies.join('\n');
    expect(exported.length).toBeGreaterThan(0);
    for (const payload of payloads) for (let at = 0; at + 32 <= payload.length; at += 256) expect(exported).not.toContain(payload.slice(at, at + 32));
  });
});
