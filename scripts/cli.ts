/** `keyfront`: the operator's command line. Each command group lives in `scripts/commands/`. */
import { Command, CommanderError } from 'commander';
import { CliError, EXIT } from './cli-error';

type Register = (program: Command) => void;

/**
 * The command groups, each loaded only when asked for: `publish` and `edge` pull in the Azure
 * SDKs (over a second of start-up), which `export verify` should not pay for.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- `require` at call time is the lazy load (tsx's loader does not hook `import()`) */
const GROUPS: Record<string, () => Register> = {
  export: () => (require('./commands/export') as typeof import('./commands/export')).registerExportCommands,
  edge: () => (require('./commands/edge') as typeof import('./commands/edge')).registerEdgeCommands,
  keys: () => (require('./commands/keys') as typeof import('./commands/keys')).registerKeysCommands,
  publish: () => (require('./commands/publish') as typeof import('./commands/publish')).registerPublishCommands,
  dev: () => (require('./commands/dev') as typeof import('./commands/dev')).registerDevCommands,
  phone: () => (require('./commands/phone') as typeof import('./commands/phone')).registerPhoneCommands,
  deploy: () => (require('./commands/deploy') as typeof import('./commands/deploy')).registerDeployCommands,
  site: () => (require('./commands/site') as typeof import('./commands/site')).registerSiteCommands,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The program with the group named by `argv[0]`, or with every group (for help and unknown commands). */
export function createProgram(argv: readonly string[] = []): Command {
  const program = new Command('keyfront')
    .description('keyfront: edge-first exposure-notification key server — operator tools')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  const named = GROUPS[argv[0]];
  for (const load of named ? [named] : Object.values(GROUPS)) load()(program);
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
    await createProgram(argv).parseAsync(argv as string[], { from: 'user' });
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
