/**
 * Device attestation of an upload, in the mode of its health authority: `off` ignores the fields,
 * `report` verifies and counts by code without refusing, `enforce` refuses with a 401 and the
 * code. The attestation is bound to the upload's canonical form (`proto/canonical-upload.ts`).
 * The upload handler calls it after every other check and before the store: only a caller with a
 * valid certificate reaches this, the most expensive check. Nothing of the token, the device or
 * the certificate chain is logged, counted or kept: the metric carries mode, platform and code.
 */
import { createHash } from 'node:crypto';
import { ATTESTATION_PLATFORMS, canonicalUpload, type AttestationPlatform } from '../../proto/canonical-upload';
import type { Logger } from '../../platform/log';
import type { Metrics } from '../../platform/metrics';
import type { HealthAuthority } from '../config';
import { HttpError, type AttestationCode } from '../errors';
import type { PublishRequest } from '../upload/upload';
import { AppAttestVerifier } from './app-attest';
import { AttestationFailure } from './failure';
import { verifyPlayIntegrity } from './play-integrity';
import type { AttestationMode, AttestationSettings } from './settings';

/** What one check found: `ok` or the code a refusal would carry. */
export interface AttestationOutcome {
  mode: Exclude<AttestationMode, 'off'>;
  platform: AttestationPlatform | 'none';
  code: AttestationCode | 'ok';
  message?: string;
}

/** The digest an attestation of `request` must carry: SHA-256 of its canonical form. */
export function uploadDigest(request: PublishRequest): Buffer {
  const form = canonicalUpload({ ...request, temporaryExposureKeys: request.keys });
  return createHash('sha256').update(form).digest();
}

function isPlatform(value: string | undefined): value is AttestationPlatform {
  return (ATTESTATION_PLATFORMS as readonly (string | undefined)[]).includes(value);
}

export class AttestationVerifier {
  private readonly appAttest?: AppAttestVerifier;

  constructor(
    private readonly settings: AttestationSettings,
    private readonly metrics: Pick<Metrics, 'attestation'>,
    private readonly logger: Logger,
  ) {
    if (settings.ios) this.appAttest = new AppAttestVerifier(settings.ios);
  }

  /** The mode that applies to uploads certified by `authority`. */
  modeOf(authority: HealthAuthority): AttestationMode {
    return authority.attestation ?? this.settings.defaultMode;
  }

  /** Checks the upload's attestation as its authority's mode says; in enforce mode a failure is a 401 `HttpError`. */
  async check(request: PublishRequest, authority: HealthAuthority, now: Date): Promise<AttestationOutcome | undefined> {
    const mode = this.modeOf(authority);
    if (mode === 'off') return undefined;
    const outcome = await this.outcomeOf(request, mode, now);
    this.metrics.attestation(outcome.mode, outcome.platform, outcome.code);
    if (mode === 'enforce' && outcome.code !== 'ok') throw new HttpError(401, outcome.code, outcome.message ?? 'the device attestation was refused');
    return outcome;
  }

  private async outcomeOf(request: PublishRequest, mode: AttestationOutcome['mode'], now: Date): Promise<AttestationOutcome> {
    const platform = isPlatform(request.platform) ? request.platform : 'none';
    const payload = request.deviceVerificationPayload;
    if (payload === undefined) return { mode, platform, code: 'attestation_required', message: 'this health authority requires a device attestation (platform and deviceVerificationPayload)' };
    try {
      if (platform === 'none') throw new AttestationFailure('attestation_invalid', `platform must be one of ${ATTESTATION_PLATFORMS.join(', ')}`);
      const digest = uploadDigest(request);
      if (platform === 'android') {
        if (!this.settings.android) throw new AttestationFailure('attestation_invalid', 'this server takes no Android attestation');
        await verifyPlayIntegrity(payload, digest, this.settings.android, now);
      } else {
        if (!this.appAttest) throw new AttestationFailure('attestation_invalid', 'this server takes no iOS attestation');
        this.appAttest.verify(payload, digest, now);
      }
      return { mode, platform, code: 'ok' };
    } catch (error) {
      if (error instanceof AttestationFailure) return { mode, platform, code: error.code, message: error.message };
      // A payload that trips a parser is a bad payload; report mode must not fail the upload for it. Only the error's name is logged.
      this.logger.warn('device attestation could not be checked', { platform, errorName: (error as Error)?.name ?? typeof error });
      return { mode, platform, code: 'attestation_invalid', message: 'the device attestation cannot be read' };
    }
  }
}
