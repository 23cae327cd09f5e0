/**
 * The canonical form of an upload: what a device attestation is bound to, computed the same way by
 * the phone (client/, WebCrypto) and the server (api/). It covers the keys and the verification
 * certificate, so that an attestation made for one upload cannot be reused for other keys or
 * another certificate; it leaves out the attestation itself and the padding.
 *
 * The form is RFC 8785 (JSON Canonicalization Scheme) of one object, so that any platform's JCS
 * library reproduces it byte for byte: members sorted by name, no whitespace, integers as written.
 *
 *   { "format": "keyfront-upload-1", "healthAuthorityID", "hmacKey", "platform"?,
 *     "revisionToken"?, "symptomOnsetInterval"?, "temporaryExposureKeys": [ { "key",
 *     "rollingPeriod", "rollingStartNumber", "transmissionRisk" } ... ], "traveler"?,
 *     "verificationPayload" }
 *
 * Optional members are present only when the upload carries them (an empty `revisionToken` counts
 * as absent, as the API reads it); a key without `transmissionRisk` has 0; the keys are sorted by
 * their base64 `key` (byte order of the text, as for the certificate's `tekmac`), so the order
 * the phone lists them in does not matter. The digest is SHA-256 of the form's UTF-8 bytes: App
 * Attest takes it as `clientDataHash`, Play Integrity as its `nonce` (base64url).
 */

/** Names this version of the form; a change of the form is a new value. */
export const CANONICAL_UPLOAD_FORMAT = 'keyfront-upload-1';

/** The attestation platforms and the upload field that names them. */
export const ATTESTATION_PLATFORMS = ['android', 'ios'] as const;
export type AttestationPlatform = (typeof ATTESTATION_PLATFORMS)[number];

export interface CanonicalUploadKey {
  key: string;
  rollingStartNumber: number;
  rollingPeriod: number;
  transmissionRisk?: number;
}

/** The fields of an upload the form covers (the wire names of the publish body). */
export interface CanonicalUploadFields {
  temporaryExposureKeys: readonly CanonicalUploadKey[];
  healthAuthorityID: string;
  verificationPayload: string;
  hmacKey: string;
  platform?: string;
  symptomOnsetInterval?: number;
  traveler?: boolean;
  revisionToken?: string;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The canonical form as text (JCS). Members are written in sorted order, so `JSON.stringify` is the JCS serializer here. */
export function canonicalUpload(fields: CanonicalUploadFields): string {
  const keys = [...fields.temporaryExposureKeys]
    .sort((a, b) => compareText(a.key, b.key))
    .map((k) => ({ key: k.key, rollingPeriod: k.rollingPeriod, rollingStartNumber: k.rollingStartNumber, transmissionRisk: k.transmissionRisk ?? 0 }));
  const form: Record<string, unknown> = { format: CANONICAL_UPLOAD_FORMAT, healthAuthorityID: fields.healthAuthorityID, hmacKey: fields.hmacKey };
  if (fields.platform !== undefined) form.platform = fields.platform;
  if (fields.revisionToken !== undefined && fields.revisionToken !== '') form.revisionToken = fields.revisionToken;
  if (fields.symptomOnsetInterval !== undefined) form.symptomOnsetInterval = fields.symptomOnsetInterval;
  form.temporaryExposureKeys = keys;
  if (fields.traveler !== undefined) form.traveler = fields.traveler;
  form.verificationPayload = fields.verificationPayload;
  return JSON.stringify(form);
}

/** SHA-256 of the canonical form, with WebCrypto (the phone's way; the server hashes with node:crypto). */
export async function canonicalUploadDigest(fields: CanonicalUploadFields): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonicalUpload(fields))));
}
