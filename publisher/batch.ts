/**
 * Splits the keys of a range into files: keys and revised keys stream in, page by page, and a
 * file's worth is handed out as soon as it is full, so the publisher holds at most one file of
 * keys whatever the number stored (keys in `TekList` columns: 24 bytes each).
 */
import type { Tek } from '../proto/tek';
import { TekList } from '../proto/tek-list';

export interface FileKeys {
  keys: TekList;
  revisedKeys: TekList;
}

const INITIAL_CAPACITY = 1024;

export class FileBatcher {
  private current: FileKeys = FileBatcher.empty();

  constructor(private readonly maxKeysPerFile: number) {
    if (!Number.isInteger(maxKeysPerFile) || maxKeysPerFile < 1) throw new RangeError(`a file holds at least one key, got ${maxKeysPerFile}`);
  }

  private static empty(): FileKeys {
    return { keys: new TekList(INITIAL_CAPACITY), revisedKeys: new TekList(INITIAL_CAPACITY) };
  }

  /** Keys and revised keys waiting for a file. */
  get size(): number {
    return this.current.keys.length + this.current.revisedKeys.length;
  }

  get primaryKeys(): number {
    return this.current.keys.length;
  }

  get revisedKeys(): number {
    return this.current.revisedKeys.length;
  }

  get full(): boolean {
    return this.size >= this.maxKeysPerFile;
  }

  /** Adds a key; the caller takes the file once `full`. */
  addKey(tek: Tek): void {
    this.ensureRoom();
    this.current.keys.push(tek);
  }

  addRevisedKey(tek: Tek): void {
    this.ensureRoom();
    this.current.revisedKeys.push(tek);
  }

  /** Hands out what is waiting and starts an empty file. */
  take(): FileKeys {
    const taken = this.current;
    this.current = FileBatcher.empty();
    return taken;
  }

  private ensureRoom(): void {
    if (this.full) throw new RangeError(`the file is full (${this.maxKeysPerFile} keys): take it first`);
  }
}
