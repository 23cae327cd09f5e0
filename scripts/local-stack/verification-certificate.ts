/**
 * Issues GAEN verification certificates as a health authority's verification server would: an
 * ES256 JWT over the `tekmac` of the keys. For development, tests and load generation only;
 * production certificates come from the health authority.
 */
import { randomBytes } from 'node:crypto';
import { importJWK, SignJWT, type JWK, type KeyLike } from 'jose';
import { tekmacOf } from '../../api/upload/certificate';
import type { UploadKey } from '../../api/upload/upload';

export type CertificateReportType = 'confirmed' | 'likely' | 'negative';

export interface CertificateSigner {
  issuer: string;
  audience: string;
  kid: string;
  privateJwk: JWK;
}

export interface IssueOptions {
  /** The keys exactly as they will be uploaded. */
  keys: readonly UploadKey[];
  /** Random 32 bytes when absent. */
  hmacKey?: Uint8Array;
  reportType?: CertificateReportType;
  symptomOnsetInterval?: number;
  now?: Date;
  /** Validity after `now` (GAEN verification servers use minutes). */
  lifetimeSeconds?: number;
  /** Extra or replaced claims (tests of refusals). */
  claims?: Record<string, unknown>;
}

export interface IssuedCertificate {
  verificationPayload: string;
  /** Standard base64, as phones send it. */
  hmacKey: string;
}

const keyCache = new WeakMap<JWK, Promise<KeyLike | Uint8Array>>();

/** Signs a verification certificate for `options.keys`. */
export async function issueVerificationCertificate(signer: CertificateSigner, options: IssueOptions): Promise<IssuedCertificate> {
  const hmacKey = options.hmacKey ?? randomBytes(32);
  let key = keyCache.get(signer.privateJwk);
  if (!key) {
    key = importJWK(signer.privateJwk, 'ES256');
    keyCache.set(signer.privateJwk, key);
  }
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims: Record<string, unknown> = {
    reportType: options.reportType ?? 'confirmed',
    tekmac: tekmacOf(options.keys, hmacKey).toString('base64'),
    ...(options.symptomOnsetInterval === undefined ? {} : { symptomOnsetInterval: options.symptomOnsetInterval }),
    iss: signer.issuer,
    aud: signer.audience,
    iat: now,
    nbf: now,
    exp: now + (options.lifetimeSeconds ?? 900),
    ...options.claims,
  };
  const verificationPayload = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: signer.kid, typ: 'JWT' }).sign(await key);
  return { verificationPayload, hmacKey: Buffer.from(hmacKey).toString('base64') };
}
