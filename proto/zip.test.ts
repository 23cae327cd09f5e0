import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { yazlZip } from '../test/client/signed-exports';
import { MAX_EXPORT_BIN_BYTES, readExportZip, writeExportZip } from './zip';

const bin = Buffer.concat([Buffer.from('EK Export v1    '), Buffer.alloc(5000, 7)]);
const sig = Buffer.from('signature list bytes');

describe('the export zip', () => {
  it('holds exactly export.bin and export.sig, readable with CRC checks', async () => {
    const zip = await writeExportZip(bin, sig, { compressionLevel: 5 });
    expect(await readExportZip(zip)).toEqual({ bin, sig });
  });

  it('writes the same bytes for the same entries, whatever the time zone or the time', async () => {
    const zone = process.env.TZ;
    try {
      process.env.TZ = 'Asia/Tokyo';
      const first = await writeExportZip(bin, sig);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      process.env.TZ = 'America/Los_Angeles';
      expect(await writeExportZip(bin, sig)).toEqual(first);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it('is accepted by an independent reader (Python zipfile, CRC-checked)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'keyfront-zip-'));
    const file = path.join(dir, 'export.zip');
    writeFileSync(file, await writeExportZip(bin, sig));
    const listing = execFileSync('python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(",".join(f"{i.filename}:{i.file_size}:{i.compress_type}" for i in z.infolist()))', file]).toString().trim();
    expect(listing).toBe(`export.bin:${bin.length}:8,export.sig:${sig.length}:8`);
  });

  it('refuses archives with other, duplicate or missing entries', async () => {
    await expect(readExportZip(await yazlZip([['export.bin', bin], ['export.sig', sig], ['extra.txt', sig]]))).rejects.toMatchObject({ code: 'zip_entries_invalid', message: expect.stringContaining('"extra.txt"') });
    await expect(readExportZip(await yazlZip([['export.bin', bin], ['export.bin', bin], ['export.sig', sig]]))).rejects.toMatchObject({ code: 'zip_entries_invalid' });
    await expect(readExportZip(await yazlZip([['export.bin', bin]]))).rejects.toMatchObject({ code: 'zip_entries_invalid', message: expect.stringContaining('export.sig is missing') });
    await expect(readExportZip(await yazlZip([['dir/export.bin', bin], ['export.sig', sig]]))).rejects.toMatchObject({ code: 'zip_entries_invalid' });
  });

  it('refuses bytes that are not a zip, and a corrupted entry', async () => {
    await expect(readExportZip(Buffer.from('not a zip at all'))).rejects.toMatchObject({ code: 'zip_invalid' });
    const zip = await writeExportZip(bin, sig, { compressionLevel: 0 });
    const corrupted = Buffer.from(zip);
    corrupted[30 + 'export.bin'.length + 100] ^= 0xff; // a byte inside export.bin's data
    await expect(readExportZip(corrupted)).rejects.toMatchObject({ code: 'zip_invalid', message: 'export.bin fails its CRC-32 check: the archive is corrupt' });
  });

  it('refuses entries that claim to inflate beyond the limit before inflating them', async () => {
    const zip = Buffer.from(await writeExportZip(bin, sig));
    const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    zip.writeUInt32LE(MAX_EXPORT_BIN_BYTES + 1, central + 24); // export.bin's uncompressed size
    await expect(readExportZip(zip)).rejects.toMatchObject({ code: 'entry_too_large' });
  });
});
