/**
 * Device attestation for development: stand-ins for what Google and Apple hold, so that the whole
 * flow runs locally. The dev material (created on the first `npm start`, file mode 0600) holds a
 * dev Android app with its Play Integrity keys (the decryption and verification keys Play Console
 * would give, and the signing key Google keeps) and a dev iOS app with a dev App Attest CA (root
 * and intermediate, in Apple's shape). The local API trusts them; `keyfront dev attestation` and
 * `keyfront phone upload --attest` mint payloads with them; tests make their own in memory.
 */
import { createHash, createPrivateKey, createSecretKey, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { encode as encodeCbor } from 'cbor';
import { CompactEncrypt, CompactSign } from 'jose';
import { AAGUID, APP_ATTEST_NONCE_OID, nonceExtensionValue } from '../../api/attestation/app-attest';
import { canonicalUpload, type AttestationPlatform, type CanonicalUploadFields } from '../../proto/canonical-upload';
import { writeFileAtomic } from '../cli-io';
import { buildCertificate } from './dev-certificates';
import { DevMaterialError } from './dev-material';

export const DEV_ATTESTATION_FILE = 'dev-attestation.json';

export interface DevPlayIntegrity {
  packageName: string;
  /** What Play Console gives the app's server: base64 AES-256 key, base64 DER SPKI. */
  decryptionKey: string;
  verificationKey: string;
  /** Google's signing key of the verdicts (PKCS#8 PEM), which only the dev minter holds. */
  signingKey: string;
}

export interface DevAppAttest {
  appId: string;
  environment: 'production' | 'development';
  /** The dev App Attestation root (PEM) the local API trusts instead of Apple's. */
  rootCertificate: string;
  intermediateCertificate: string;
  /** The intermediate's key (PKCS#8 PEM), which signs credential certificates as Apple's CA does. */
  intermediateKey: string;
}

export interface DevAttestation {
  android: DevPlayIntegrity;
  ios: DevAppAttest;
}

const DAY_MS = 86_400_000;

function pkcs8(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A new dev attestation setup: Play keys and an App Attest CA (root and intermediate, P-384, as Apple's). */
export function createDevAttestation(now: Date = new Date()): DevAttestation {
  const play = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rootKeys = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const intermediateKeys = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const notBefore = new Date(now.getTime() - DAY_MS);
  const root = buildCertificate({ commonName: 'keyfront dev App Attestation Root CA', organization: 'keyfront dev', publicKey: rootKeys.publicKey, selfKey: rootKeys.privateKey, ca: true, notBefore, notAfter: new Date(now.getTime() + 20 * 365 * DAY_MS), hash: 'sha384' });
  const intermediate = buildCertificate({ commonName: 'keyfront dev App Attestation CA 1', organization: 'keyfront dev', publicKey: intermediateKeys.publicKey, issuer: { certificate: root, key: rootKeys.privateKey }, ca: true, notBefore, notAfter: new Date(now.getTime() + 10 * 365 * DAY_MS), hash: 'sha384' });
  return {
    android: {
      packageName: 'org.keyfront.dev',
      decryptionKey: randomBytes(32).toString('base64'),
      verificationKey: play.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      signingKey: pkcs8(play.privateKey),
    },
    ios: { appId: 'KEYFRONTDV.org.keyfront.dev', environment: 'development', rootCertificate: root.toString(), intermediateCertificate: intermediate.toString(), intermediateKey: pkcs8(intermediateKeys.privateKey) },
  };
}

/** The API settings that trust this setup (the mode itself, KEYFRONT_ATTESTATION, stays the operator's). */
export function devAttestationEnvironment(attestation: DevAttestation): Record<string, string> {
  return {
    KEYFRONT_PLAY_INTEGRITY_PACKAGE_NAME: attestation.android.packageName,
    KEYFRONT_PLAY_INTEGRITY_DECRYPTION_KEY: attestation.android.decryptionKey,
    KEYFRONT_PLAY_INTEGRITY_VERIFICATION_KEY: attestation.android.verificationKey,
    KEYFRONT_APP_ATTEST_APP_ID: attestation.ios.appId,
    KEYFRONT_APP_ATTEST_ENVIRONMENT: attestation.ios.environment,
    KEYFRONT_APP_ATTEST_ROOT_CA: attestation.ios.rootCertificate,
  };
}

function parseDevAttestation(file: string, text: string): DevAttestation {
  try {
    const json = JSON.parse(text) as DevAttestation;
    createSecretKey(Buffer.from(json.android.decryptionKey, 'base64'));
    createPrivateKey(json.android.signingKey);
    createPrivateKey(json.ios.intermediateKey);
    new X509Certificate(json.ios.rootCertificate);
    new X509Certificate(json.ios.intermediateCertificate);
    if (typeof json.android.packageName !== 'string' || typeof json.ios.appId !== 'string') throw new Error('app ids missing');
    return json;
  } catch (error) {
    throw new DevMaterialError(`${file} is not valid dev material (${(error as Error).message}); delete it and run \`npm start\` to create it again`);
  }
}

async function loadDevAttestation(dataDir: string, create: boolean): Promise<DevAttestation | undefined> {
  const file = path.join(dataDir, DEV_ATTESTATION_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new DevMaterialError(`cannot read ${file}: ${(error as Error).message}`);
    if (!create) return undefined;
    text = `${JSON.stringify(createDevAttestation(), null, 2)}\n`;
    await writeFileAtomic(file, text, 0o600);
  }
  return parseDevAttestation(file, text);
}

/** The dev attestation setup of the data directory, created when missing (`npm start`; the directory exists). */
export async function loadOrCreateDevAttestation(dataDir: string): Promise<DevAttestation> {
  return (await loadDevAttestation(dataDir, true))!;
}

/** The dev attestation setup of the data directory; fails saying what to do when `npm start` never made one there. */
export async function readDevAttestation(dataDir: string): Promise<DevAttestation> {
  const attestation = await loadDevAttestation(dataDir, false);
  if (!attestation) throw new DevMaterialError(`no dev attestation material in ${dataDir}: run \`npm start\` once to create it (or set KEYFRONT_DATA_DIR to the data directory of the running stack)`);
  return attestation;
}

/** What a Play Integrity verdict says; each field can be changed to make a token the server must refuse. */
export interface PlayVerdictOptions {
  now?: Date;
  packageName?: string;
  /** `requestDetails.nonce`, base64url (by default the digest given). */
  nonce?: string;
  timestampMillis?: number;
  appRecognitionVerdict?: string;
  deviceLabels?: string[];
  /** Sign or encrypt with other keys (a forged or misdirected token). */
  signingKey?: KeyObject;
  decryptionKey?: Uint8Array;
}

/** A Play Integrity token of a classic request for `digest`, as Google would make it for the dev app ("Integrity verdicts" payload shape). */
export async function mintPlayIntegrityToken(android: DevPlayIntegrity, digest: Uint8Array, options: PlayVerdictOptions = {}): Promise<string> {
  const now = options.now ?? new Date();
  const packageName = options.packageName ?? android.packageName;
  const verdict = {
    requestDetails: { requestPackageName: packageName, nonce: options.nonce ?? Buffer.from(digest).toString('base64url'), timestampMillis: String(options.timestampMillis ?? now.getTime()) },
    appIntegrity: { appRecognitionVerdict: options.appRecognitionVerdict ?? 'PLAY_RECOGNIZED', packageName, certificateSha256Digest: [createHash('sha256').update(packageName).digest('base64url')], versionCode: '1' },
    deviceIntegrity: { deviceRecognitionVerdict: options.deviceLabels ?? ['MEETS_DEVICE_INTEGRITY'] },
    accountDetails: { appLicensingVerdict: 'LICENSED' },
  };
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(verdict))).setProtectedHeader({ alg: 'ES256' }).sign(options.signingKey ?? createPrivateKey(android.signingKey));
  return new CompactEncrypt(new TextEncoder().encode(jws)).setProtectedHeader({ alg: 'A256KW', enc: 'A256GCM' }).encrypt(createSecretKey(options.decryptionKey ?? Buffer.from(android.decryptionKey, 'base64')));
}

/** What an App Attest attestation says; each field can be changed to make one the server must refuse. */
export interface AppAttestOptions {
  now?: Date;
  appId?: string;
  environment?: 'production' | 'development';
  counter?: number;
  /** The nonce in the credential certificate (by default SHA-256(authData || clientDataHash)). */
  nonce?: Uint8Array;
  /** Credential certificate validity (by default from a minute ago, for 3 days, as Apple's). */
  notBefore?: Date;
  notAfter?: Date;
  /** Another CA (certificate and key) issues the credential certificate; `chain` replaces the intermediate in x5c. */
  issuer?: { certificate: X509Certificate; key: KeyObject };
  chain?: Buffer[];
  /** Another credential id than SHA-256 of the credential key. */
  credentialId?: Uint8Array;
}

/** An App Attest attestation object (base64) of a fresh key for `clientDataHash`, in the shape of Apple's ("Validating apps that connect to your server"). */
export function mintAppAttestation(ios: DevAppAttest, clientDataHash: Uint8Array, options: AppAttestOptions = {}): string {
  const now = options.now ?? new Date();
  const credential = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = credential.publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  const y = Buffer.from(jwk.y!, 'base64url');
  const keyId = options.credentialId ?? createHash('sha256').update(Buffer.concat([Buffer.from([4]), x, y])).digest();
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(options.counter ?? 0);
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(keyId.length);
  // COSE_Key of the credential: kty EC2, alg ES256, crv P-256, x, y.
  const coseKey = encodeCbor(new Map<number, number | Buffer>([[1, 2], [3, -7], [-1, 1], [-2, x], [-3, y]]));
  const authData = Buffer.concat([
    createHash('sha256').update(options.appId ?? ios.appId).digest(),
    Buffer.from([0x40]),
    counter,
    AAGUID[options.environment ?? ios.environment],
    idLength,
    keyId,
    coseKey,
  ]);
  const nonce = options.nonce ?? createHash('sha256').update(authData).update(clientDataHash).digest();
  const issuer = options.issuer ?? { certificate: new X509Certificate(ios.intermediateCertificate), key: createPrivateKey(ios.intermediateKey) };
  const leaf = buildCertificate({
    commonName: Buffer.from(keyId).toString('hex'),
    organization: 'keyfront dev',
    publicKey: credential.publicKey,
    issuer,
    ca: false,
    notBefore: options.notBefore ?? new Date(now.getTime() - 60_000),
    notAfter: options.notAfter ?? new Date(now.getTime() + 3 * DAY_MS),
    extensions: [{ oid: APP_ATTEST_NONCE_OID, value: nonceExtensionValue(nonce) }],
  });
  const x5c = [leaf.raw, ...(options.chain ?? [issuer.certificate.raw])];
  return encodeCbor({ fmt: 'apple-appattest', attStmt: { x5c, receipt: Buffer.alloc(0) }, authData }).toString('base64');
}

/** SHA-256 of the upload's canonical form (node:crypto; the phone computes the same with WebCrypto). */
export function devUploadDigest(fields: CanonicalUploadFields): Buffer {
  return createHash('sha256').update(canonicalUpload(fields)).digest();
}

/** The attestation payload of `platform` for this upload (whose `platform` field must already say it). */
export async function attestDevUpload(attestation: DevAttestation, platform: AttestationPlatform, fields: CanonicalUploadFields, now: Date = new Date()): Promise<string> {
  const digest = devUploadDigest({ ...fields, platform });
  return platform === 'android' ? mintPlayIntegrityToken(attestation.android, digest, { now }) : mintAppAttestation(attestation.ios, digest, { now });
}

