/** `keyfront keys generate`: a P-256 key pair for local signing (production keys live in Key Vault). */
import { generateKeyPairSync } from 'node:crypto';
import { access, chmod, mkdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { printJson, writeFileAtomic } from '../cli-io';

/** Creates `<name>-private.pem` (mode 0600) and `<name>-public.pem` in `dir`; never overwrites unless told. */
export async function generateSigningKeyPair(dir: string, name: string, overwrite = false): Promise<{ privateKeyFile: string; publicKeyFile: string }> {
  const privateKeyFile = path.join(dir, `${name}-private.pem`);
  const publicKeyFile = path.join(dir, `${name}-public.pem`);
  if (!overwrite) {
    for (const file of [privateKeyFile, publicKeyFile]) {
      const exists = await access(file).then(() => true, () => false);
      if (exists) throw new CliError(`${file} already exists; pass --force to replace it`);
    }
  }
  const existing = await stat(dir).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new CliError(`--out ${dir} is a file, not a directory`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new CliError(`cannot create the directory ${dir}: ${(error as Error).message}`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await writeFileAtomic(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600);
  await writeFileAtomic(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }), 0o644);
  await chmod(privateKeyFile, 0o600);
  return { privateKeyFile, publicKeyFile };
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('manage local signing keys');
  keys
    .command('generate')
    .description('generate an ECDSA P-256 key pair (PEM) for local signing')
    .requiredOption('--out <dir>', 'directory for the key files (created with mode 0700 if missing)')
    .option('--name <name>', 'file name prefix', 'signing')
    .option('--force', 'replace existing key files')
    .action(async (flags: { out: string; name: string; force?: boolean }) => {
      if (!/^[A-Za-z0-9_.-]+$/.test(flags.name)) throw new CliError(`--name must be a plain file name prefix, got ${JSON.stringify(flags.name)}`);
      const files = await generateSigningKeyPair(flags.out, flags.name, flags.force === true);
      printJson(files);
    });
}
