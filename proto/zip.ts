/**
 * The export zip: exactly `export.bin` and `export.sig`.
 *
 * Reading is zip-reader.ts, which the phone shares. Writing is our own, for one measured reason: building a full file must
 * cost little more than deflating it (bench:export), and yazl computes CRC-32 in JavaScript and
 * deflates in 16 KB round trips, which together add about half the deflate time again. This
 * writer streams export.bin into zlib on the thread pool while the caller encodes the next
 * chunk, takes CRC-32 from zlib, and lays out the two entries with fixed timestamps and no data
 * descriptors, so the same bin and signature always give the same bytes. The layout is
 * APPNOTE.TXT sections 4.3.7 (local header), 4.3.12 (central directory) and 4.3.16 (end record).
 */
import { once } from 'node:events';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import * as zlib from 'node:zlib';
import { EXPORT_BIN, EXPORT_SIG, readExportEntries } from './zip-reader';

export { EXPORT_BIN, EXPORT_SIG, MAX_EXPORT_BIN_BYTES, MAX_EXPORT_SIG_BYTES } from './zip-reader';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const VERSION_NEEDED = 20; // 2.0: deflate
const METHOD_DEFLATE = 8;
const DOS_TIME = 0; // 00:00:00
const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01, the DOS epoch: fixed for determinism
/** Input handed to zlib per thread-pool job: large enough that round trips cost little. */
const DEFLATE_BATCH_BYTES = 1 << 20;

interface WrittenEntry {
  name: Buffer;
  crc32: number;
  size: number;
  data: Buffer[];
  compressedSize: number;
}

function localHeader(entry: WrittenEntry): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(LOCAL_HEADER, 0);
  header.writeUInt16LE(VERSION_NEEDED, 4);
  header.writeUInt16LE(0, 6); // flags: no data descriptor, ASCII name
  header.writeUInt16LE(METHOD_DEFLATE, 8);
  header.writeUInt16LE(DOS_TIME, 10);
  header.writeUInt16LE(DOS_DATE, 12);
  header.writeUInt32LE(entry.crc32, 14);
  header.writeUInt32LE(entry.compressedSize, 18);
  header.writeUInt32LE(entry.size, 22);
  header.writeUInt16LE(entry.name.length, 26);
  header.writeUInt16LE(0, 28); // extra field length
  return Buffer.concat([header, entry.name]);
}

function centralHeader(entry: WrittenEntry, offset: number): Buffer {
  const header = Buffer.alloc(46);
  header.writeUInt32LE(CENTRAL_HEADER, 0);
  header.writeUInt16LE(VERSION_NEEDED, 4); // made by: MS-DOS, 2.0
  header.writeUInt16LE(VERSION_NEEDED, 6);
  header.writeUInt16LE(0, 8);
  header.writeUInt16LE(METHOD_DEFLATE, 10);
  header.writeUInt16LE(DOS_TIME, 12);
  header.writeUInt16LE(DOS_DATE, 14);
  header.writeUInt32LE(entry.crc32, 16);
  header.writeUInt32LE(entry.compressedSize, 20);
  header.writeUInt32LE(entry.size, 24);
  header.writeUInt16LE(entry.name.length, 28);
  // extra length, comment length, disk number, internal and external attributes: all zero
  header.writeUInt32LE(offset, 42);
  return Buffer.concat([header, entry.name]);
}

function endOfCentralDirectory(entries: number, size: number, offset: number): Buffer {
  const record = Buffer.alloc(22);
  record.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  record.writeUInt16LE(entries, 8);
  record.writeUInt16LE(entries, 10);
  record.writeUInt32LE(size, 12);
  record.writeUInt32LE(offset, 16);
  return record;
}

export interface ZipOptions {
  /** zlib level of both entries. */
  compressionLevel?: number;
}

/**
 * Writes one export zip: feed export.bin chunk by chunk (`writeBin`), then `finish` with the
 * encoded export.sig. The result is held in memory; nothing is written anywhere until the caller
 * stores it, so a failure at any step leaves nothing behind.
 */
export class ExportZipWriter {
  private readonly level: number;
  private readonly deflate: zlib.DeflateRaw;
  private readonly compressed: Buffer[] = [];
  private readonly deflated: Promise<unknown>;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private crc32 = 0;
  private size = 0;

  constructor(options: ZipOptions = {}) {
    this.level = options.compressionLevel ?? 6;
    // 1 MiB output chunks: one thread-pool round trip per MiB, not per 16 KB.
    this.deflate = zlib.createDeflateRaw({ level: this.level, chunkSize: 1 << 20 });
    this.deflate.on('data', (chunk: Buffer) => this.compressed.push(chunk));
    this.deflated = once(this.deflate, 'end');
  }

  /**
   * Takes the next chunk of export.bin, hands zlib a batch once one is full, and lets the event
   * loop run: zlib's completion callbacks then start its next job within one small chunk's time,
   * so deflate on the thread pool keeps going while the caller encodes.
   */
  async writeBin(chunk: Buffer): Promise<void> {
    this.crc32 = zlib.crc32(chunk, this.crc32);
    this.size += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= DEFLATE_BATCH_BYTES) this.flushPending();
    await yieldToLoop();
  }

  private flushPending(): void {
    if (this.pendingBytes === 0) return;
    this.deflate.write(this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Completes export.bin, adds export.sig, and returns the zip's bytes. */
  async finish(sig: Buffer): Promise<Buffer> {
    this.flushPending();
    this.deflate.end();
    await this.deflated;
    const bin: WrittenEntry = { name: Buffer.from(EXPORT_BIN), crc32: this.crc32 >>> 0, size: this.size, data: this.compressed, compressedSize: sumLengths(this.compressed) };
    const sigData = zlib.deflateRawSync(sig, { level: this.level });
    const sigEntry: WrittenEntry = { name: Buffer.from(EXPORT_SIG), crc32: zlib.crc32(sig) >>> 0, size: sig.length, data: [sigData], compressedSize: sigData.length };
    const parts: Buffer[] = [];
    const offsets: number[] = [];
    let offset = 0;
    for (const entry of [bin, sigEntry]) {
      offsets.push(offset);
      const header = localHeader(entry);
      parts.push(header, ...entry.data);
      offset += header.length + entry.compressedSize;
    }
    const central = Buffer.concat([centralHeader(bin, offsets[0]), centralHeader(sigEntry, offsets[1])]);
    parts.push(central, endOfCentralDirectory(2, central.length, offset));
    return Buffer.concat(parts);
  }

  /** Stops the deflate stream of an abandoned file. */
  abort(): void {
    this.deflate.destroy();
  }
}

function sumLengths(buffers: readonly Buffer[]): number {
  return buffers.reduce((sum, buffer) => sum + buffer.length, 0);
}

/** Packs a complete export.bin and export.sig (for callers that hold both). */
export async function writeExportZip(bin: Buffer, sig: Buffer, options: ZipOptions = {}): Promise<Buffer> {
  const writer = new ExportZipWriter(options);
  await writer.writeBin(bin);
  return writer.finish(sig);
}

export interface ExportEntries {
  bin: Buffer;
  sig: Buffer;
}

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * Reads both entries with the reader the phone uses (zip-reader.ts), as Buffers: sizes, CRC-32 and
 * each entry's limit checked, anything but exactly one `export.bin` and one `export.sig` refused.
 */
export async function readExportZip(buffer: Uint8Array): Promise<ExportEntries> {
  const { bin, sig } = await readExportEntries(buffer);
  return { bin: asBuffer(bin), sig: asBuffer(sig) };
}
