/**
 * The stable codes of federation: why a peer's file was refused (nothing of it imported, never
 * asked for again) or put off (nothing of it imported, asked for again on the next run, and the
 * peer's progress stops before it). Metrics, logs, the CLI and README name these words.
 */
import type { ExportErrorCode } from '../../proto/errors';
import type { TekRuleCode } from '../../proto/tek';

/** A file that can never pass: `export verify`'s codes, the region, the key clock, the size, an HTML page for a zip. */
export type RefusalCode = ExportErrorCode | 'wrong_region' | Extract<TekRuleCode, 'rolling_start_too_old' | 'rolling_start_in_future'>;

/** A file or index the peer could not give now: tried again on the next run. */
export type DeferralCode = 'file_missing' | 'peer_timeout' | 'peer_unreachable' | 'peer_error' | 'html_answer';

/** The index itself could not be used: the run imports nothing. */
export type IndexCode = 'index_missing' | 'index_invalid';

export type FederationCode = RefusalCode | DeferralCode | IndexCode;

/** One failure of a peer's answer, with its code and a sentence (never key data). */
export class FederationError extends Error {
  override readonly name = 'FederationError';
  constructor(
    readonly code: FederationCode,
    message: string,
    /** Tried again on the next run (the peer may answer later), rather than refused for good. */
    readonly retry: boolean,
  ) {
    super(message);
  }
}
