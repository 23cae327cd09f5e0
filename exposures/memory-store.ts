/** An `ExposureStore` in memory: for unit tests and benchmarks, with the same semantics as the Cosmos store. */
import type { Exposure, ExposureStore, ListOptions, StoreOptions } from './exposure-store';

/** A deep copy; key data is copied by value (structuredClone would copy a pooled Buffer's whole 8 KB slab). */
function copy(exposure: Exposure): Exposure {
  const clone: Exposure = { ...exposure, tek: { ...exposure.tek, keyData: new Uint8Array(exposure.tek.keyData) } };
  if (exposure.revision) clone.revision = { ...exposure.revision };
  if (exposure.source) clone.source = { ...exposure.source };
  return clone;
}

export class MemoryExposureStore implements ExposureStore {
  private readonly byId = new Map<string, Exposure>();

  private static key(region: string, id: string): string {
    return `${region}\0${id}`;
  }

  get size(): number {
    return this.byId.size;
  }

  async insert(exposures: readonly Exposure[], options: StoreOptions = {}): Promise<{ inserted: number; insertedIds: string[] }> {
    options.abortSignal?.throwIfAborted();
    const insertedIds: string[] = [];
    for (const exposure of exposures) {
      const key = MemoryExposureStore.key(exposure.region, exposure.id);
      if (this.byId.has(key)) continue;
      this.byId.set(key, copy(exposure));
      insertedIds.push(exposure.id);
    }
    return { inserted: insertedIds.length, insertedIds };
  }

  async get(region: string, ids: readonly string[], options: StoreOptions = {}): Promise<Exposure[]> {
    options.abortSignal?.throwIfAborted();
    return ids.flatMap((id) => {
      const found = this.byId.get(MemoryExposureStore.key(region, id));
      return found ? [copy(found)] : [];
    });
  }

  async revise(exposures: readonly Exposure[], options: StoreOptions = {}): Promise<{ revised: number }> {
    options.abortSignal?.throwIfAborted();
    let revised = 0;
    for (const exposure of exposures) {
      const key = MemoryExposureStore.key(exposure.region, exposure.id);
      const stored = this.byId.get(key);
      if (!stored || !exposure.revision || stored.revision) continue;
      this.byId.set(key, { ...stored, revision: { ...exposure.revision } });
      revised++;
    }
    return { revised };
  }

  private async *pages(select: (exposure: Exposure) => boolean, options: ListOptions): AsyncIterable<Exposure[]> {
    const pageSize = options.pageSize ?? 1000;
    let page: Exposure[] = [];
    for (const exposure of this.byId.values()) {
      options.abortSignal?.throwIfAborted();
      if (!select(exposure)) continue;
      page.push(copy(exposure));
      if (page.length === pageSize) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }

  listForPublication(region: string, fromSeconds: number, toSeconds: number, options: ListOptions = {}): AsyncIterable<Exposure[]> {
    return this.pages((e) => e.region === region && e.publishAt >= fromSeconds && e.publishAt < toSeconds, options);
  }

  listRevisionsForPublication(region: string, fromSeconds: number, toSeconds: number, options: ListOptions = {}): AsyncIterable<Exposure[]> {
    return this.pages((e) => e.region === region && e.revision !== undefined && e.revision.publishAt >= fromSeconds && e.revision.publishAt < toSeconds, options);
  }

  async deleteUploadedBefore(region: string, beforeSeconds: number, options: StoreOptions = {}): Promise<{ deleted: number }> {
    options.abortSignal?.throwIfAborted();
    let deleted = 0;
    for (const [key, exposure] of this.byId) {
      // A revision not yet as old keeps its key: it may still have to be published.
      if (exposure.region === region && exposure.uploadedAt < beforeSeconds && (exposure.revision === undefined || exposure.revision.publishAt < beforeSeconds)) {
        this.byId.delete(key);
        deleted++;
      }
    }
    return { deleted };
  }

  async ping(): Promise<void> {}
}
