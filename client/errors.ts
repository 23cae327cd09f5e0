/** The one error type of the phone library: a stable `code` for programs and a sentence for people. */

export type ClientErrorCode =
  /** The public key the app is configured with cannot be used. */
  | 'public_key_invalid'
  /** Not a zip holding exactly export.bin and export.sig, or one of them is corrupt. */
  | 'zip_invalid'
  /** export.bin or export.sig does not parse, or a key breaks the format. */
  | 'export_invalid'
  /** No signature verifies export.bin with the configured key (or it names another key). */
  | 'signature_invalid'
  /** The file is of another region than the one asked for. */
  | 'wrong_region'
  /** The file's time window is impossible, in the future, or not the one its name says. */
  | 'window_invalid'
  /** batch_num/batch_size are not 1 of 1 in export.bin and every signature. */
  | 'batch_inconsistent'
  /** The index is not a list of export paths (an HTML page, say). */
  | 'not_an_index'
  /** The index names a file the server does not have. */
  | 'file_missing'
  /** The server answered with a status the phone cannot use. */
  | 'http_error'
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
