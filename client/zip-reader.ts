/** The two entries of an export zip, read by proto/'s reader (the one `keyfront export verify` uses). */
import { readExportEntries, type ExportEntries } from '../proto/zip-reader';
import { asClientError } from './errors';

export type { ExportEntries } from '../proto/zip-reader';

/** export.bin and export.sig, or a `ClientError` with proto/'s code (`zip_invalid`, `zip_entries_invalid`, `entry_too_large`). */
export async function readExportZip(bytes: Uint8Array): Promise<ExportEntries> {
  try {
    return await readExportEntries(bytes);
  } catch (error) {
    throw asClientError(error);
  }
}
