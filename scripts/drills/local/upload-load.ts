/**
 * Phones uploading confirmed cases through the edge during a drill: each upload gets a
 * verification certificate from the dev health authority and goes through a client `Phone`'s
 * upload queue (register, then upload, retried as a phone retries: `UPLOAD_RETRY_POLICY`, 45
 * minutes of tries, `Retry-After` honoured; only the backoff is shortened to the drill's time
 * scale). It records what the phones saw: the uploads accepted (with their keys, to find later),
 * those that failed, and the 503s with `Retry-After` that the API answered on the way.
 */
import { connect } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { ClientError, Phone, type RetryPolicy } from '../../../client';
import type { DevMaterial } from '../../local-stack/dev-material';
import { randomDailyKeys } from '../../local-stack/dev-keys';
import { issueVerificationCertificate } from '../../local-stack/verification-certificate';
import { DRILL_REGION } from './drill-stack';

export interface UploadEvent {
  startedAt: number;
  endedAt: number;
  ok: boolean;
  /** Keys (hex) of an accepted upload. */
  keys: string[];
  code?: string;
  message?: string;
}

export interface UploadLoadOptions {
  baseUrl: string;
  material: DevMaterial;
  /** Uploads in flight at once. */
  concurrency: number;
  /** Pause of each uploader between its uploads. */
  pauseInMs: number;
  /** Over `UPLOAD_RETRY_POLICY`. */
  retry?: Partial<RetryPolicy>;
  /** Wraps each phone's fetch (the soak times every request with it). */
  wrapFetch?: (fetch: PhoneFetch) => PhoneFetch;
}

/** The drill's phones back off as real ones do, on the drill's time scale (seconds, not a minute). */
const DRILL_UPLOAD_BACKOFF: Partial<RetryPolicy> = { baseDelayInMs: 250, maxDelayInMs: 4000 };

export type PhoneFetch = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * An HTTP agent whose connections leave from `localAddress` (a loopback address of its own). The
 * connector is ours: undici's `connect.localAddress` option is not passed on to the socket.
 */
export function phoneAgent(localAddress: string): Agent {
  return new Agent({
    connect: (options, callback) => {
      const socket = connect({ host: options.hostname, port: Number(options.port), localAddress });
      socket.once('connect', () => callback(null, socket));
      socket.once('error', (error) => callback(error, null));
      return socket;
    },
  });
}

export class UploadLoad {
  readonly events: UploadEvent[] = [];
  /** Answers 503 that carried `Retry-After`. */
  unavailableWithRetryAfter = 0;
  /** Answers 503 without it (must stay 0). */
  unavailableWithoutRetryAfter = 0;
  private running = false;
  private workers: Promise<void>[] = [];
  private phonesUsed = 0;
  private readonly agents: Agent[] = [];

  constructor(private readonly options: UploadLoadOptions) {}

  /**
   * fetch from the next phone's own loopback address (127.0.x.y: each upload is another phone, as
   * the edge's per-client rate limit sees phones), counting the 503s phones receive.
   */
  private phoneFetch(): PhoneFetch {
    const n = this.phonesUsed++ % 60_000;
    const agent = (this.agents[n] ??= phoneAgent(`127.0.${2 + Math.floor(n / 250)}.${1 + (n % 250)}`));
    const fetch: PhoneFetch = async (input, init) => {
      const response = (await undiciFetch(input, { ...(init as object), dispatcher: agent })) as unknown as Response;
      this.observe(response);
      return response;
    };
    return this.options.wrapFetch ? this.options.wrapFetch(fetch) : fetch;
  }

  private observe(response: Response): void {
    if (response.status === 503) {
      if (response.headers.get('retry-after')) this.unavailableWithRetryAfter++;
      else this.unavailableWithoutRetryAfter++;
    }
  }

  start(): void {
    this.running = true;
    this.workers = Array.from({ length: this.options.concurrency }, () => this.work());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    await Promise.all(this.agents.map((agent) => agent.close()));
    this.agents.length = 0;
  }

  private async work(): Promise<void> {
    while (this.running) {
      await this.uploadOne();
      await new Promise((resolve) => setTimeout(resolve, this.options.pauseInMs * (0.5 + Math.random())));
    }
  }

  /** One phone's whole upload: register, certificate, upload. */
  async uploadOne(): Promise<UploadEvent> {
    const startedAt = Date.now();
    const phone = new Phone({ baseUrl: this.options.baseUrl, region: DRILL_REGION, uploadRetry: this.options.retry ?? DRILL_UPLOAD_BACKOFF, env: { fetch: this.phoneFetch() } });
    // Keys of days whose embargo is over, so all of them are published by the drill's end.
    const keys = randomDailyKeys(12, new Date(), 2);
    let event: UploadEvent;
    try {
      const certificate = await issueVerificationCertificate(this.options.material.healthAuthority, { keys });
      await phone.upload({ temporaryExposureKeys: keys, healthAuthorityID: this.options.material.healthAuthority.id, ...certificate }, { register: true });
      event = { startedAt, endedAt: Date.now(), ok: true, keys: keys.map((key) => Buffer.from(key.key, 'base64').toString('hex')) };
    } catch (error) {
      event = { startedAt, endedAt: Date.now(), ok: false, keys: [], code: error instanceof ClientError ? error.code : 'unexpected', message: (error as Error).message };
    }
    this.events.push(event);
    return event;
  }
}
