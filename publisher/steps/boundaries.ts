/**
 * The step boundaries of a publisher run. Each is a point where a crash must leave storage
 * consistent; tests inject failures at each through `onStep`, and the SIGKILL test kills a real
 * process anywhere between them.
 */
export type PublishStep =
  /** The region's lock is held and its manifest read. */
  | 'locked'
  /** One export file was written (before the manifest records its range). */
  | 'file-written'
  /** A range's files are recorded in the manifest. */
  | 'range-recorded'
  /** Every range of this run is published and recorded; the index is next. */
  | 'files-done'
  /** index.txt was written, index.json not yet. */
  | 'index-txt-written'
  /** Both index files were written; the purge is next. */
  | 'index-written'
  /** The purge was attempted; the manifest does not yet record that it is done. */
  | 'purged'
  /** Clean-up deleted one export file that left the index. */
  | 'file-deleted'
  /** Clean-up dropped the deleted files' records; old keys are deleted from the store next. */
  | 'files-deleted'
  /** Old keys were deleted from the store. */
  | 'keys-deleted';

export interface StepDetail {
  region: string;
  name?: string;
}

/** Called at each boundary; a hook that throws makes the run fail right there. */
export type StepHook = (step: PublishStep, detail: StepDetail) => void | Promise<void>;
