/**
 * The phones' file check, remembered. A million simulated phones download the same few hundred
 * files; the client checks each with `verifyExportFile` (unzip, parse, every key, the signature),
 * about 3 ms a file on this machine, far too slow to repeat for every equivalence class of phones.
 * The memo runs the real check and reuses its answer for the same file bytes, key and expectations:
 *
 * - a failure only for the very same expectations, the clocks included;
 * - a success also for a phone whose clocks (every `...nowSeconds` expectation: the phone's own, and
 *   the server's time where the client passes it) read later than those of a check that passed.
 *   This is the one assumption the simulation makes about the client: a file accepted at one time
 *   is accepted at any later time (the clock only refuses windows that end in the future). It is
 *   checked: a share of the reused answers is verified again for real, and every disagreement is
 *   counted (`mismatches`); the benchmark fails when there is one.
 */
import { hash } from 'node:crypto';
import { ClientError, verifyExportFile, type AcceptedKeys, type ExportVerifier, type VerificationKey } from '../../../client';
import type { Random } from './random';

export interface VerifyCounters {
  /** Real `verifyExportFile` calls. */
  real: number;
  /** Answers reused. */
  reused: number;
  /** Reused answers verified again for real, and those that disagreed. */
  rechecked: number;
  mismatches: number;
}

/** The clocks a check is given (`nowSeconds`, the phone's; with issue 23 also `serverNowSeconds`), in a fixed order. */
type Clocks = (number | undefined)[];

interface Entry {
  /** The clocks at which the file passed (a few), and what the check returned. */
  passed: Clocks[];
  verified?: Awaited<ReturnType<ExportVerifier>>;
  /** Failures by the exact clocks they happened at. */
  failures: Map<string, ClientError>;
}

const MAX_PASSES_KEPT = 8;
const MAX_FAILURES_KEPT = 64;

function outcomeOf(result: { ok: true } | { ok: false; error: unknown }): string {
  return result.ok ? 'ok' : result.error instanceof ClientError ? result.error.code : String(result.error);
}

export class VerifyMemo {
  readonly counters: VerifyCounters = { real: 0, reused: 0, rechecked: 0, mismatches: 0 };
  private readonly entries = new Map<string, Entry>();
  private readonly keyIds = new Map<object, number>();

  constructor(
    private readonly random: Random,
    /** Share of reused answers checked again for real. */
    private readonly recheckShare = 0.002,
  ) {}

  readonly verify: ExportVerifier = async (bytes, key, expect) => {
    // Every `...nowSeconds` expectation is a clock; everything else must match exactly.
    const names = Object.keys(expect).filter((name) => /nowseconds$/i.test(name)).sort();
    const clocks: Clocks = names.map((name) => (expect as Record<string, number | undefined>)[name]);
    const rest = Object.fromEntries(Object.entries(expect).filter(([name]) => !names.includes(name)));
    const id = `${hash('sha1', bytes, 'base64')}\u0000${JSON.stringify(rest)}\u0000${names.join(',')}\u0000${this.keyIdentity(key)}`;
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { passed: [], failures: new Map() };
      this.entries.set(id, entry);
    }
    const failed = entry.failures.get(JSON.stringify(clocks));
    // A pass at clocks no later than these: every clock reads the same or later now.
    const passed = entry.passed.some((at) => at.every((seconds, i) => seconds !== undefined && clocks[i] !== undefined && (clocks[i] as number) >= seconds));
    if (failed || passed) {
      this.counters.reused += 1;
      if (this.random() < this.recheckShare) {
        this.counters.rechecked += 1;
        const real = await this.real(bytes, key, expect);
        if (outcomeOf(real) !== (failed ? failed.code : 'ok')) this.counters.mismatches += 1;
      }
      if (failed) throw failed;
      return { ...(entry.verified as Awaited<ReturnType<ExportVerifier>>) };
    }
    const result = await this.real(bytes, key, expect);
    if (!result.ok) {
      if (result.error instanceof ClientError && entry.failures.size < MAX_FAILURES_KEPT) entry.failures.set(JSON.stringify(clocks), result.error);
      throw result.error;
    }
    if (clocks.every((seconds) => seconds !== undefined) && entry.passed.length < MAX_PASSES_KEPT) entry.passed.push(clocks);
    entry.verified = result.value;
    return result.value;
  };

  /** Keys are compared by identity (a CryptoKey, a JWK object) or value (a PEM), with their id and version. */
  private keyIdentity(keys: AcceptedKeys): string {
    return (Array.isArray(keys) ? (keys as readonly VerificationKey[]) : [keys as VerificationKey]).map((key) => this.oneKeyIdentity(key)).join(',');
  }

  private oneKeyIdentity(key: VerificationKey): string {
    const publicKey = key.publicKey as unknown;
    let id: string;
    if (typeof publicKey === 'object' && publicKey !== null) {
      if (!this.keyIds.has(publicKey)) this.keyIds.set(publicKey, this.keyIds.size);
      id = `#${this.keyIds.get(publicKey) as number}`;
    } else {
      id = String(publicKey);
    }
    return `${id}\u0000${key.keyId ?? ''}\u0000${key.keyVersion ?? ''}`;
  }

  private async real(...args: Parameters<ExportVerifier>): Promise<{ ok: true; value: Awaited<ReturnType<ExportVerifier>> } | { ok: false; error: unknown }> {
    this.counters.real += 1;
    try {
      return { ok: true, value: await verifyExportFile(...args) };
    } catch (error) {
      return { ok: false, error };
    }
  }
}
