/**
 * A phone: the sync of one region with its state kept between calls, chaff at a configured rate,
 * and the uploads it keeps until the API answers them. The drills and the fleet simulation's HTTP
 * mode drive many of these; the CLI drives one. Everything a phone must remember is in `state`
 * (JSON): save it after each call and give it back to the next `Phone`.
 */
import { ClientError } from './errors';
import { runtimeOf, type ClientEnvironment, type RetryOptions, type RetryPolicy } from './retry';
import { emptyState, type PhoneState } from './state';
import { syncRegion, type SyncOptions, type SyncReport } from './sync';
import { sendChaff, type Registration, type UploadRequest, type UploadResult } from './upload';
import { newPendingUpload, sendPendingUpload, type PendingUpload, type UploadOutcome } from './upload-queue';
import type { AcceptedKeys } from './verify-export';

export interface PhoneOptions {
  baseUrl: string;
  region: string;
  /** The health authority's key the files must verify with (or its keys, during a rotation); a phone that only uploads needs none. */
  key?: AcceptedKeys;
  env?: ClientEnvironment;
  /** Over `DEFAULT_RETRY_POLICY`, for syncs and chaff. */
  retry?: Partial<RetryPolicy>;
  /** Over `UPLOAD_RETRY_POLICY` (45 minutes of tries), for queued uploads. */
  uploadRetry?: Partial<RetryPolicy>;
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

export interface SendUploadsOptions {
  abortSignal?: AbortSignal;
  onRetry?: RetryOptions['onRetry'];
  /** Only these queued uploads (by id); all, oldest first, when absent. */
  ids?: readonly string[];
}

function copyOf(state: PhoneState): PhoneState {
  return {
    ...state,
    index: { ...state.index },
    files: [...state.files],
    ...(state.pending ? { pending: [...state.pending] } : {}),
    ...(state.uploads ? { uploads: structuredClone(state.uploads) } : {}),
  };
}

export class Phone {
  private current: PhoneState;

  constructor(private readonly options: PhoneOptions) {
    this.current = options.state ? copyOf(options.state) : emptyState(options.region);
  }

  /** A copy of the state, ready for `JSON.stringify`. */
  get state(): PhoneState {
    return copyOf(this.current);
  }

  /** Uploads queued and not answered yet, oldest first. */
  get pendingUploads(): PendingUpload[] {
    return structuredClone(this.current.uploads ?? []);
  }

  /**
   * Syncs the region: every good file is kept, a bad one is reported in `failed` and tried again
   * next time. When the index cannot be read (or on cancel), the `ClientError` is thrown and the
   * state stays as it was.
   */
  async sync(options: Pick<SyncOptions, 'abortSignal' | 'onProgress'> = {}): Promise<PhoneSyncReport> {
    const key = this.options.key;
    if (!key) throw new ClientError('public_key_invalid', "a phone syncs only with the health authority's public key (PhoneOptions.key)");
    const { report, state } = await syncRegion({ ...this.options, key, ...options }, this.current);
    // The queue as it is now: an upload answered while the sync ran must not come back.
    const { uploads: _atStart, ...synced } = state;
    this.current = { ...synced, ...(this.current.uploads ? { uploads: this.current.uploads } : {}) };
    return { ...report, chaff: await this.maybeChaff(options.abortSignal) };
  }

  /**
   * Queues an upload in the state (durable once the caller saves `state`) and returns its id. With
   * `register`, the phone registers once before the first send. A request the API could never
   * accept is refused at once with `bad_request`, and nothing is queued.
   */
  queueUpload(request: UploadRequest, options: { register?: boolean } = {}): string {
    const pending = newPendingUpload(request, { register: options.register ?? false, ...(this.options.registration ? { registration: this.options.registration } : {}), nowInMs: runtimeOf(this.options.env).now() });
    this.current = { ...this.current, uploads: [...(this.current.uploads ?? []), pending] };
    return pending.id;
  }

  /**
   * Sends queued uploads, oldest first, each until the API answers or its tries run out (45
   * minutes by default). An answered upload (accepted or refused) leaves the queue; one without an
   * answer stays, and the uploads after it wait for the next call (the store or the network is
   * down for them too).
   */
  async sendUploads(options: SendUploadsOptions = {}): Promise<UploadOutcome[]> {
    const runtime = runtimeOf(this.options.env);
    const outcomes: UploadOutcome[] = [];
    for (const queued of this.pendingUploads) {
      if (options.ids && !options.ids.includes(queued.id)) continue;
      const { outcome, pending } = await sendPendingUpload(this.options.baseUrl, queued, {
        ...(this.options.env ? { env: this.options.env } : {}),
        ...(this.options.uploadRetry ? { retry: this.options.uploadRetry } : {}),
        ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
        ...(options.onRetry ? { onRetry: options.onRetry } : {}),
        nowInMs: runtime.now,
      });
      const rest = (this.current.uploads ?? []).flatMap((entry) => (entry.id !== queued.id ? [entry] : pending ? [pending] : []));
      this.current = { ...this.current, uploads: rest };
      if (rest.length === 0) delete this.current.uploads;
      outcomes.push(outcome);
      if (outcome.status === 'pending') break;
    }
    return outcomes;
  }

  /**
   * Queues one upload and sends it: resolves to the API's answer. Throws its `ClientError` when the
   * API refused it (it left the queue) or did not answer (it stays queued: save `state`, and
   * `sendUploads` later).
   */
  async upload(request: UploadRequest, options: { register?: boolean; abortSignal?: AbortSignal; onRetry?: RetryOptions['onRetry'] } = {}): Promise<UploadResult> {
    const id = this.queueUpload(request, options);
    const [outcome] = await this.sendUploads({ ...options, ids: [id] });
    if (outcome === undefined) throw new ClientError('bad_request', 'the upload was not queued');
    if (outcome.status === 'accepted') return outcome.result;
    throw outcome.error;
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
