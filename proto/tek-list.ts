/**
 * A list of keys held in columns (one packed buffer of key bytes, one typed array per field)
 * rather than one object per key. A full file is 750,000 keys: as objects they cost ~200 bytes
 * each and scatter through the heap, so ordering and encoding them is bound by cache misses and
 * GC; in columns they cost 24 bytes each and stream (`npm run bench:export`).
 * Every key is checked against the format rules on the way in, so a list never holds a key that
 * cannot be published.
 */
import { ExportFormatError } from './errors';
import { checkTekFormat, KEY_LENGTH, type Tek } from './tek';

const NO_REPORT_TYPE = -1;
const NO_ONSET = -128;

export class TekList implements Iterable<Tek> {
  private count = 0;
  private capacity: number;
  /** Key bytes, 16 per key, in their own 4-byte aligned buffer (the encoder reads it as words). */
  keyBytes: Uint8Array;
  start: Int32Array;
  period: Uint8Array;
  risk: Uint8Array;
  reportType: Int8Array;
  onset: Int8Array;

  constructor(initialCapacity = 1024) {
    this.capacity = Math.max(1, initialCapacity);
    this.keyBytes = new Uint8Array(new ArrayBuffer(this.capacity * KEY_LENGTH));
    this.start = new Int32Array(this.capacity);
    this.period = new Uint8Array(this.capacity);
    this.risk = new Uint8Array(this.capacity);
    this.reportType = new Int8Array(this.capacity);
    this.onset = new Int8Array(this.capacity);
  }

  static from(teks: Iterable<Tek>, sizeHint = 1024): TekList {
    const list = new TekList(Array.isArray(teks) ? teks.length : sizeHint);
    for (const tek of teks) list.push(tek);
    return list;
  }

  get length(): number {
    return this.count;
  }

  /** Appends a key; throws `key_invalid` (naming the rule) for a key that breaks the format. */
  push(tek: Tek): void {
    const check = checkTekFormat(tek, this.count);
    if (!check.ok) throw new ExportFormatError('key_invalid', `key ${this.count}: ${check.message} (${check.code})`);
    if (this.count === this.capacity) this.grow();
    const i = this.count++;
    this.keyBytes.set(tek.keyData, i * KEY_LENGTH);
    this.start[i] = tek.rollingStartIntervalNumber;
    this.period[i] = tek.rollingPeriod;
    this.risk[i] = tek.transmissionRiskLevel;
    this.reportType[i] = tek.reportType ?? NO_REPORT_TYPE;
    this.onset[i] = tek.daysSinceOnsetOfSymptoms ?? NO_ONSET;
  }

  hasReportType(i: number): boolean {
    return this.reportType[i] !== NO_REPORT_TYPE;
  }

  hasOnset(i: number): boolean {
    return this.onset[i] !== NO_ONSET;
  }

  keyDataAt(i: number): Uint8Array {
    return this.keyBytes.subarray(i * KEY_LENGTH, (i + 1) * KEY_LENGTH);
  }

  /** The key at `i` as an object (copies its bytes). */
  get(i: number): Tek {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`no key at ${i} (length ${this.count})`);
    const tek: Tek = {
      keyData: Buffer.from(this.keyDataAt(i)),
      rollingStartIntervalNumber: this.start[i],
      rollingPeriod: this.period[i],
      transmissionRiskLevel: this.risk[i],
    };
    if (this.hasReportType(i)) tek.reportType = this.reportType[i];
    if (this.hasOnset(i)) tek.daysSinceOnsetOfSymptoms = this.onset[i];
    return tek;
  }

  *[Symbol.iterator](): Iterator<Tek> {
    for (let i = 0; i < this.count; i++) yield this.get(i);
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const keyBytes = new Uint8Array(new ArrayBuffer(capacity * KEY_LENGTH));
    keyBytes.set(this.keyBytes);
    this.keyBytes = keyBytes;
    this.start = copyInto(new Int32Array(capacity), this.start);
    this.period = copyInto(new Uint8Array(capacity), this.period);
    this.risk = copyInto(new Uint8Array(capacity), this.risk);
    this.reportType = copyInto(new Int8Array(capacity), this.reportType);
    this.onset = copyInto(new Int8Array(capacity), this.onset);
    this.capacity = capacity;
  }
}

function copyInto<T extends Int32Array | Uint8Array | Int8Array>(target: T, source: T): T {
  target.set(source);
  return target;
}
