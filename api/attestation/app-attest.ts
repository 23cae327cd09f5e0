/**
 * iOS: an App Attest attestation of a key the app generated for this one upload, verified as
 * "Validating apps that connect to your server" (DeviceCheck) lays out: the CBOR attestation
 * object (`fmt` apple-appattest, `attStmt.x5c`, `authData`); the x5c chain (credential
 * certificate first) to the App Attestation root; the nonce SHA-256(authData || clientDataHash)
 * in the credential certificate's extension 1.2.840.113635.100.8.2; the RP ID hash = SHA-256 of
 * the App ID; counter 0; the AAGUID of the configured environment (`appattestdevelop`, or
 * `appattest` and seven 0x00 bytes); the credential id = SHA-256 of the certificate's public key.
 * The clientDataHash is the digest of the upload's canonical form. The key is fresh for every
 * upload, so nothing is kept to recognise a device, and the receipt is not used.
 */
import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto';
import { decodeFirstSync } from 'cbor';
import { certificateExtension, encodeOid } from './der';
import { AttestationFailure } from './failure';
import type { AppAttestSettings } from './settings';

export const APP_ATTEST_NONCE_OID = '1.2.840.113635.100.8.2';
const NONCE_OID = encodeOid(APP_ATTEST_NONCE_OID);
/** Intermediates verified under the root, kept by their DER: Apple signs every credential certificate with one or two. */
const MAX_KNOWN_INTERMEDIATES = 8;
export const AAGUID = {
  development: Buffer.from('appattestdevelop'),
  production: Buffer.concat([Buffer.from('appattest'), Buffer.alloc(7)]),
} as const;
/**
 * The nonce extension's value, DER: SEQUENCE { [1] { OCTET STRING (32) } }, as Apple's
 * attestations carry it. DER has one encoding per value, so comparing these bytes with the
 * certificate's is comparing the decoded nonce.
 */
export function nonceExtensionValue(nonce: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from('3024a1220420', 'hex'), nonce]);
}
/** rpIdHash (32), flags (1), counter (4), aaguid (16), credentialIdLength (2): WebAuthn authenticator data. */
const AUTH_DATA_FIXED = 55;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

function invalid(message: string): AttestationFailure {
  return new AttestationFailure('attestation_invalid', message);
}

function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

interface AttestationObject {
  x5c: Buffer[];
  authData: Buffer;
}

function decodeObject(payload: string): AttestationObject {
  if (!BASE64.test(payload)) throw invalid('the App Attest attestation must be base64');
  let decoded: unknown;
  try {
    decoded = decodeFirstSync(Buffer.from(payload, payload.includes('-') || payload.includes('_') ? 'base64url' : 'base64'), { max_depth: 8, preventDuplicateKeys: true });
  } catch {
    throw invalid('the App Attest attestation is not CBOR');
  }
  const object = decoded as { fmt?: unknown; attStmt?: { x5c?: unknown }; authData?: unknown } | null;
  if (object?.fmt !== 'apple-appattest') throw invalid('the attestation is not of the apple-appattest format');
  const x5c = object.attStmt?.x5c;
  if (!Array.isArray(x5c) || x5c.length < 2 || x5c.length > 4 || !x5c.every((cert) => Buffer.isBuffer(cert))) throw invalid('the App Attest attestation must carry its certificate and intermediate (x5c)');
  if (!Buffer.isBuffer(object.authData) || object.authData.length < AUTH_DATA_FIXED) throw invalid('the App Attest attestation has no authenticator data');
  return { x5c: x5c as Buffer[], authData: object.authData };
}

function parseCertificate(der: Buffer): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw invalid('a certificate of the App Attest attestation cannot be read');
  }
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

function validAt(cert: X509Certificate, now: Date): boolean {
  return Date.parse(cert.validFrom) <= now.getTime() && now.getTime() <= Date.parse(cert.validTo);
}

/** The nonce extension's value in the credential certificate, as DER. */
function nonceExtension(credential: X509Certificate): Buffer {
  const value = certificateExtension(credential.raw, NONCE_OID);
  if (!value) throw invalid('the App Attest credential certificate carries no nonce');
  return value;
}

/** The uncompressed point (0x04 || X || Y) of the credential certificate's P-256 key: what App Attest's key id hashes. */
function publicPoint(credential: X509Certificate): Buffer {
  const jwk = credential.publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw invalid('the App Attest credential key is not P-256');
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

export class AppAttestVerifier {
  /** Intermediates (DER, hex) that verified under the root, parsed: their P-384 signature check is done once. */
  private readonly intermediates = new Map<string, X509Certificate>();

  constructor(private readonly settings: AppAttestSettings) {}

  /** Resolves when `payload` (base64 attestation object) attests this upload (`clientDataHash`) from the configured app. */
  verify(payload: string, clientDataHash: Uint8Array, now: Date): void {
    const { settings } = this;
    const { x5c, authData } = decodeObject(payload);
    const credential = this.verifyChain(x5c, now);
    const nonce = sha256(authData, clientDataHash);
    if (!same(nonceExtension(credential), nonceExtensionValue(nonce))) throw new AttestationFailure('attestation_nonce_mismatch', 'the App Attest attestation was made for another upload');
    if (!same(authData.subarray(0, 32), sha256(Buffer.from(settings.appId)))) throw new AttestationFailure('attestation_app_mismatch', 'the App Attest attestation was made for another app');
    if (authData.readUInt32BE(33) !== 0) throw invalid('the App Attest key was used before (counter is not 0)');
    if (!same(authData.subarray(37, 53), AAGUID[settings.environment])) throw new AttestationFailure('attestation_app_mismatch', `the App Attest attestation is not from a ${settings.environment} build of the app`);
    const idLength = authData.readUInt16BE(53);
    const credentialId = authData.subarray(AUTH_DATA_FIXED, AUTH_DATA_FIXED + idLength);
    if (credentialId.length !== idLength || !same(credentialId, sha256(publicPoint(credential)))) throw invalid('the App Attest credential id is not the attested key');
  }

  /** Checks that the chain runs from the credential certificate to the root, each certificate valid now; returns the credential certificate. */
  private verifyChain(x5c: Buffer[], now: Date): X509Certificate {
    const { root } = this.settings;
    if (!validAt(root, now)) throw invalid('the App Attestation root is not valid now');
    // From the root down: each issuer is trusted before the certificate it signed is read.
    let issuer = root;
    for (let i = x5c.length - 1; i >= 1; i--) issuer = this.intermediate(x5c[i], issuer, now);
    const credential = parseCertificate(x5c[0]);
    if (!signedBy(credential, issuer)) throw invalid('the App Attest attestation does not chain to the App Attestation root');
    if (!validAt(credential, now)) throw new AttestationFailure('attestation_expired', 'the App Attest credential certificate is not valid now');
    return credential;
  }

  private intermediate(der: Buffer, issuer: X509Certificate, now: Date): X509Certificate {
    const id = der.toString('hex');
    let cert = issuer === this.settings.root ? this.intermediates.get(id) : undefined;
    if (!cert) {
      cert = parseCertificate(der);
      if (!cert.ca || !signedBy(cert, issuer)) throw invalid('the App Attest attestation does not chain to the App Attestation root');
      if (issuer === this.settings.root && this.intermediates.size < MAX_KNOWN_INTERMEDIATES) this.intermediates.set(id, cert);
    }
    if (!validAt(cert, now)) throw invalid('a certificate of the App Attest chain is not valid now');
    return cert;
  }
}
