import { deflateRawSync, crc32 as nodeCrc32 } from 'node:zlib';
import { writeExportZip } from './zip';
import { crc32, MAX_EXPORT_BIN_BYTES, MAX_EXPORT_SIG_BYTES, readExportEntries } from './zip-reader';

/** A zip with the given entries, stored (method 0) or deflated (8), laid out as APPNOTE.TXT says. */
function zipOf(entries: Array<{ name: string; data: Buffer; method: 0 | 8; declaredSize?: number }>): Buffer {
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
    local.writeUInt32LE(entry.declaredSize ?? entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(entry.method, 10);
    header.writeUInt32LE(nodeCrc32(entry.data) >>> 0, 16);
    header.writeUInt32LE(body.length, 20);
    header.writeUInt32LE(entry.declaredSize ?? entry.data.length, 24);
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

describe('readExportEntries', () => {
  it("reads the codec writer's zips", async () => {
    const entries = await readExportEntries(await writeExportZip(BIN, SIG));
    expect(Buffer.from(entries.bin)).toEqual(BIN);
    expect(Buffer.from(entries.sig)).toEqual(SIG);
  });

  it('reads stored entries too', async () => {
    const entries = await readExportEntries(zipOf([{ name: 'export.sig', data: SIG, method: 0 }, { name: 'export.bin', data: BIN, method: 0 }]));
    expect(Buffer.from(entries.bin)).toEqual(BIN);
  });

  it.each([
    ['an extra entry', () => zipOf([{ name: 'export.bin', data: BIN, method: 8 }, { name: 'export.sig', data: SIG, method: 8 }, { name: 'x', data: SIG, method: 0 }])],
    ['a missing signature', () => zipOf([{ name: 'export.bin', data: BIN, method: 8 }, { name: 'other', data: SIG, method: 8 }])],
    ['one entry only', () => zipOf([{ name: 'export.bin', data: BIN, method: 8 }])],
    ['export.bin twice', () => zipOf([{ name: 'export.bin', data: BIN, method: 8 }, { name: 'export.bin', data: BIN, method: 8 }])],
  ])('refuses %s: zip_entries_invalid', async (_name, make) => {
    await expect(readExportEntries(make())).rejects.toMatchObject({ code: 'zip_entries_invalid' });
  });

  it.each([
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
    ['no zip at all', () => Buffer.from('<html><body>Not Found</body></html>')],
  ])('refuses %s: zip_invalid', async (_name, make) => {
    await expect(readExportEntries(make())).rejects.toMatchObject({ code: 'zip_invalid' });
  });

  it.each([
    ['export.bin', MAX_EXPORT_BIN_BYTES],
    ['export.sig', MAX_EXPORT_SIG_BYTES],
  ])('refuses %s declared larger than a valid file holds, before inflating it: entry_too_large', async (name, limit) => {
    // The member's data is garbage: inflating it would fail with zip_invalid, so the code shows it was never inflated.
    const garbage = Buffer.alloc(64, 0xff);
    const entries = [{ name: 'export.bin', data: BIN, method: 0 as const }, { name: 'export.sig', data: SIG, method: 0 as const }].map((entry) => (entry.name === name ? { name, data: garbage, method: 8 as const, declaredSize: limit + 1 } : entry));
    await expect(readExportEntries(zipOf(entries))).rejects.toMatchObject({ code: 'entry_too_large', message: expect.stringContaining(`${name} inflates to ${limit + 1} bytes`) });
  });

  it('stops inflating a member that inflates beyond the size it declares (a 60 MiB member declared as 1 KiB)', async () => {
    const bomb = Buffer.alloc(60 * 1024 * 1024);
    const zip = zipOf([{ name: 'export.bin', data: bomb, method: 8, declaredSize: 1024 }, { name: 'export.sig', data: SIG, method: 8 }]);
    expect(zip.length).toBeLessThan(200 * 1024);
    await expect(readExportEntries(zip)).rejects.toMatchObject({ code: 'zip_invalid', message: 'export.bin inflates to more than the 1024 bytes its header declares' });
  });

  it('limits export.bin to what 750,000 keys need', () => {
    expect(MAX_EXPORT_BIN_BYTES).toBeGreaterThan(26 * 1024 * 1024);
    expect(MAX_EXPORT_BIN_BYTES).toBeLessThan(31 * 1024 * 1024);
  });

  it('computes CRC-32 as zlib does', () => {
    expect(crc32(BIN)).toBe(nodeCrc32(BIN) >>> 0);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});
