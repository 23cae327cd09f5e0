/**
 * The seam between the codec and whoever holds the signing key: Key Vault in Azure (the publisher
 * only), a local PEM file in development. Implementations live in `publisher/signers/`, so the
 * write API never links signing code.
 */
import type { SignatureInfo } from './schema';

/** Bytes to sign, whole or as consecutive parts. */
export type SignedData = Uint8Array | readonly Uint8Array[];

/** The parts of `SignedData`, in order. */
export function partsOf(data: SignedData): readonly Uint8Array[] {
  return data instanceof Uint8Array ? [data] : data;
}

export interface SignOptions {
  abortSignal?: AbortSignal;
}

export interface Signer {
  /** What goes into export.bin's `signature_infos` and export.sig: key id, version, algorithm OID. */
  readonly signatureInfo: SignatureInfo;
  /**
   * ECDSA P-256 over SHA-256 of `data`, DER-encoded. `data` may come in parts (the chunks of a
   * streamed export.bin); the signature is over their concatenation.
   */
  sign(data: SignedData, options?: SignOptions): Promise<Buffer>;
}
