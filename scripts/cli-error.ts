/** The CLI's one error type: a message for the operator and the exit code, printed without a stack trace. */

/** Exit codes of every keyfront command. */
export const EXIT = {
  ok: 0,
  /** The command ran and the answer is "no" (a file does not verify), or a remote step failed. */
  failed: 1,
  /** Bad input: arguments, files, keys. Nothing was written. */
  usage: 2,
} as const;

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
  }
}
