/**
 * export.bin: the 16-byte header followed by one `TemporaryExposureKeyExport`.
 *
 * The message's small fields (window, region, batch, signature infos) are encoded by protobufjs
 * from export.proto. The key records, which are all of the file's bytes, are written here by
 * hand into one preallocated buffer: protobuf messages concatenate, and fields 7 and 8 come
 * last in field order, so the result is byte-identical to protobufjs encoding the whole message
 * (a test holds this) at a fraction of its time and memory (`npm run bench:export`).
 */
import { endianness } from 'node:os';
import { ExportFormatError } from './errors';
import { MAX_TIMESTAMP_SECONDS } from './export-rules';
import { TemporaryExposureKeyExport, type SignatureInfo } from './schema';
import { MAX_KEYS_PER_FILE } from './tek';
import { exportOrderGroups } from './key-order';
import type { TekList } from './tek-list';

// Decoding lives with the rules that judge what it decodes, in a module any runtime can load.
export { decodeExportBin } from './export-decode';
export { MAX_TIMESTAMP_SECONDS } from './export-rules';

/** "EK Export v1" right-padded with spaces to 16 bytes. */
export const EXPORT_HEADER = Buffer.from('EK Export v1'.padEnd(16, ' '), 'ascii');

export interface ExportHeaderFields {
  /** Window start, UTC seconds. */
  startTimestamp: number;
  /** Window end, UTC seconds. */
  endTimestamp: number;
  region: string;
  signatureInfos: readonly SignatureInfo[];
}

// Tags of the records: field number << 3 | wire type.
const TAG_KEYS = 0x3a; // 7, length-delimited
const TAG_REVISED_KEYS = 0x42; // 8, length-delimited
const TAG_KEY_DATA = 0x0a; // 1, length-delimited
const TAG_RISK = 0x10; // 2, varint
const TAG_START = 0x18; // 3, varint
const TAG_PERIOD = 0x20; // 4, varint
const TAG_REPORT_TYPE = 0x28; // 5, varint
const TAG_DAYS_SINCE_ONSET = 0x30; // 6, zigzag varint

/**
 * Bytes of export.bin handed on at a time by the streaming encoder: small, so that the caller
 * can yield to the event loop often and deflate on the thread pool never waits long for it.
 */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
/** A record is at most 2 + 36 bytes: start a new chunk when less than this is left. */
const MAX_RECORD_BYTES = 40;

function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[at++] = value;
  return at;
}

function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

