/**
 * `keyfront phone sync|upload`: one phone, from the command line, through the client library that
 * the drills and the transparency page use. `sync` reads the index (conditionally, with the saved
 * validators), downloads and verifies the new files and saves the state only when all of it
 * succeeded; `upload` registers and uploads a keys file with its verification certificate.
 */
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { access } from 'node:fs/promises';
import { ClientError, parseState, Phone, register, sendChaff, upload, type PhoneState, type PhoneSyncReport, type UploadKey, type UploadRequest } from '../../client';
import { CliError, EXIT } from '../cli-error';
import { readInputFile, readJsonFile, writeFileAtomic } from '../cli-io';
import { attestationPlatformOf, withDevAttestation } from './dev';

const REGION = /^[A-Za-z0-9_-]{1,16}$/;

function baseUrlOf(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`--base must be an http(s) URL such as http://127.0.0.1:8080, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`--base must be an http(s) URL, got ${JSON.stringify(value)}`);
  if (url.search || url.hash) throw new CliError('--base must not carry a query or fragment');
  return url.href.replace(/\/+$/, '');
}

/** A library failure as the CLI's: the caller's input is exit 2, anything the server or network did is exit 1. */
function cliErrorOf(error: unknown): unknown {
  if (!(error instanceof ClientError)) return error;
  const input = error.code === 'public_key_invalid' || error.code === 'bad_request' || error.code === 'state_invalid';
  return new CliError(`${error.code}: ${error.message}${error.serverCode && !error.message.includes(error.serverCode) ? ` (${error.serverCode})` : ''}`, input ? EXIT.usage : EXIT.failed);
}

async function readState(file: string | undefined, region: string): Promise<PhoneState | undefined> {
  if (file === undefined) return undefined;
  const exists = await access(file).then(() => true, () => false);
  if (!exists) return undefined;
  let state: PhoneState;
  try {
    state = parseState((await readInputFile(file, 'state file')).toString('utf8'));
  } catch (error) {
    if (error instanceof ClientError) throw new CliError(`${file}: ${error.message}`);
    throw error;
  }
  if (state.region !== region) throw new CliError(`${file} holds the state of region ${state.region}, not ${region}; use another --state file`);
  return state;
}

function summary(report: PhoneSyncReport): string {
  const lines = [`index of region ${report.region}: ${report.indexStatus === 304 ? 'unchanged (304)' : 'read (200)'}`];
  for (const file of report.fetched) lines.push(`fetched and verified ${file.path}: ${file.keyCount} keys, ${file.revisedKeyCount} revised, signed by ${file.signatureInfo.verificationKeyId}/${file.signatureInfo.verificationKeyVersion}`);
  if (report.skipped.length > 0) lines.push(`skipped ${report.skipped.length} files already verified`);
  if (report.dropped.length > 0) lines.push(`forgot ${report.dropped.length} files that left the index`);
  return `${lines.join('\n')}\n`;
}

interface SyncFlags {
  base: string;
  region: string;
  publicKey: string;
  keyId?: string;
  keyVersion?: string;
  state?: string;
  json?: boolean;
}

async function sync(flags: SyncFlags): Promise<void> {
  const baseUrl = baseUrlOf(flags.base);
  if (!REGION.test(flags.region)) throw new CliError(`--region must be 1 to 16 letters, digits, '_' or '-', got ${JSON.stringify(flags.region)}`);
  const publicKey = (await readInputFile(flags.publicKey, 'public key')).toString('utf8');
  const state = await readState(flags.state, flags.region);
  const key = { publicKey, ...(flags.keyId ? { keyId: flags.keyId } : {}), ...(flags.keyVersion ? { keyVersion: flags.keyVersion } : {}) };
  const phone = new Phone({ baseUrl, region: flags.region, key, ...(state ? { state } : {}) });
  const bar = process.stderr.isTTY ? new SingleBar({ format: 'files {bar} {value}/{total}', stream: process.stderr }) : undefined;
  let report: PhoneSyncReport;
  try {
    report = await phone.sync({
      onProgress: (done, total) => {
        if (!bar || total === 0) return;
        if (done === 0) bar.start(total, 0);
        else bar.update(done);
      },
    });
  } catch (error) {
    throw cliErrorOf(error);
  } finally {
    bar?.stop();
  }
  if (flags.state) await writeFileAtomic(flags.state, `${JSON.stringify(phone.state, null, 2)}\n`);
  process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : summary(report));
}

interface UploadFlags {
  base: string;
  keys?: string;
  certificate?: string;
  register: boolean;
  chaff?: boolean;
  attest?: string;
  json?: boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The publish request of a keys file (an array of keys, or a whole body) and an optional certificate file. */
async function uploadRequestOf(keysFile: string, certificateFile: string | undefined): Promise<UploadRequest> {
  const keys = await readJsonFile(keysFile, 'keys file');
  const certificate = certificateFile === undefined ? undefined : await readJsonFile(certificateFile, 'certificate file');
  if (certificate !== undefined && !isObject(certificate)) throw new CliError(`${certificateFile} must hold a JSON object with healthAuthorityID, verificationPayload and hmacKey (as \`keyfront dev certificate\` prints)`);
  let request: Record<string, unknown>;
  if (Array.isArray(keys)) {
    if (!certificate) throw new CliError(`${keysFile} holds keys only; give the verification certificate with --certificate FILE (\`keyfront dev certificate --keys ${keysFile}\` makes one locally)`);
    request = { temporaryExposureKeys: keys as UploadKey[], ...certificate };
  } else if (isObject(keys)) {
    request = { ...keys, ...(certificate ?? {}) };
  } else {
    throw new CliError(`${keysFile} must hold a JSON array of keys or a whole publish body`);
  }
  for (const field of ['healthAuthorityID', 'verificationPayload', 'hmacKey']) {
    if (typeof request[field] !== 'string' || request[field] === '') throw new CliError(`the upload needs ${field} (from the keys file or --certificate)`);
  }
  if (!Array.isArray(request.temporaryExposureKeys)) throw new CliError('the upload needs temporaryExposureKeys');
  return request as unknown as UploadRequest;
}

