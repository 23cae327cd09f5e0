/** `keyfront settings`: every environment variable keyfront reads, as markdown (README's table) or JSON. */
import type { Command } from 'commander';
import { allSettings, settingsMarkdown } from '../settings/table';

export function registerSettingsCommands(program: Command): void {
  program
    .command('settings')
    .description("print every environment variable keyfront reads: default, which component reads it, what it does (README's Settings table)")
    .option('--json', 'print JSON rows instead of a markdown table')
    .action((flags: { json?: boolean }) => {
      process.stdout.write(flags.json ? `${JSON.stringify(allSettings(), null, 2)}\n` : settingsMarkdown());
    });
}
