/** `keyfront`: the operator's command line. Each command group lives in `scripts/commands/`. */
import { Command, CommanderError } from 'commander';
import { CliError, EXIT } from './cli-error';
import { registerDevCommands } from './commands/dev';
import { registerEdgeCommands } from './commands/edge';
import { registerExportCommands } from './commands/export';
import { registerKeysCommands } from './commands/keys';
import { registerPublishCommands } from './commands/publish';

export function createProgram(): Command {
  const program = new Command('keyfront')
    .description('keyfront: edge-first exposure-notification key server — operator tools')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerExportCommands(program);
  registerEdgeCommands(program);
  registerKeysCommands(program);
  registerPublishCommands(program);
  registerDevCommands(program);
  // Every subcommand inherits exitOverride so that usage errors reach `main` as CommanderError.
  const override = (command: Command): void => {
    for (const sub of command.commands) {
      sub.exitOverride();
      override(sub);
    }
  };
  override(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code; operators see messages, never stack traces. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await createProgram().parseAsync(argv as string[], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are exits with code 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      process.stderr.write(`keyfront: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`keyfront: unexpected failure: ${(error as Error)?.message ?? String(error)}\n`);
    if (process.env.KEYFRONT_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    return EXIT.failed;
  }
}

/** Entry of `bin/keyfront.js`. */
export function run(): void {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
