/**
 * `/site/config.json`, written by the publisher: the regions the page lists and the signing key
 * every file must verify with. Parsed strictly: a page that guessed at a malformed config could
 * show a file as verified against the wrong key.
 */

export interface SigningKeyConfig {
  keyId: string;
  keyVersion: string;
  algorithm: string;
  /** SPKI, PEM. */
  publicKeyPem: string;
  /** SHA-256 of the SPKI DER, hex, as the publisher computed it (the page computes its own too). */
  fingerprintSha256: string;
}

export interface SiteConfig {
  regions: string[];
  signingKey: SigningKeyConfig;
}

/** config.json is missing a field or has one of the wrong shape. */
export class SiteConfigError extends Error {
  override readonly name = 'SiteConfigError';
}

const REGION = /^[A-Za-z0-9_-]{1,16}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new SiteConfigError(`config.json: ${field} must be a non-empty string`);
  return value;
}

/** Parses config.json's text; throws `SiteConfigError` naming the bad field. */
export function parseSiteConfig(body: string): SiteConfig {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new SiteConfigError('config.json is not JSON');
  }
  const root = (json ?? {}) as { regions?: unknown; signingKey?: Record<string, unknown> };
  if (!Array.isArray(root.regions) || root.regions.length === 0 || !root.regions.every((region) => typeof region === 'string' && REGION.test(region))) {
    throw new SiteConfigError('config.json: regions must be a non-empty list of region codes');
  }
  const key = root.signingKey;
  if (typeof key !== 'object' || key === null) throw new SiteConfigError('config.json: signingKey is missing');
  const publicKeyPem = text(key.publicKeyPem, 'signingKey.publicKeyPem');
  if (!publicKeyPem.includes('-----BEGIN PUBLIC KEY-----')) throw new SiteConfigError('config.json: signingKey.publicKeyPem must be a PEM public key (SPKI)');
  const fingerprintSha256 = text(key.fingerprintSha256, 'signingKey.fingerprintSha256');
  if (!HEX_SHA256.test(fingerprintSha256)) throw new SiteConfigError('config.json: signingKey.fingerprintSha256 must be 64 lower-case hex digits');
  return {
    regions: root.regions as string[],
    signingKey: { keyId: text(key.keyId, 'signingKey.keyId'), keyVersion: text(key.keyVersion, 'signingKey.keyVersion'), algorithm: text(key.algorithm, 'signingKey.algorithm'), publicKeyPem, fingerprintSha256 },
  };
}
