/** Why an attestation did not pass: one of the stable attestation codes and a sentence for the caller (never the token's content). */
import type { AttestationCode } from '../errors';

export class AttestationFailure extends Error {
  override readonly name = 'AttestationFailure';
  constructor(
    readonly code: Exclude<AttestationCode, 'attestation_required'>,
    message: string,
  ) {
    super(message);
  }
}
