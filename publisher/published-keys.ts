/**
 * The keys that files of a range already carry, read back from the published files themselves.
 * After a crash the next run finishes a range by publishing only the range's stored keys that
 * no file carries yet; a run that finds late keys in a window closed early does the same. This
 * works whatever order the store returns keys in and whatever padding the earlier run drew,
 * because it looks at what was actually published. Only used when a range has files already
 * (rare): memory is proportional to those files.
 */
import { openExport } from '../proto/codec';
import type { BlobRequestOptions, BlobWriter } from './blob/blob-writer';

export class PublishedKeys {
  private readonly keys = new Set<string>();
  private readonly revisedKeys = new Set<string>();

  private static id(keyData: Uint8Array): string {
    return Buffer.from(keyData.buffer, keyData.byteOffset, keyData.byteLength).toString('latin1');
  }

  get size(): number {
    return this.keys.size + this.revisedKeys.size;
  }

  /** Reads each named file from storage and adds its keys; a named file that is missing is an error. */
  static async read(exports: BlobWriter, names: readonly string[], options: BlobRequestOptions = {}): Promise<PublishedKeys> {
    const published = new PublishedKeys();
    for (const name of names) {
      const blob = await exports.read(name, options);
      if (!blob) throw new Error(`published file ${name} is missing from ${exports.containerName}`);
      const opened = await openExport(blob.data);
      for (const key of opened.export.keys) published.keys.add(PublishedKeys.id(key.keyData));
      for (const key of opened.export.revisedKeys) published.revisedKeys.add(PublishedKeys.id(key.keyData));
    }
    return published;
  }

  hasKey(keyData: Uint8Array): boolean {
    return this.keys.has(PublishedKeys.id(keyData));
  }

  hasRevisedKey(keyData: Uint8Array): boolean {
    return this.revisedKeys.has(PublishedKeys.id(keyData));
  }
}
