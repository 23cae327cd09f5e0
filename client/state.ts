/**
 * What a phone keeps between syncs: small, JSON, and checked when read back. Version 1 grew two
 * optional members (`pending`, `uploads`); a state without them is still read.
 */
import { ClientError } from './errors';
import { parseExportPath } from './index-file';
import { isPendingUpload, type PendingUpload } from './upload-queue';

export interface PhoneState {
  version: 1;
  region: string;
  /** Validators of the last index read, for the next conditional request. */
  index: { etag?: string; lastModified?: string };
  /** Paths of the files downloaded and verified that the index still names, oldest first. */
  files: string[];
  /**
   * Files the index names that did not download or verify yet, in index order: every sync tries
   * them again, also when the index is unchanged (304).
   */
  pending?: string[];
  /** Uploads the API has not answered yet, oldest first (`Phone.queueUpload`): kept until it does. */
  uploads?: PendingUpload[];
  /** When the last sync ended, epoch ms. */
  lastSyncAt?: number;
}

export function emptyState(region: string): PhoneState {
  return { version: 1, region, index: {}, files: [] };
}

function invalid(why: string): ClientError {
  return new ClientError('state_invalid', `the phone state is not usable: ${why}`);
}

/** Reads a state saved as JSON (by `JSON.stringify(state)`); `state_invalid` names what is wrong. */
export function parseState(text: string): PhoneState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('it is not JSON');
  }
  const state = value as Partial<PhoneState> | null;
  if (typeof state !== 'object' || state === null || Array.isArray(state)) throw invalid('it is not a JSON object');
  if (state.version !== 1) throw invalid(`version ${JSON.stringify(state.version)} is not 1`);
  if (typeof state.region !== 'string' || state.region === '') throw invalid('region must be a non-empty string');
  const index = state.index as PhoneState['index'] | undefined;
  if (typeof index !== 'object' || index === null) throw invalid('index must be an object');
  for (const name of ['etag', 'lastModified'] as const) if (index[name] !== undefined && typeof index[name] !== 'string') throw invalid(`index.${name} must be a string`);
  const isPathList = (list: unknown): list is string[] => Array.isArray(list) && list.every((file) => typeof file === 'string' && parseExportPath(file) !== undefined);
  if (!isPathList(state.files)) throw invalid('files must be a list of export paths');
  if (state.pending !== undefined && !isPathList(state.pending)) throw invalid('pending must be a list of export paths');
  if (state.uploads !== undefined && !(Array.isArray(state.uploads) && state.uploads.every(isPendingUpload))) throw invalid('uploads must be a list of pending uploads');
  if (state.lastSyncAt !== undefined && !Number.isFinite(state.lastSyncAt)) throw invalid('lastSyncAt must be a number');
  return {
    version: 1,
    region: state.region,
    index: { ...(index.etag === undefined ? {} : { etag: index.etag }), ...(index.lastModified === undefined ? {} : { lastModified: index.lastModified }) },
    files: [...state.files],
    ...(state.pending && state.pending.length > 0 ? { pending: [...state.pending] } : {}),
    ...(state.uploads && state.uploads.length > 0 ? { uploads: structuredClone(state.uploads) } : {}),
    ...(state.lastSyncAt === undefined ? {} : { lastSyncAt: state.lastSyncAt }),
  };
}