async function uploadCommand(flags: UploadFlags): Promise<void> {
  const baseUrl = baseUrlOf(flags.base);
  if (!flags.chaff && flags.keys === undefined) throw new CliError('--keys FILE is required (or --chaff for a decoy upload)');
  const attest = flags.attest === undefined ? undefined : attestationPlatformOf(flags.attest, '--attest');
  let request = flags.keys === undefined ? undefined : await uploadRequestOf(flags.keys, flags.certificate);
  if (request && attest) request = (await withDevAttestation({ ...request }, attest)) as unknown as UploadRequest;
  try {
    const registration = flags.register ? await register(baseUrl) : undefined;
    const options = registration ? { registration } : {};
    if (flags.chaff) {
      await sendChaff(baseUrl, { ...options, ...(attest ? { attest } : {}) });
      process.stdout.write(flags.json ? `${JSON.stringify({ chaff: true })}\n` : 'chaff upload sent and answered\n');
      return;
    }
    const result = await upload(baseUrl, request as UploadRequest, options);
    process.stdout.write(flags.json ? `${JSON.stringify(result)}\n` : `uploaded: ${result.insertedExposures} keys stored; revision token ${result.revisionToken}\n`);
  } catch (error) {
    throw cliErrorOf(error);
  }
}

export function registerPhoneCommands(program: Command): void {
  const phone = program.command('phone').description('act as one phone against an edge: sync and verify export files, upload keys');
  phone
    .command('sync')
    .description('read the index (conditionally), download and verify new files; the state file changes only when everything verified')
    .requiredOption('--base <url>', 'edge base URL, e.g. http://127.0.0.1:8080 (the local edge of npm start)')
    .requiredOption('--public-key <file>', "the health authority's public key: PEM (SPKI) or JWK")
    .option('--region <region>', 'region to sync', '440')
    .option('--key-id <id>', 'verification_key_id the files must be signed as')
    .option('--key-version <version>', 'verification_key_version the files must be signed as')
    .option('--state <file>', 'JSON state kept between syncs (index validators, files verified)')
    .option('--json', 'print the report as JSON')
    .action(sync);
  phone
    .command('upload')
    .description('register, then upload keys with their verification certificate (padded as phones pad)')
    .requiredOption('--base <url>', 'edge base URL, e.g. http://127.0.0.1:8080')
    .option('--keys <file>', 'a JSON array of keys in the upload shape, or a whole publish body (`keyfront dev certificate --body`)')
    .option('--certificate <file>', 'JSON with healthAuthorityID, verificationPayload and hmacKey (`keyfront dev certificate`)')
    .option('--no-register', 'upload without registering first (for APIs that do not require it)')
    .option('--chaff', 'send one decoy upload (X-Chaff) instead of keys')
    .option('--attest <platform>', 'android or ios: attest the upload with the dev attestation material of KEYFRONT_DATA_DIR (the local stack trusts it); with --chaff, shape the decoy as an attested upload')
    .option('--json', 'print the answer as JSON')
    .action(uploadCommand);
}
