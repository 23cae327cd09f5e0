/** `keyfront export build|inspect|verify`: make one signed export file, look inside one, check one. */
import type { Command } from 'commander';
import { buildExport, openExport, verifyExport } from '../../proto/codec';
import { ExportFormatError } from '../../proto/errors';
import { exportReport } from '../../proto/export-report';
import { checkTekAt, MAX_KEYS_PER_FILE, tekFromJson, type Tek } from '../../proto/tek';
import { LocalSigner } from '../../publisher/signers/local';
import { CliError, EXIT } from '../cli-error';
import { collect, parseIsoOption, printJson, readInputFile, readJsonFile, writeFileAtomic } from '../cli-io';
import { perKey, readPrivateKeyFile, readPublicKeyFile } from '../cli-key-files';
import { startProgress } from '../cli-progress';

const ID_PATTERN = /^[A-Za-z0-9_]+$/;

/** Reads a keys file of the upload JSON shape; the first bad key fails with its index and rule. */
export function teksFromJsonArray(value: unknown, source: string): Tek[] {
  if (!Array.isArray(value)) throw new CliError(`${source} must hold a JSON array of keys`);
  if (value.length > MAX_KEYS_PER_FILE) throw new CliError(`${source} holds ${value.length} keys; a file holds at most ${MAX_KEYS_PER_FILE}`);
  const seen = new Set<string>();
  return value.map((item, index) => {
    const read = tekFromJson(item, index);
    if (!read.ok) throw new CliError(`${source}: key ${index} is invalid (${read.code}): ${read.message}`);
    const id = Buffer.from(read.tek.keyData).toString('base64');
    if (seen.has(id)) throw new CliError(`${source}: key ${index} is invalid (duplicate_key): the same key data appears earlier in the file`);
    seen.add(id);
    return read.tek;
  });
}

interface BuildFlags {
  keys: string;
  privateKey: string[];
  region: string;
  keyId: string[];
  keyVersion: string[];
  start: string;
  end: string;
  out: string;
}


/**
 * The signers of `export build`: one per `--private-key`, in order, with the `--key-id` and
 * `--key-version` of the same position (one `--key-id` or `--key-version` serves every key).
 */
async function signersOf(flags: Pick<BuildFlags, 'privateKey' | 'keyId' | 'keyVersion'>): Promise<LocalSigner[]> {
  const count = flags.privateKey.length;
  const each = (option: string, values: string[]): string[] => {
    for (const value of values) if (!ID_PATTERN.test(value)) throw new CliError(`${option} must match [A-Za-z0-9_]+ (GAEN signature info), got ${JSON.stringify(value)}`);
    return perKey(option, values, count, '--private-key');
  };
  const ids = each('--key-id', flags.keyId);
  const versions = each('--key-version', flags.keyVersion);
  const names = ids.map((id, i) => `${id}/${versions[i]}`);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated) throw new CliError(`the key id and version ${repeated} are given to two keys: each key signs under its own (a phone picks the signature by them)`);
  const signers: LocalSigner[] = [];
  for (const [i, file] of flags.privateKey.entries()) signers.push(new LocalSigner(await readPrivateKeyFile(file, '--private-key'), { keyId: ids[i], keyVersion: versions[i] }));
  return signers;
}

async function build(flags: BuildFlags): Promise<void> {
  const signers = await signersOf(flags);
  if (flags.region.trim() === '') throw new CliError('--region must not be empty');
  const start = parseIsoOption(flags.start, '--start');
  const end = parseIsoOption(flags.end, '--end');
  if (end <= start) throw new CliError('--end must be after --start');
  if (start.getTime() % 1000 !== 0 || end.getTime() % 1000 !== 0) throw new CliError('--start and --end must be whole seconds');
  const keys = teksFromJsonArray(await readJsonFile(flags.keys, 'keys file'), flags.keys);
  // Large key sets (up to 750,000) take seconds: a bar over the checks, the build and the write.
  const progress = startProgress('export build', keys.length + 2);
  let built;
  try {
    // The clock rules too, with the window's end as "now": as the publisher would have published them.
    keys.forEach((tek, index) => {
      const check = checkTekAt(tek, end, index);
      if (!check.ok) throw new CliError(`${flags.keys}: key ${index} is invalid for a file ending ${end.toISOString()} (${check.code}): ${check.message}`);
      if (index % 1000 === 999) progress.tick(1000);
    });
    progress.tick(keys.length % 1000);
    try {
      built = await buildExport({ region: flags.region, startTimestamp: start.getTime() / 1000, endTimestamp: end.getTime() / 1000, keys }, signers);
    } catch (error) {
      if (error instanceof ExportFormatError) throw new CliError(`cannot build the export (${error.code}): ${error.message}`);
      throw error;
    }
    progress.tick();
    await writeFileAtomic(flags.out, built.zip);
    progress.tick();
  } finally {
    progress.stop();
  }
  const signatures = built.signatureInfos.map((info) => ({ keyId: info.verificationKeyId, keyVersion: info.verificationKeyVersion }));
  printJson({ out: flags.out, keys: built.keyCount, zipBytes: built.zip.length, binBytes: built.binBytes, binSha256: built.binSha256, signatures });
}

