/** The one error type of the phone library: a stable `code` for programs and a sentence for people. */
import { ExportFormatError, type ExportErrorCode } from '../proto/errors';

/**
 * Why a file, an index or a request failed. A file that breaks the format gets the code of
 * proto/'s rule set (`ExportErrorCode`: `zip_invalid`, `zip_entries_invalid`, `entry_too_large`,
 * `file_too_large`, `header_invalid`, `export_invalid`, `batch_invalid`, `timestamps_invalid`,
 * `region_invalid`, `key_invalid`, `duplicate_key`, `too_many_keys`, `signature_list_invalid`,
 * `signature_missing`, `signature_algorithm_unsupported`, `signature_info_mismatch`,
 * `signature_invalid`, `public_key_invalid`), the same code `keyfront export verify` gives it.
 */
export type ClientErrorCode =
  | ExportErrorCode
  /** The file is of another region than the one asked for. */
  | 'wrong_region'
  /** The file's window is not the one its name says, or it ends too far from the server's (or the phone's) time. */
  | 'window_invalid'
  /** The index is not a list of export paths (an HTML page, say). */
  | 'not_an_index'
  /** The index names a file the server does not have. */
  | 'file_missing'
  /** The server answered with a status the phone cannot use. */
  | 'http_error'
  /** The edge (its WAF) refused the request: a path, method or query it does not serve, or too many requests. */
  | 'edge_refused'
  /** No answer at all (network failure) after every retry. */
  | 'network_error'
  /** The saved state is not one this library wrote. */
  | 'state_invalid'
  /** The caller's arguments (keys, options) are not usable. */
  | 'bad_request'
  /** The operation was cancelled through its AbortSignal. */
  | 'aborted';

export class ClientError extends Error {
  override readonly name = 'ClientError';
  /** HTTP status, when the error is the server's answer. */
  readonly statusCode: number | undefined;
  /** The server's own error code (`{"error","code"}` bodies of the API), when it sent one. */
  readonly serverCode: string | undefined;

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    details: { statusCode?: number; serverCode?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.statusCode = details.statusCode;
    this.serverCode = details.serverCode;
  }
}

/** A refusal of proto/'s rule set as the library's error, with the same code; anything else as it is. */
export function asClientError(error: unknown, context?: string): unknown {
  if (!(error instanceof ExportFormatError)) return error;
  return new ClientError(error.code, context ? `${context}: ${error.message}` : error.message, { cause: error });
}
