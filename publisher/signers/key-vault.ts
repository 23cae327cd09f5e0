/**
 * The production signer: an ES256 key in Azure Key Vault (HSM-backed). The private key never
 * leaves the vault; we send SHA-256 of export.bin and get back the raw r||s, which GAEN wants as DER.
 */
import { createHash } from 'node:crypto';
import type { TokenCredential } from '@azure/core-auth';
import { CryptographyClient, type CryptographyClientOptions } from '@azure/keyvault-keys';
import type { SignatureInfo } from '../../proto/schema';
import { derFromRawSignature } from '../../proto/signature';
import { partsOf, type SignedData, type Signer, type SignOptions } from '../../proto/signer';
import { signatureInfoFor, type SignerIdentity } from './local';

export class KeyVaultSigner implements Signer {
  readonly signatureInfo: SignatureInfo;
  private readonly client: CryptographyClient;

  /**
   * @param keyId the key's identifier, `https://{vault}.vault.azure.net/keys/{name}/{version}`
   *   (pin the version: a rotation is a new `keyVersion` in the SignatureInfo too).
   */
  constructor(keyId: string, credential: TokenCredential, identity: SignerIdentity, clientOptions: CryptographyClientOptions = {}) {
    this.client = new CryptographyClient(keyId, credential, clientOptions);
    this.signatureInfo = signatureInfoFor(identity);
  }

  async sign(data: SignedData, options: SignOptions = {}): Promise<Buffer> {
    const hash = createHash('sha256');
    for (const part of partsOf(data)) hash.update(part);
    const digest = hash.digest();
    const result = await this.client.sign('ES256', digest, { abortSignal: options.abortSignal });
    return derFromRawSignature(result.result);
  }
}
