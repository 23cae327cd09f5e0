/**
 * A phone: the sync of one region with its state kept between calls, and chaff at a configured
 * rate. The drills and the fleet simulation's HTTP mode drive many of these; the CLI drives one.
 */
import type { VerificationKey } from './public-key';
import { runtimeOf, type ClientEnvironment, type RetryPolicy } from './retry';
import { emptyState, type PhoneState } from './state';
import { syncRegion, type SyncOptions, type SyncReport } from './sync';
import { sendChaff, type Registration } from './upload';

export interface PhoneOptions {
  baseUrl: string;
  region: string;
  key: VerificationKey;
  env?: ClientEnvironment;
  retry?: Partial<RetryPolicy>;
  /** Saved state (from `phone.state`); a fresh phone's when absent. */
  state?: PhoneState;
  /** Probability that a sync also sends one chaff upload (0, the default, sends none). */
  chaffRate?: number;
  registration?: Registration;
}

export interface PhoneSyncReport extends SyncReport {
  /** Whether a chaff upload went out with this sync, and how it ended. */
  chaff: 'none' | 'sent' | 'failed';
}

export class Phone {
  private current: PhoneState;

  constructor(private readonly options: PhoneOptions) {
    this.current = options.state ?? emptyState(options.region);
  }

  /** A copy of the state, ready for `JSON.stringify`. */
  get state(): PhoneState {
    return { ...this.current, index: { ...this.current.index }, files: [...this.current.files] };
  }

  /** Syncs the region; on failure the state stays as it was and the `ClientError` is thrown. */
  async sync(options: Pick<SyncOptions, 'abortSignal' | 'onProgress'> = {}): Promise<PhoneSyncReport> {
    const { report, state } = await syncRegion({ ...this.options, ...options }, this.current);
    this.current = state;
    return { ...report, chaff: await this.maybeChaff(options.abortSignal) };
  }

  private async maybeChaff(abortSignal: AbortSignal | undefined): Promise<PhoneSyncReport['chaff']> {
    const rate = this.options.chaffRate ?? 0;
    if (rate <= 0 || runtimeOf(this.options.env).random() >= rate) return 'none';
    try {
      await sendChaff(this.options.baseUrl, { ...this.options, ...(abortSignal ? { abortSignal } : {}) });
      return 'sent';
    } catch {
      // Chaff is cover traffic: its failure changes nothing for the phone.
      return 'failed';
    }
  }
}