async function inspect(file: string, flags: { keys?: boolean }): Promise<void> {
  const zip = await readInputFile(file, 'export file');
  let opened;
  try {
    opened = await openExport(zip);
  } catch (error) {
    if (error instanceof ExportFormatError) throw new CliError(`${file} is not a readable export (${error.code}): ${error.message}`, EXIT.failed);
    throw error;
  }
  const report = exportReport(opened, { file, zipBytes: zip.length }, flags);
  printJson(report, true);
}

async function verify(file: string, flags: { publicKey: string; keyId?: string; keyVersion?: string }): Promise<void> {
  for (const [option, value] of [['--key-id', flags.keyId], ['--key-version', flags.keyVersion]] as const) {
    if (value !== undefined && !ID_PATTERN.test(value)) throw new CliError(`${option} must match [A-Za-z0-9_]+ (GAEN signature info), got ${JSON.stringify(value)}`);
  }
  const zip = await readInputFile(file, 'export file');
  const publicKeyText = await readPublicKeyFile(flags.publicKey, '--public-key');
  const result = await verifyExport(zip, publicKeyText, { keyId: flags.keyId, keyVersion: flags.keyVersion });
  printJson({ file, ...result });
  if (!result.valid) throw new CliError(`${file} does not verify (${result.code}): ${result.reason}`, EXIT.failed);
}

export function registerExportCommands(program: Command): void {
  const exportCommand = program.command('export').description('build, inspect and verify GAEN export files (export.bin + export.sig in a zip)');

  exportCommand
    .command('build')
    .description('build and sign one export file from a JSON array of keys in the upload shape (several keys during a key rotation: one signature each)')
    .requiredOption('--keys <file>', 'JSON array of {key, rollingStartNumber, rollingPeriod, transmissionRisk, reportType?, daysSinceOnsetOfSymptoms?}')
    .requiredOption('--private-key <file>', 'P-256 private key (PEM), e.g. from `keyfront keys generate`; repeat it to sign with several keys, in order', collect)
    .requiredOption('--region <region>', 'region of the keys, e.g. 440 or JP')
    .requiredOption('--key-id <id>', 'signature verification_key_id, e.g. the MCC 440 (once, or once per --private-key)', collect)
    .requiredOption('--key-version <version>', 'signature verification_key_version, e.g. v1 (once, or once per --private-key)', collect)
    .requiredOption('--start <iso>', 'window start, ISO 8601 (written as UTC seconds)')
    .requiredOption('--end <iso>', 'window end, ISO 8601 (written as UTC seconds)')
    .requiredOption('--out <file>', 'where to write the zip (written atomically)')
    .addHelpText('after', '\nExit codes: 0 built, 2 invalid input (the message names the first bad key and rule).')
    .action(build);

  exportCommand
    .command('inspect')
    .description('print what an export file holds, as JSON (no signature check: see verify)')
    .argument('<file>', 'export zip')
    .option('--keys', 'include every key')
    .addHelpText('after', '\nExit codes: 0 printed, 1 not a readable export, 2 no such file.')
    .action(inspect);

  exportCommand
    .command('verify')
    .description('strictly verify an export file against a public key; prints one JSON line')
    .argument('<file>', 'export zip')
    .requiredOption('--public-key <file>', 'P-256 public key, PEM (SPKI) or JWK JSON')
    .option('--key-id <id>', 'check only the signature of this verification_key_id (as a phone configured with it does)')
    .option('--key-version <version>', 'check only the signature of this verification_key_version')
    .addHelpText('after', '\nExit codes: 0 valid, 1 invalid (the reason is printed), 2 unreadable input.')
    .action(verify);
}
