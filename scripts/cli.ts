/** `keyfront`: the operator's command line. Each command group lives in `scripts/commands/`. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { CliError, EXIT } from './cli-error';
import { cliDebug } from './cli-settings';
import { endQuietlyOnClosedPipe } from './cli-io';

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
  settings: () => (require('./commands/settings') as typeof import('./commands/settings')).registerSettingsCommands,
  drill: () => (require('./commands/drill') as typeof import('./commands/drill')).registerDrillCommands,
  federation: () => (require('./commands/federation') as typeof import('./commands/federation')).registerFederationCommands,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The version of package.json, for `--version`. */
export function keyfrontVersion(): string {
  return (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** The program with the group named by `argv[0]`, or with every group (for help and unknown commands). */
export function createProgram(argv: readonly string[] = []): Command {
  const program = new Command('keyfront')
    .description('keyfront: edge-first exposure-notification key server — operator tools')
    .version(keyfrontVersion(), '-V, --version', 'print the keyfront version')
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError()
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

/**
 * The one option whose name holds the letters of `flag` in order (`--pubkey` -> `--public-key`),
 * for the abbreviations commander's edit-distance suggestion misses.
 */
function abbreviationOf(command: Command, flag: string): string | undefined {
  const letters = flag.replace(/^-+/, '').split('=')[0].replace(/-/g, '');
  if (letters.length < 3) return undefined;
  const matches = command.options.map((o) => o.long).filter((long): long is string => {
    if (long === undefined) return false;
    const name = long.slice(2).replace(/-/g, '');
    let at = 0;
    for (const char of name) if (char === letters[at]) at++;
    return at === letters.length && name[0] === letters[0];
  });
  return matches.length === 1 ? matches[0] : undefined;
}

/** Commander's own report of an unknown option (message, "Did you mean", exit), or the same with an abbreviation's suggestion. */
function reportUnknownOption(command: Command, flag: string): never {
  const abbreviation = abbreviationOf(command, flag);
  if (abbreviation !== undefined) command.error(`error: unknown option '${flag}'\n(Did you mean ${abbreviation}?)`, { code: 'commander.unknownOption', exitCode: EXIT.usage });
  // `unknownOption` is not in commander's typings; test/cli/cli-usage.test.ts pins its behaviour.
  return (command as unknown as { unknownOption(flag: string): never }).unknownOption(flag);
}

/**
 * Commander reports a missing required option before an unknown one, so a misspelt `--pubkey`
 * would read as "required option '--public-key' not specified". This walks the command line as
 * commander does, on a throwaway program (parsing stores option values), and reports the first
 * unknown option of the command it reaches, with commander's own message and suggestion.
 */
function failOnUnknownOption(argv: readonly string[]): void {
  if (argv.some((arg) => arg === '--' || arg === '--help' || arg === '-h')) return;
  let command: Command = createProgram(argv);
  let rest = [...argv];
  for (;;) {
    const { operands, unknown } = command.parseOptions(rest);
    const sub = operands.length > 0 ? command.commands.find((c) => c.name() === operands[0] || c.aliases().includes(operands[0])) : undefined;
    if (sub === undefined) {
      if (unknown.length > 0 && unknown[0].startsWith('-') && command.commands.length === 0) reportUnknownOption(command, unknown[0]);
      return;
    }
    rest = [...operands.slice(1), ...unknown];
    command = sub;
  }
}

/** Runs the CLI and resolves to the process exit code; operators see messages, never stack traces. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    failOnUnknownOption(argv);
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
    if (cliDebug(process.env)) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    return EXIT.failed;
  }
}

/** Entry of `bin/keyfront.js`. */
export function run(): void {
  endQuietlyOnClosedPipe();
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
