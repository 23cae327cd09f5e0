/**
 * The exposure store of the fleet simulation: `MemoryExposureStore`'s semantics for what the
 * publisher asks of a store, indexed by `publishAt` and upload order, because the simulated
 * publisher runs thousands of times over hundreds of thousands of keys and a store that scans
 * every key for every query took a third of the simulation's time. Keys are inserted in upload
 * order (the simulation's uploads arrive in time order); revisions are not simulated.
 */
import type { Exposure, ExposureStore, ListOptions, StoreOptions } from '../../../exposures/exposure-store';

export class SimExposureStore implements ExposureStore {
  /** In upload order: deleting the keys uploaded before an instant drops a prefix. */
  private byUpload: Exposure[] = [];
  private readonly ids = new Set<string>();
  /** The same keys by `publishAt`; keys inserted since the last query wait in `recent` and are merged in then. */
  private byPublishAt: Exposure[] = [];
  private recent: Exposure[] = [];

  async insert(exposures: readonly Exposure[], options: StoreOptions = {}): Promise<{ inserted: number; insertedIds: string[] }> {
    options.abortSignal?.throwIfAborted();
    const insertedIds: string[] = [];
    for (const exposure of exposures) {
      const id = `${exposure.region}\u0000${exposure.id}`;
      if (this.ids.has(id)) continue;
      if (this.byUpload.length > 0 && exposure.uploadedAt < this.byUpload[this.byUpload.length - 1].uploadedAt) throw new Error('the simulation stores keys in upload order');
      this.ids.add(id);
      this.byUpload.push(exposure);
      this.recent.push(exposure);
      insertedIds.push(exposure.id);
    }
    return { inserted: insertedIds.length, insertedIds };
  }

  async get(region: string, ids: readonly string[]): Promise<Exposure[]> {
    const wanted = new Set(ids);
    return this.byUpload.filter((e) => e.region === region && wanted.has(e.id));
  }

  async revise(): Promise<{ revised: number }> {
    throw new Error('revisions are not simulated');
  }

  async *listForPublication(region: string, fromSeconds: number, toSeconds: number, options: ListOptions = {}): AsyncIterable<Exposure[]> {
    const list = this.merged();
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].publishAt < fromSeconds) lo = mid + 1;
      else hi = mid;
    }
    const pageSize = options.pageSize ?? 1000;
    let page: Exposure[] = [];
    for (let i = lo; i < list.length && list[i].publishAt < toSeconds; i++) {
      options.abortSignal?.throwIfAborted();
      if (list[i].region !== region) continue;
      page.push(list[i]);
      if (page.length === pageSize) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }

  // eslint-disable-next-line require-yield
  async *listRevisionsForPublication(): AsyncIterable<Exposure[]> {
    return;
  }

  async deleteUploadedBefore(region: string, beforeSeconds: number): Promise<{ deleted: number }> {
    let end = 0;
    while (end < this.byUpload.length && this.byUpload[end].uploadedAt < beforeSeconds) end++;
    const gone = this.byUpload.slice(0, end).filter((e) => e.region === region);
    if (gone.length === 0) return { deleted: 0 };
    this.byUpload = this.byUpload.filter((e, i) => i >= end || e.region !== region);
    for (const e of gone) this.ids.delete(`${e.region}\u0000${e.id}`);
    const kept = this.merged().filter((e) => this.ids.has(`${e.region}\u0000${e.id}`));
    this.byPublishAt = kept;
    return { deleted: gone.length };
  }

  /** `byPublishAt` with the recent keys merged in. */
  private merged(): Exposure[] {
    if (this.recent.length === 0) return this.byPublishAt;
    const recent = this.recent.sort((a, b) => a.publishAt - b.publishAt);
    const old = this.byPublishAt;
    const out: Exposure[] = new Array(old.length + recent.length);
    let i = 0;
    let j = 0;
    for (let k = 0; k < out.length; k++) out[k] = j >= recent.length || (i < old.length && old[i].publishAt <= recent[j].publishAt) ? old[i++] : recent[j++];
    this.byPublishAt = out;
    this.recent = [];
    return out;
  }

  async ping(): Promise<void> {}
}
