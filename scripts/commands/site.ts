/**
 * `keyfront site build --out DIR`: builds the transparency page (scripts/site/build.ts) into a
 * folder, as the publisher Function App's package carries it. Everything is built in memory
 * first: a failed build writes nothing.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Command } from 'commander';
import { SITE_FILE_NAME } from '../../publisher/site';
import { CliError, EXIT } from '../cli-error';
import { writeFileAtomic } from '../cli-io';
import { buildSite } from '../site/build';

/** Refuses a folder that holds anything but an earlier build (replaced only with `force`); the names of that build. */
async function checkOut(dir: string, force: boolean): Promise<string[]> {
  const existing = await stat(dir).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new CliError(`--out ${dir} is a file, not a directory`);
  if (!existing) return [];
  const entries = await readdir(dir);
  const foreign = entries.filter((name) => !SITE_FILE_NAME.test(name));
  if (foreign.length > 0) throw new CliError(`--out ${dir} holds files that are not a site build (${foreign.slice(0, 3).join(', ')}); choose an empty folder`);
  if (entries.length > 0 && !force) throw new CliError(`--out ${dir} already holds a site build; pass --force to replace it`);
  return entries;
}

export function registerSiteCommands(program: Command): void {
  const site = program.command('site').description('the transparency page (site/): build it for publishing');
  site
    .command('build')
    .description('bundle site/ and the phone library for browsers into DIR: index.html and content-hashed assets, as the publisher writes them under /site/')
    .requiredOption('--out <dir>', 'folder for the built files (created if missing; must be empty or hold an earlier build)')
    .option('--force', 'replace an earlier build in --out')
    .action(async (flags: { out: string; force?: boolean }) => {
      // Bad input is refused before the build's few seconds; a failed build writes nothing.
      const earlier = await checkOut(flags.out, flags.force === true);
      let files;
      try {
        files = await buildSite();
      } catch (error) {
        throw new CliError(`the site does not build: ${(error as Error).message}`, EXIT.failed);
      }
      try {
        for (const name of earlier) await rm(path.join(flags.out, name));
        await mkdir(flags.out, { recursive: true });
        for (const file of files) await writeFileAtomic(path.join(flags.out, file.name), file.data);
      } catch (error) {
        throw new CliError(`cannot write the site to ${flags.out}: ${(error as Error).message}`, EXIT.failed);
      }
      process.stdout.write(`${JSON.stringify({ out: flags.out, files: files.map((file) => ({ name: file.name, bytes: file.data.length })) })}\n`);
    });
}
