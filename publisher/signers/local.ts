/** The local signer: a P-256 private key in a PEM file, for development and tests. Production signs in Key Vault. */
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SignatureInfo } from '../../proto/schema';
import { ECDSA_P256_SHA256_OID } from '../../proto/signature';
import { partsOf, type SignedData, type Signer } from '../../proto/signer';

export interface SignerIdentity {
  /** `verification_key_id`, e.g. the MCC "440". */
  keyId: string;
  /** `verification_key_version`, e.g. "v1". */
  keyVersion: string;
}

/** The SignatureInfo that keyfront writes for a key id and version. */
export function signatureInfoFor(identity: SignerIdentity): SignatureInfo {
  return { verificationKeyVersion: identity.keyVersion, verificationKeyId: identity.keyId, signatureAlgorithm: ECDSA_P256_SHA256_OID };
}

export class LocalSigner implements Signer {
  readonly signatureInfo: SignatureInfo;

  constructor(
    private readonly privateKey: KeyObject,
    identity: SignerIdentity,
  ) {
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error('the local signing key must be an ECDSA P-256 private key');
    }
    this.signatureInfo = signatureInfoFor(identity);
  }

  /** Reads a PEM private key (PKCS#8 or SEC1). */
  static async fromPemFile(file: string, identity: SignerIdentity): Promise<LocalSigner> {
    let key: KeyObject;
    try {
      key = createPrivateKey(await readFile(file, 'utf8'));
    } catch (error) {
      throw new Error(`cannot read the private key in ${file}: ${(error as Error).message}`, { cause: error });
    }
    return new LocalSigner(key, identity);
  }

  async sign(data: SignedData): Promise<Buffer> {
    const signing = createSign('sha256');
    for (const part of partsOf(data)) signing.update(part);
    return signing.sign({ key: this.privateKey, dsaEncoding: 'der' });
  }
}
