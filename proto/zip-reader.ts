/**
 * Reads an export zip in any JavaScript runtime (browser, Node, workers): exactly the two entries
 * `export.bin` and `export.sig`, stored or deflated, each checked against its size and CRC-32.
 * `keyfront export verify` and the phone read files with this one reader, so a zip is refused
 * with the same code by both. Inflation is the platform's `DecompressionStream('deflate-raw')`;
 * no Node module is used. Each entry has a limit of its own (what a valid file can hold), checked
 * on the declared size before inflating and on the bytes while inflating, so a small zip that
 * inflates to gigabytes costs at most the limit.
 * Layout: APPNOTE.TXT 4.3.7 (local header), 4.3.12 (central directory), 4.3.16 (end record).
 */
import { ExportFormatError, type ExportErrorCode } from './errors';
import { MAX_KEYS_PER_FILE } from './tek';

export const EXPORT_BIN = 'export.bin';
export const EXPORT_SIG = 'export.sig';

/**
 * The largest export.bin of a valid file: the header, the message's small fields (with room for
 * many signature infos), and 750,000 key records of at most 40 bytes each (export-bin.ts): about
 * 30 MB. A full file of ours is about 26 MB.
 */
export const MAX_EXPORT_BIN_BYTES = 16 + 64 * 1024 + MAX_KEYS_PER_FILE * 40;
/** The largest export.sig accepted: a signature list is a few hundred bytes (one per signing key). */
export const MAX_EXPORT_SIG_BYTES = 64 * 1024;

const LIMITS: Record<string, number> = { [EXPORT_BIN]: MAX_EXPORT_BIN_BYTES, [EXPORT_SIG]: MAX_EXPORT_SIG_BYTES };

const END_RECORD = 0x06054b50;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

export interface ExportEntries {
  bin: Uint8Array;
  sig: Uint8Array;
}

function bad(message: string, code: ExportErrorCode = 'zip_invalid'): ExportFormatError {
  return new ExportFormatError(code, message);
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (the zip polynomial 0xEDB88320). */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function findEndRecord(view: DataView): number {
  // The end record is 22 bytes plus a comment of at most 65535.
  const lowest = Math.max(0, view.byteLength - 22 - 0xffff);
  for (let at = view.byteLength - 22; at >= lowest; at--) {
    if (view.getUint32(at, true) === END_RECORD) return at;
  }
  throw bad('not a zip archive: no end of central directory record (the file may be truncated)');
}

function readCentralDirectory(bytes: Uint8Array): CentralEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 22) throw bad(`not a zip archive: ${bytes.length} bytes is too short`);
  const end = findEndRecord(view);
  const count = view.getUint16(end + 10, true);
  const size = view.getUint32(end + 12, true);
  const offset = view.getUint32(end + 16, true);
  if (offset + size > end) throw bad('the central directory lies outside the archive (the file may be truncated)');
  const names = new TextDecoder('utf-8', { fatal: false });
  const entries: CentralEntry[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > end || view.getUint32(at, true) !== CENTRAL_HEADER) throw bad('a central directory entry is damaged');
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    if (at + 46 + nameLength > end) throw bad('a central directory entry is damaged');
    entries.push({
      name: names.decode(bytes.subarray(at + 46, at + 46 + nameLength)),
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      crc32: view.getUint32(at + 16, true),
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      localOffset: view.getUint32(at + 42, true),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Which entries the archive must hold and does not, or holds besides: `zip_entries_invalid`. */
function checkEntryNames(entries: readonly CentralEntry[]): void {
  const names = entries.map((entry) => entry.name);
  const extra = names.find((name, i) => (name !== EXPORT_BIN && name !== EXPORT_SIG) || names.indexOf(name) !== i);
  if (extra !== undefined) throw bad(`the zip must hold exactly ${EXPORT_BIN} and ${EXPORT_SIG}; found an extra entry ${JSON.stringify(extra.slice(0, 80))}`, 'zip_entries_invalid');
  const missing = [EXPORT_BIN, EXPORT_SIG].filter((name) => !names.includes(name));
  if (missing.length > 0) throw bad(`the zip must hold exactly ${EXPORT_BIN} and ${EXPORT_SIG}; ${missing.join(' and ')} is missing`, 'zip_entries_invalid');
}

/**
 * Inflates into a buffer of the declared size, which is within the entry's limit; output beyond
 * it stops the inflation at once (the rest of the stream is never inflated).
 */
async function inflateRaw(data: Uint8Array, expectedSize: number, name: string): Promise<Uint8Array> {
  const reader = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const out = new Uint8Array(expectedSize);
  let at = 0;
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      const chunk = read.value as Uint8Array;
      if (at + chunk.length > expectedSize) throw bad(`${name} inflates to more than the ${expectedSize} bytes its header declares`);
      out.set(chunk, at);
      at += chunk.length;
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (error instanceof ExportFormatError) throw error;
    throw bad(`${name} cannot be inflated: ${(error as Error).message}`);
  }
  if (at !== expectedSize) throw bad(`${name} inflates to ${at} bytes, not the ${expectedSize} its header declares`);
  return out;
}

async function readEntry(bytes: Uint8Array, entry: CentralEntry): Promise<Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = entry.localOffset;
  if (at + 30 > bytes.length || view.getUint32(at, true) !== LOCAL_HEADER) throw bad(`the local header of ${entry.name} is damaged`);
  if (entry.flags & 0x1) throw bad(`${entry.name} is encrypted`);
  const limit = LIMITS[entry.name];
  if (entry.size > limit) throw bad(`${entry.name} inflates to ${entry.size} bytes, more than the ${limit} a valid file can hold`, 'entry_too_large');
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  if (start + entry.compressedSize > bytes.length) throw bad(`${entry.name} is cut short: the file is truncated`);
  const data = bytes.subarray(start, start + entry.compressedSize);
  let content: Uint8Array;
  if (entry.method === STORED) {
    if (entry.compressedSize !== entry.size) throw bad(`${entry.name} is stored with two different sizes`);
    content = data;
  } else if (entry.method === DEFLATED) {
    content = await inflateRaw(data, entry.size, entry.name);
  } else {
    throw bad(`${entry.name} uses compression method ${entry.method}; only stored (0) and deflate (8) are read`);
  }
  if (crc32(content) !== entry.crc32) throw bad(`${entry.name} fails its CRC-32 check: the archive is corrupt`);
  return content;
}

/**
 * The two entries of an export zip. Refuses with `ExportFormatError`: `zip_invalid` (not a zip,
 * damaged, truncated, encrypted, an unknown method, a CRC or size mismatch), `zip_entries_invalid`
 * (anything but exactly one export.bin and one export.sig), `entry_too_large` (an entry larger
 * than a valid file's).
 */
export async function readExportEntries(bytes: Uint8Array): Promise<ExportEntries> {
  const entries = readCentralDirectory(bytes);
  checkEntryNames(entries);
  const bin = entries.find((entry) => entry.name === EXPORT_BIN) as CentralEntry;
  const sig = entries.find((entry) => entry.name === EXPORT_SIG) as CentralEntry;
  return { bin: await readEntry(bytes, bin), sig: await readEntry(bytes, sig) };
}
