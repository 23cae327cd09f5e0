/** The one error type of the format library: a stable `code` and a sentence, never a stack for users. */

export type ExportErrorCode =
  | 'zip_invalid'
  | 'zip_entries_invalid'
  | 'entry_too_large'
  | 'file_too_large'
  | 'header_invalid'
  | 'export_invalid'
  | 'batch_invalid'
  | 'timestamps_invalid'
  | 'region_invalid'
  | 'key_invalid'
  | 'duplicate_key'
  | 'too_many_keys'
  | 'signature_list_invalid'
  | 'signature_missing'
  | 'signature_algorithm_unsupported'
  | 'signature_info_mismatch'
  | 'signature_invalid'
  | 'public_key_invalid';

export class ExportFormatError extends Error {
  override readonly name = 'ExportFormatError';
  constructor(
    readonly code: ExportErrorCode,
    message: string,
  ) {
    super(message);
  }
}
