/**
 * `/site/config.json`, written by the publisher: the regions the page lists and the signing keys
 * files are checked with (the one it names first; several during a key rotation). Parsed strictly: a page that guessed at a malformed config could
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
  /** The key the page names. */
  signingKey: SigningKeyConfig;
  /** Every key a file may verify with, `signingKey` first and once (a config.json without the list: that one key). */
  signingKeys: SigningKeyConfig[];
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
  const root = (json ?? {}) as { regions?: unknown; signingKey?: unknown };
  if (!Array.isArray(root.regions) || root.regions.length === 0 || !root.regions.every((region) => typeof region === 'string' && REGION.test(region))) {
    throw new SiteConfigError('config.json: regions must be a non-empty list of region codes');
  }
  const signingKey = signingKeyOf(root.signingKey, 'signingKey');
  const others = (root as { signingKeys?: unknown }).signingKeys;
  if (others !== undefined && (!Array.isArray(others) || others.length === 0)) throw new SiteConfigError('config.json: signingKeys must be a non-empty list');
  const listed = others === undefined ? [] : others.map((key, i) => signingKeyOf(key, `signingKeys[${i}]`));
  // The named key is checked with first, whatever the list says (its fingerprint is the one the page shows).
  return { regions: root.regions as string[], signingKey, signingKeys: [signingKey, ...listed.filter((key) => key.fingerprintSha256 !== signingKey.fingerprintSha256)] };
}

function signingKeyOf(value: unknown, field: string): SigningKeyConfig {
  if (typeof value !== 'object' || value === null) throw new SiteConfigError(`config.json: ${field} is missing`);
  const key = value as Record<string, unknown>;
  const publicKeyPem = text(key.publicKeyPem, `${field}.publicKeyPem`);
  if (!publicKeyPem.includes('-----BEGIN PUBLIC KEY-----')) throw new SiteConfigError(`config.json: ${field}.publicKeyPem must be a PEM public key (SPKI)`);
  const fingerprintSha256 = text(key.fingerprintSha256, `${field}.fingerprintSha256`);
  if (!HEX_SHA256.test(fingerprintSha256)) throw new SiteConfigError(`config.json: ${field}.fingerprintSha256 must be 64 lower-case hex digits`);
  return { keyId: text(key.keyId, `${field}.keyId`), keyVersion: text(key.keyVersion, `${field}.keyVersion`), algorithm: text(key.algorithm, `${field}.algorithm`), publicKeyPem, fingerprintSha256 };
}
