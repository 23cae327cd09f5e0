import { deflateRawSync, crc32 as nodeCrc32 } from 'node:zlib';
import { writeExportZip } from '../proto/zip';
import { crc32, readExportZip } from './zip-reader';

/** A zip with the given entries, stored (method 0) or deflated (8), laid out as APPNOTE.TXT says. */
function zipOf(entries: Array<{ name: string; data: Buffer; method: 0 | 8 }>): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const body = entry.method === 8 ? deflateRawSync(entry.data) : entry.data;
    const name = Buffer.from(entry.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(entry.method, 8);
    local.writeUInt32LE(nodeCrc32(entry.data) >>> 0, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(entry.method, 10);
    header.writeUInt32LE(nodeCrc32(entry.data) >>> 0, 16);
    header.writeUInt32LE(body.length, 20);
    header.writeUInt32LE(entry.data.length, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE(offset, 42);
    central.push(header, name);
    parts.push(local, name, body);
    offset += 30 + name.length + body.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

const BIN = Buffer.from('EK Export v1    and some bytes'.repeat(50));
const SIG = Buffer.from('signature list');

describe('readExportZip', () => {
  it('reads the codec writer\'s zips', async () => {
    const entries = await readExportZip(await writeExportZip(BIN, SIG));
    expect(Buffer.from(entries.bin)).toEqual(BIN);
    expect(Buffer.from(entries.sig)).toEqual(SIG);
  });

  it('reads stored entries too', async () => {
    const entries = await readExportZip(zipOf([{ name: 'export.sig', data: SIG, method: 0 }, { name: 'export.bin', data: BIN, method: 0 }]));
    expect(Buffer.from(entries.bin)).toEqual(BIN);
  });

  it.each([
    ['an extra entry', () => zipOf([{ name: 'export.bin', data: BIN, method: 8 }, { name: 'export.sig', data: SIG, method: 8 }, { name: 'x', data: SIG, method: 0 }])],
    ['a missing signature', () => zipOf([{ name: 'export.bin', data: BIN, method: 8 }, { name: 'other', data: SIG, method: 8 }])],
    ['one entry only', () => zipOf([{ name: 'export.bin', data: BIN, method: 8 }])],
    ['a truncated archive', () => zipOf([{ name: 'export.bin', data: BIN, method: 8 }, { name: 'export.sig', data: SIG, method: 8 }]).subarray(0, 100)],
    ['a wrong CRC-32', () => {
      const zip = zipOf([{ name: 'export.bin', data: BIN, method: 0 }, { name: 'export.sig', data: SIG, method: 0 }]);
      zip[40] ^= 1; // a byte of export.bin's stored data
      return zip;
    }],
    ['garbage deflate data', () => {
      const zip = zipOf([{ name: 'export.bin', data: BIN, method: 8 }, { name: 'export.sig', data: SIG, method: 8 }]);
      zip.fill(0xff, 40, 60);
      return zip;
    }],
  ])('refuses %s: zip_invalid', async (_name, make) => {
    await expect(readExportZip(make())).rejects.toMatchObject({ code: 'zip_invalid' });
  });

  it('computes CRC-32 as zlib does', () => {
    expect(crc32(BIN)).toBe(nodeCrc32(BIN) >>> 0);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});
