/**
 * Chaff must not stand out by its timing either: a network observer who sees a phone's uploads
 * and times the answers should not tell chaff from a real upload. The durations of recent real
 * uploads are kept in a small ring; each chaff answer waits for one of them picked at random, so
 * chaff follows the same distribution (as the GAEN reference servers' chaff tracker does).
 */

/** Never hold a chaff answer longer than this, whatever was recorded. */
export const MAX_CHAFF_DELAY_MS = 10_000;

export class UploadLatencies {
  private readonly ring: number[] = [];
  private next = 0;

  constructor(private readonly size = 128) {}

  /** Records how long a real upload took, in ms. */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    if (this.ring.length < this.size) this.ring.push(ms);
    else this.ring[this.next] = ms;
    this.next = (this.next + 1) % this.size;
  }

  /** How long a chaff answer should take in all: a recent upload's duration (0 before any). */
  sample(random: () => number = Math.random): number {
    if (this.ring.length === 0) return 0;
    return Math.min(MAX_CHAFF_DELAY_MS, this.ring[Math.floor(random() * this.ring.length)]);
  }
}
