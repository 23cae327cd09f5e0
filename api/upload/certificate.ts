/**
 * Verification certificates (the GAEN verification protocol): an ES256 JWT signed by the health
 * authority named in the upload, whose `tekmac` claim is an HMAC over exactly the uploaded keys,
 * keyed by the `hmacKey` the phone sends. Its claims decide the report type of the keys and the
 * symptom onset. Every failure is a 401 with a stable code.
 */
import { createHmac, createPublicKey, hash, timingSafeEqual, type JsonWebKey, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { decodeBase64, ReportType } from '../../proto/tek';
import type { HealthAuthority } from '../config';
import { HttpError } from '../errors';
import { JwksUnavailableError, RemoteJwks, type JwksDeps, type JwksSettings } from './certificate-jwks';
import type { UploadKey } from './upload';

/** `reportType` claim values and what they mean in the export format. */
export const REPORT_TYPES: Readonly<Record<string, ReportType>> = {
  confirmed: ReportType.CONFIRMED_TEST,
  likely: ReportType.CONFIRMED_CLINICAL_DIAGNOSIS,
  negative: ReportType.REVOKED,
};

const UPLOAD_ID_PREFIX = Buffer.from('keyfront upload\0');

export interface VerifiedCertificate {
  healthAuthority: HealthAuthority;
  reportType: ReportType;
  /** The `symptomOnsetInterval` claim, when the certificate carries one. */
  symptomOnsetInterval?: number;
  /**
   * Who uploaded, as far as the server can tell: a digest of the certificate's `tekmac`, which
   * only the phone holding the `hmacKey` of these keys can present. A retry of the same upload
   * carries the same one; somebody who merely knows a published key cannot.
   */
  uploadId: string;
}

export interface CertificateRequest {
  healthAuthorityID: string;
  verificationPayload: string;
  hmacKey: string;
  keys: readonly UploadKey[];
}

/**
 * The `tekmac` of keys: HMAC-SHA256 keyed by the decoded hmacKey, over the keys sorted by their
 * base64 `key`, each written `key.rollingStartNumber.rollingPeriod.transmissionRisk`, joined by `,`.
 */
export function tekmacOf(keys: readonly UploadKey[], hmacKey: Uint8Array): Buffer {
  const lines = keys.map((k) => `${k.key}.${k.rollingStartNumber}.${k.rollingPeriod}.${k.transmissionRisk}`);
  // Byte order of the base64 text, as the verification server sorts it.
  const order = keys.map((_, i) => i).sort((a, b) => (keys[a].key < keys[b].key ? -1 : keys[a].key > keys[b].key ? 1 : 0));
  return createHmac('sha256', hmacKey).update(order.map((i) => lines[i]).join(',')).digest();
}

/** Why a certificate was refused, as the `keyfront.certificate.failures` metric counts it (never sent to the caller). */
export type CertificateFailureReason = 'unknown_authority' | 'malformed' | 'expired' | 'claim' | 'signature' | 'unknown_kid' | 'keys_unavailable' | 'algorithm' | 'report_type' | 'onset' | 'hmac_key' | 'tekmac';

/** The reason a refusal of `verify` carries, or `undefined` for other errors. */
export function certificateFailureReason(error: unknown): CertificateFailureReason | undefined {
  return error instanceof HttpError ? (error as HttpError & { reason?: CertificateFailureReason }).reason : undefined;
}

function invalid(message: string, reason: CertificateFailureReason): HttpError {
  return Object.assign(new HttpError(401, 'health_authority_verification_certificate_invalid', message), { reason });
}

/** Why jose refused a token, in words fit for the caller, and as a metric reason. */
function reasonOf(error: unknown): [string, CertificateFailureReason] {
  if (error instanceof joseErrors.JWTExpired) return ['the certificate has expired', 'expired'];
  if (error instanceof joseErrors.JWTClaimValidationFailed) return [`the certificate's ${error.claim} claim is not acceptable`, 'claim'];
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return ['the certificate signature does not verify', 'signature'];
  if (error instanceof joseErrors.JWKSNoMatchingKey) return ["the certificate's kid names no key of the health authority", 'unknown_kid'];
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return ['the certificate must be signed with ES256', 'algorithm'];
  return ['the certificate is not a valid JWT', 'malformed'];
}

interface Authority {
  config: HealthAuthority;
  /** The configured (static) keys by kid. */
  staticKeys: ReadonlyMap<string, KeyObject>;
  remote?: RemoteJwks;
}

/** Used when the runtime passes no `jwks` settings: the defaults of the `KEYFRONT_JWKS_*` settings. */
export const DEFAULT_JWKS_SETTINGS: JwksSettings = { minRefreshInMs: 60_000, defaultMaxAgeInMs: 3_600_000, maxStaleInMs: 86_400_000, fetchTimeoutInMs: 5_000 };

export interface CertificateVerifierOptions {
  clockSkewSeconds: number;
  maxAgeSeconds: number;
  jwks?: JwksSettings;
  /** `fetch`, clock and logger of the JWKS URIs. */
  jwksDeps?: JwksDeps;
}

export class CertificateVerifier {
  private readonly authorities = new Map<string, Authority>();

  constructor(
    authorities: readonly HealthAuthority[],
    private readonly options: CertificateVerifierOptions,
  ) {
    for (const config of authorities) {
      const staticKeys = new Map(config.jwks.keys.map((jwk) => [jwk.kid as string, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })]));
      const authority: Authority = { config, staticKeys };
      if (config.jwksUri !== undefined) {
        authority.remote = new RemoteJwks(config.jwksUri, options.jwks ?? DEFAULT_JWKS_SETTINGS, options.jwksDeps);
        authority.remote.start();
      }
      this.authorities.set(config.id, authority);
    }
  }

  /** Ends the background refreshes of the JWKS URIs. */
  stop(): void {
    for (const authority of this.authorities.values()) authority.remote?.stop();
  }

  /** The key a certificate header names: a static key, else one of the authority's JWKS URI. */
  private async keyOf(authority: Authority, kid: unknown): Promise<KeyObject> {
    if (typeof kid !== 'string') throw invalid('the certificate header must name its key (kid)', 'unknown_kid');
    const key = authority.staticKeys.get(kid) ?? (await this.remoteKey(authority, kid));
    if (key === undefined) throw new joseErrors.JWKSNoMatchingKey();
    return key;
  }

  private async remoteKey(authority: Authority, kid: string): Promise<KeyObject | undefined> {
    if (!authority.remote) return undefined;
    try {
      return await authority.remote.keyFor(kid);
    } catch (error) {
      if (!(error instanceof JwksUnavailableError)) throw error;
      const retryAfter = String(Math.ceil((this.options.jwks ?? DEFAULT_JWKS_SETTINGS).minRefreshInMs / 1000));
      const unavailable = new HttpError(503, 'health_authority_keys_unavailable', "the health authority's verification keys cannot be fetched; retry later", { 'Retry-After': retryAfter });
      throw Object.assign(unavailable, { reason: 'keys_unavailable' as CertificateFailureReason });
    }
  }

  async verify(request: CertificateRequest, now: Date): Promise<VerifiedCertificate> {
    const authority = this.authorities.get(request.healthAuthorityID);
    if (!authority) throw Object.assign(new HttpError(401, 'unknown_health_authority_id', 'healthAuthorityID names no configured health authority'), { reason: 'unknown_authority' });
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(request.verificationPayload, (header) => this.keyOf(authority, header.kid), {
        algorithms: ['ES256'],
        issuer: authority.config.issuer,
        audience: authority.config.audience,
        requiredClaims: ['exp', 'iat'],
        clockTolerance: this.options.clockSkewSeconds,
        maxTokenAge: this.options.maxAgeSeconds,
        currentDate: now,
      }));
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw invalid(...reasonOf(error));
    }
    // Own properties only: `constructor` or `__proto__` must not name a report type.
    const reportType = typeof payload.reportType === 'string' && Object.hasOwn(REPORT_TYPES, payload.reportType) ? REPORT_TYPES[payload.reportType] : undefined;
    if (reportType === undefined) throw invalid(`the certificate's reportType must be one of ${Object.keys(REPORT_TYPES).join(', ')}`, 'report_type');
    const onset = payload.symptomOnsetInterval;
    if (onset !== undefined && !(Number.isInteger(onset) && (onset as number) >= 0 && (onset as number) <= 0x7fffffff)) throw invalid("the certificate's symptomOnsetInterval must be an interval number", 'onset');
    const hmacKey = decodeBase64(request.hmacKey);
    if (hmacKey === undefined || hmacKey.length === 0) throw invalid('hmacKey must be non-empty standard base64', 'hmac_key');
    const claimed = decodeBase64(payload.tekmac);
    const computed = tekmacOf(request.keys, hmacKey);
    if (claimed === undefined || claimed.length !== computed.length || !timingSafeEqual(claimed, computed)) {
      throw invalid('the certificate was not issued for these keys (tekmac does not match)', 'tekmac');
    }
    const uploadId = hash('sha256', Buffer.concat([UPLOAD_ID_PREFIX, computed]), 'base64url').slice(0, 22);
    const verified: VerifiedCertificate = { healthAuthority: authority.config, reportType, uploadId };
    if (onset !== undefined && (onset as number) > 0) verified.symptomOnsetInterval = onset as number;
    return verified;
  }
}