/** The fields after key_data of key `i`, encoded into `out` at 0; returns their length. */
function writeMetadata(out: Uint8Array, keys: TekList, i: number): number {
  let at = 0;
  out[at++] = TAG_RISK;
  out[at++] = keys.risk[i]; // 0..8: one varint byte
  out[at++] = TAG_START;
  at = writeVarint(out, at, keys.start[i]);
  out[at++] = TAG_PERIOD;
  at = writeVarint(out, at, keys.period[i]);
  if (keys.hasReportType(i)) {
    out[at++] = TAG_REPORT_TYPE;
    out[at++] = keys.reportType[i]; // 0..5
  }
  if (keys.hasOnset(i)) {
    out[at++] = TAG_DAYS_SINCE_ONSET;
    out[at++] = zigzag(keys.onset[i]); // 0..28
  }
  return at;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Keys to write under one field tag, as runs of indices. `shared` says that every key of a run
 * has the same metadata (a group of `exportOrderGroups`), so it is encoded once per run.
 */
interface RecordRuns {
  tag: number;
  keys: TekList;
  runs: Iterable<Uint32Array>;
  shared: boolean;
}

/** Encodes records into chunks of about `chunkBytes`, each yielded as soon as it is full. */
function* recordChunks(lists: readonly RecordRuns[], chunkBytes: number): Generator<Buffer> {
  const metadata = new Uint8Array(32);
  let out = Buffer.allocUnsafe(chunkBytes);
  let at = 0;
  for (const { tag, keys, runs, shared } of lists) {
    // Key bytes are read as 32-bit words (four reads instead of sixteen): the hot loop of a file.
    const words = new Uint32Array(keys.keyBytes.buffer, keys.keyBytes.byteOffset, keys.length * 4);
    for (const run of runs) {
      let metadataLength = shared && run.length > 0 ? writeMetadata(metadata, keys, run[0]) : 0;
      for (let r = 0; r < run.length; r++) {
        const i = run[r];
        if (!shared) metadataLength = writeMetadata(metadata, keys, i);
        if (at + MAX_RECORD_BYTES > out.length) {
          yield out.subarray(0, at);
          out = Buffer.allocUnsafe(chunkBytes);
          at = 0;
        }
        out[at++] = tag;
        out[at++] = 18 + metadataLength; // record length: one varint byte (at most 36)
        out[at++] = TAG_KEY_DATA;
        out[at++] = 16;
        if (LITTLE_ENDIAN) {
          for (let w = i * 4; w < i * 4 + 4; w++) {
            const v = words[w];
            out[at] = v;
            out[at + 1] = v >>> 8;
            out[at + 2] = v >>> 16;
            out[at + 3] = v >>> 24;
            at += 4;
          }
        } else {
          out.set(keys.keyDataAt(i), at);
          at += 16;
        }
        for (let m = 0; m < metadataLength; m++) out[at++] = metadata[m];
      }
    }
  }
  if (at > 0) yield out.subarray(0, at);
}

function checkHeaderFields(header: ExportHeaderFields): void {
  const { startTimestamp: start, endTimestamp: end } = header;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start) {
    throw new ExportFormatError('timestamps_invalid', `the window must be whole seconds with start < end, got ${start}..${end}`);
  }
  if (end > MAX_TIMESTAMP_SECONDS) {
    throw new ExportFormatError('timestamps_invalid', `the window end ${end} looks like milliseconds: timestamps are UTC seconds`);
  }
  if (header.region.length === 0) throw new ExportFormatError('region_invalid', 'the region must not be empty');
}

export interface EncodeOptions {
  /** Write keys in publication order (`exportOrderGroups`) rather than list order. Default true. */
  exportOrder?: boolean;
  chunkBytes?: number;
}

function listOrder(keys: TekList): Uint32Array[] {
  const all = new Uint32Array(keys.length);
  for (let i = 0; i < all.length; i++) all[i] = i;
  return [all];
}

/**
 * Encodes export.bin as a stream of chunks: the header, the message's small fields, then the
 * key records. The lists' keys were checked against the format when they were added. Batch
 * number and size are always 1, as phones require. Throws before yielding anything when the
 * window or the count is wrong.
 */
export function encodeExportBinChunks(header: ExportHeaderFields, keys: TekList, revisedKeys?: TekList, options: EncodeOptions = {}): Generator<Buffer> {
  checkHeaderFields(header);
  const revisedCount = revisedKeys?.length ?? 0;
  if (keys.length + revisedCount > MAX_KEYS_PER_FILE) {
    throw new ExportFormatError('too_many_keys', `a file holds at most ${MAX_KEYS_PER_FILE} keys, got ${keys.length + revisedCount}`);
  }
  const head = TemporaryExposureKeyExport.encode({
    startTimestamp: header.startTimestamp,
    endTimestamp: header.endTimestamp,
    region: header.region,
    batchNum: 1,
    batchSize: 1,
    signatureInfos: header.signatureInfos.map((info) => ({ ...info })),
  }).finish();
  const ordered = options.exportOrder ?? true;
  const runsOf = (tag: number, list: TekList): RecordRuns => ({ tag, keys: list, runs: ordered ? exportOrderGroups(list) : listOrder(list), shared: ordered });
  const lists = [runsOf(TAG_KEYS, keys)];
  if (revisedKeys && revisedKeys.length > 0) lists.push(runsOf(TAG_REVISED_KEYS, revisedKeys));
  return (function* () {
    yield Buffer.concat([EXPORT_HEADER, head]);
    yield* recordChunks(lists, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  })();
}

/** Encodes export.bin into one buffer (see `encodeExportBinChunks`). */
export function encodeExportBin(header: ExportHeaderFields, keys: TekList, revisedKeys?: TekList, options: EncodeOptions = {}): Buffer {
  return Buffer.concat([...encodeExportBinChunks(header, keys, revisedKeys, options)]);
}
