/**
 * Key files given on the command line, read with errors that say what was expected instead of
 * OpenSSL's ("DECODER routines::unsupported"): which kind of key, in which encoding, and where one
 * comes from.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { CliError } from './cli-error';
import { readInputFile } from './cli-io';

const PRIVATE_EXPECTED = 'an ECDSA P-256 private key in PEM ("-----BEGIN PRIVATE KEY-----" or "-----BEGIN EC PRIVATE KEY-----"), such as signing-private.pem from `keyfront keys generate`';
const PUBLIC_EXPECTED = 'an ECDSA P-256 public key, in PEM ("-----BEGIN PUBLIC KEY-----", such as signing-public.pem) or as a JWK JSON object';

/** What a key file that could not be used holds instead, in words. */
function whatItHolds(text: string, key: KeyObject | undefined): string {
  if (key?.asymmetricKeyType === 'ec') return `an EC key on curve ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}`;
  if (key) return `a${key.asymmetricKeyType === 'rsa' ? 'n' : ''} ${key.asymmetricKeyType?.toUpperCase() ?? 'unknown'} key`;
  if (/-----BEGIN CERTIFICATE-----/.test(text)) return 'a certificate, not a key';
  if (/-----BEGIN [A-Z ]*-----/.test(text)) return 'PEM that is not a readable key';
  return text.trim() === '' ? 'nothing (the file is empty)' : 'no PEM key';
}

function attempt(read: () => KeyObject): KeyObject | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** The P-256 private key of a PEM file; a CliError that says what the file holds instead. */
export async function readPrivateKeyFile(file: string, option: string): Promise<KeyObject> {
  const text = (await readInputFile(file, 'private key')).toString('utf8');
  const key = attempt(() => createPrivateKey(text));
  if (key?.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return key;
  if (!key && /-----BEGIN PUBLIC KEY-----/.test(text)) throw new CliError(`${option} ${file} holds a public key; signing needs the private one: ${PRIVATE_EXPECTED}`);
  throw new CliError(`${option} ${file} holds ${whatItHolds(text, key)}; expected ${PRIVATE_EXPECTED}`);
}

/** The P-256 public key of a PEM or JWK file (the key text itself, for the verifier); a CliError that says what the file holds instead. */
export async function readPublicKeyFile(file: string, option: string): Promise<Buffer> {
  const bytes = await readInputFile(file, 'public key');
  const text = bytes.toString('utf8');
  const key = attempt(() => (text.trim().startsWith('{') ? createPublicKey({ key: JSON.parse(text) as import('node:crypto').JsonWebKey, format: 'jwk' }) : createPublicKey(text)));
  if (key?.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    if (key.type === 'public' && !/PRIVATE KEY/.test(text) && !/"d"\s*:/.test(text)) return bytes;
    throw new CliError(`${option} ${file} holds a private key; pass the public one (never hand out the private key to verify): ${PUBLIC_EXPECTED}`);
  }
  throw new CliError(`${option} ${file} holds ${whatItHolds(text, key)}; expected ${PUBLIC_EXPECTED}`);
}

/**
 * The values of an option that goes with each of `count` keys given by `keysOption` (repeated):
 * given once, it serves every key; otherwise once per key, in the same order.
 */
export function perKey(option: string, values: readonly string[], count: number, keysOption: string): string[] {
  if (values.length === count) return [...values];
  if (values.length === 1) return Array.from({ length: count }, () => values[0]);
  throw new CliError(`${option} is given ${values.length} times for ${count} ${keysOption}: give it once, or once per key in the same order`);
}
