/**
 * The steps of a region run, in the order `run.ts` sequences them under the region's lock, each
 * `(run, state) => Promise<state>` over the one `RegionState`, and the step boundaries at which
 * tests inject crashes.
 */
export type { PublishStep, StepDetail, StepHook } from './boundaries';
export { beginRegionRun, type RegionRunOptions } from './begin-region-run';
export { recheckEarlyRanges } from './recheck-early-ranges';
export { publishNewRanges } from './publish-ranges';
export { writeIndex } from './write-index';
export { purgeIndex } from './purge-index';
export { cleanUp } from './clean-up';
export { EMPTY_SUMMARY, reached, type RegionRun, type RegionState, type RegionSummary } from './run-state';
