/**
 * `keyfront keys generate`: a P-256 key pair for local signing (production keys live in Key Vault);
 * `keyfront keys rotate|retire`: the rotation of a deployment's Key Vault signing key (keys-rotation.ts).
 */
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

/* eslint-disable @typescript-eslint/no-require-imports -- the rotation's Azure code loads only for rotate and retire */
const rotation = () => require('./keys-rotation') as typeof import('./keys-rotation');
/* eslint-enable @typescript-eslint/no-require-imports */

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('signing keys: local key pairs, and the rotation of a deployment\'s Key Vault key');
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
  registerRotationCommands(keys);
}

/** `keys rotate` and `keys retire` (their tests call the commands with the stand-ins' clients). */
function registerRotationCommands(keys: Command): void {
  const azureOptions = (command: Command) =>
    command
      .requiredOption('--profile <name>', 'dev or prod (names the vault, key and publisher)')
      .option('--prefix <prefix>', 'resource name prefix (as deployed)')
      .requiredOption('--resource-group <name>', 'resource group of the deployment')
      .option('--subscription <id>', 'subscription id (default AZURE_SUBSCRIPTION_ID)')
      .option('--execute', 'do it (without it: print the plan, change nothing)');
  azureOptions(
    keys
      .command('rotate')
      .description("start a rotation of the export signing key: a new Key Vault key version; the old and the new key both sign every new file for the overlap; prints the new public key for the app stores' configuration"),
  )
    .option('--overlap-days <days>', 'how long both keys sign (at least the file retention + 1 day: 15 by default)', '28')
    .option('--key-id <id>', 'the key to rotate, by key id, when several sign (one per region); the new key keeps it')
    .option('--key-version <version>', 'the version phones will know the new key by (default: the next number, v1 -> v2)')
    .addHelpText('after', '\nExit codes: 0 done (or the plan printed), 1 refused (a rotation in progress, a role missing) or an Azure step failed, 2 bad input.')
    .action((flags: import('./keys-rotation').RotateFlags) => rotation().rotateCommand(flags, rotation().defaultKeysDeps()));
  azureOptions(keys.command('retire').description("end a rotation after its overlap: the old key stops signing and its Key Vault version is disabled; refused while any index names a file only the old key signed"))
    .addHelpText('after', '\nExit codes: 0 done (or the plan printed), 1 refused (the overlap not over, files only the old key signed) or an Azure step failed, 2 bad input.')
    .action((flags: import('./keys-rotation').RetireFlags) => rotation().retireCommand(flags, rotation().defaultKeysDeps()));
}
