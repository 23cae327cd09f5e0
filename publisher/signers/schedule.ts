/**
 * Which keys sign a file: the publisher's signers, each with its validity window and regions. A
 * file is signed by every signer valid for its region when it is built (by the wall clock), in the
 * configured order; during a key rotation that is the old key and the new one, so phones configured
 * with either verify it. A file already published is never signed again: the schedule only decides
 * what new files carry.
 */
import type { Signer } from '../../proto/signer';
import { signsAt, type SignerWindow } from './signer-settings';

/** A signer and when and where it signs. */
export interface ScheduledSigner {
  signer: Signer;
  window: SignerWindow;
}

/** No signer is valid for a region at a moment: nothing can be published there until the settings change. */
export class NoValidSignerError extends Error {
  override readonly name = 'NoValidSignerError';
}

export class SignerSchedule {
  readonly entries: readonly ScheduledSigner[];

  constructor(entries: readonly ScheduledSigner[]) {
    if (entries.length === 0) throw new Error('a signer schedule needs at least one signer');
    this.entries = [...entries];
  }

  /** One signer that always signs (the single-key settings, tests, drills). */
  static always(signer: Signer): SignerSchedule {
    return new SignerSchedule([{ signer, window: {} }]);
  }

  /** The signers of a file of `region` built at `atSeconds` (UTC), in order; throws `NoValidSignerError` when none is valid. */
  signersFor(region: string, atSeconds: number): Signer[] {
    const valid = this.entries.filter(({ window }) => signsAt(window, region, atSeconds));
    if (valid.length === 0) {
      const names = this.entries.map(({ signer: { signatureInfo: info } }) => `${info.verificationKeyId ?? ''}/${info.verificationKeyVersion ?? ''}`);
      throw new NoValidSignerError(`no signing key is valid for region ${region} at ${new Date(atSeconds * 1000).toISOString()} (configured: ${names.join(', ')}): check KEYFRONT_SIGNERS`);
    }
    return valid.map(({ signer }) => signer);
  }
}

/** What a publisher signs with: one signer, or a schedule of several. */
export type PublisherSigning = Signer | SignerSchedule;

/** The schedule of `signing` (one signer: valid always, everywhere). */
export function scheduleOf(signing: PublisherSigning): SignerSchedule {
  return signing instanceof SignerSchedule ? signing : SignerSchedule.always(signing);
}
