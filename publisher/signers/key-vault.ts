/**
 * The production signer: an ES256 key in Azure Key Vault (HSM-backed). The private key never
 * leaves the vault; we send SHA-256 of export.bin and get back the raw r||s, which GAEN wants as DER.
 * A signature is bounded (`timeoutInMs`, KEYFRONT_KEY_VAULT_TIMEOUT_MS): the token, the key read
 * and the sign request, retries included; each request has the same timeout in the SDK too
 * (`requestOptions.timeout` of its OperationOptions,
 * learn.microsoft.com/javascript/api/@azure/core-client/operationrequestoptions), which fails it
 * without a retry.
 */
import { createHash } from 'node:crypto';
import type { TokenCredential } from '@azure/core-auth';
import { CryptographyClient, type CryptographyClientOptions } from '@azure/keyvault-keys';
import { withDeadline } from '../../platform/deadline';
import type { SignatureInfo } from '../../proto/schema';
import { derFromRawSignature } from '../../proto/signature';
import { partsOf, type SignedData, type Signer, type SignOptions } from '../../proto/signer';
import { signatureInfoFor, type SignerIdentity } from './local';

/** The default bound of one signature. */
export const DEFAULT_KEY_VAULT_TIMEOUT_IN_MS = 10_000;

export interface KeyVaultSignerOptions {
  /** Bound of one signature, its retries included (default 10 s). */
  timeoutInMs?: number;
}

export class KeyVaultSigner implements Signer {
  readonly signatureInfo: SignatureInfo;
  private readonly client: CryptographyClient;
  private readonly timeoutInMs: number;
  /** `keys/{name}/{version}`: which key, for errors (the vault's host is in the settings). */
  private readonly keyPath: string;

  /**
   * @param keyId the key's identifier, `https://{vault}.vault.azure.net/keys/{name}/{version}`
   *   (pin the version: a rotation is a new `keyVersion` in the SignatureInfo too).
   */
  constructor(keyId: string, credential: TokenCredential, identity: SignerIdentity, clientOptions: CryptographyClientOptions = {}, options: KeyVaultSignerOptions = {}) {
    this.timeoutInMs = options.timeoutInMs ?? DEFAULT_KEY_VAULT_TIMEOUT_IN_MS;
    // Short retry delays, so that a retry fits in the bound.
    this.client = new CryptographyClient(keyId, credential, { ...clientOptions, retryOptions: { maxRetries: 2, retryDelayInMs: Math.min(800, this.timeoutInMs / 10), ...clientOptions.retryOptions } });
    this.signatureInfo = signatureInfoFor(identity);
    this.keyPath = new URL(keyId).pathname.replace(/^\//, '');
  }

  async sign(data: SignedData, options: SignOptions = {}): Promise<Buffer> {
    const hash = createHash('sha256');
    for (const part of partsOf(data)) hash.update(part);
    const digest = hash.digest();
    const bound = { dependency: 'Key Vault', operation: `sign with ${this.keyPath}`, timeoutInMs: this.timeoutInMs, abortSignal: options.abortSignal };
    const result = await withDeadline(bound, (abortSignal) => this.client.sign('ES256', digest, { abortSignal, requestOptions: { timeout: this.timeoutInMs } }));
    return derFromRawSignature(result.result);
  }
}
