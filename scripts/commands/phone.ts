/**
 * `keyfront phone sync|upload`: one phone, from the command line, through the client library that
 * the drills and the transparency page use. `sync` reads the index (conditionally, with the saved
 * validators), downloads and verifies the new files, keeps every good one and reports the others
 * (tried again next time); `upload` registers and uploads a keys file with its verification
 * certificate, kept in the state file until the API answers. The public key, the state and the
 * keys are read and checked before any request.
 */
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { access } from 'node:fs/promises';
import { ClientError, parseState, Phone, register, sendChaff, type PhoneState, type PhoneSyncReport, type UploadKey, type UploadOutcome, type UploadRequest } from '../../client';
import { CliError, EXIT } from '../cli-error';
import { collect, printJson, readInputFile, readJsonFile, writeFileAtomic } from '../cli-io';
import { perKey, readPublicKeyFile } from '../cli-key-files';
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

/** The codes of a library failure that are the caller's input (exit 2); anything the server or network did is exit 1. */
const INPUT_CODES = new Set(['public_key_invalid', 'bad_request', 'state_invalid']);

/** A failure as the CLI reports it: a code for programs (`--json`), a sentence and the exit code. */
function failureOf(error: unknown): { code: string; message: string; exitCode: number } {
  if (error instanceof ClientError) {
    const message = `${error.message}${error.serverCode && !error.message.includes(error.serverCode) ? ` (${error.serverCode})` : ''}`;
    return { code: error.code, message, exitCode: INPUT_CODES.has(error.code) ? EXIT.usage : EXIT.failed };
  }
  if (error instanceof CliError) return { code: error.exitCode === EXIT.usage ? 'bad_request' : 'failed', message: error.message, exitCode: error.exitCode };
  return { code: 'unexpected', message: (error as Error)?.message ?? String(error), exitCode: EXIT.failed };
}

/** A failure whose JSON the command already printed (a sync report with failed files). */
class ReportedFailure extends CliError {}

/**
 * Runs a command's work; any failure is printed as one line on stderr (by the CLI) and, with
 * `--json`, also as `{"error","code"}` on stdout, so a program reading stdout always gets JSON.
 */
async function reporting(json: boolean | undefined, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    const failure = failureOf(error);
    if (json && !(error instanceof ReportedFailure)) printJson({ error: failure.message, code: failure.code });
    if (error instanceof CliError) throw error;
    if (error instanceof ClientError) throw new CliError(`${failure.code}: ${failure.message}`, failure.exitCode);
    throw error;
  }
}

/** The phone's state file holds its validators, pending files and pending uploads (keys and their certificate): only its owner reads it. */
const STATE_FILE_MODE = 0o600;

async function saveState(file: string | undefined, phone: Phone): Promise<void> {
  if (file) await writeFileAtomic(file, `${JSON.stringify(phone.state, null, 2)}\n`, STATE_FILE_MODE);
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
  for (const file of report.fetched) lines.push(`fetched and verified ${file.path}: ${file.keyCount} keys, ${file.revisedKeyCount} revised, signed by ${file.signedBy.map((info) => `${info.verificationKeyId}/${info.verificationKeyVersion}`).join(', ')}`);
  for (const file of report.failed) lines.push(`failed ${file.path}: ${file.code}`);
  if (report.skipped.length > 0) lines.push(`skipped ${report.skipped.length} files already verified`);
  if (report.dropped.length > 0) lines.push(`forgot ${report.dropped.length} files that left the index`);
  if (report.pending.length > 0) lines.push(`${report.pending.length} files pending: tried again on the next sync`);
  return `${lines.join('\n')}\n`;
}

interface SyncFlags {
  base: string;
  region: string;
  publicKey: string[];
  keyId?: string[];
  keyVersion?: string[];
  state?: string;
  json?: boolean;
}

async function sync(flags: SyncFlags): Promise<void> {
  const baseUrl = baseUrlOf(flags.base);
  if (!REGION.test(flags.region)) throw new CliError(`--region must be 1 to 16 letters, digits, '_' or '-', got ${JSON.stringify(flags.region)}`);
  // Read and checked before any request: a private key, a certificate or garbage is named here, not pinned on a file later.
  const count = flags.publicKey.length;
  const ids = flags.keyId ? perKey('--key-id', flags.keyId, count, '--public-key') : [];
  const versions = flags.keyVersion ? perKey('--key-version', flags.keyVersion, count, '--public-key') : [];
  const key = [];
  for (const [i, file] of flags.publicKey.entries()) {
    const publicKey = (await readPublicKeyFile(file, '--public-key')).toString('utf8');
    key.push({ publicKey, ...(ids[i] ? { keyId: ids[i] } : {}), ...(versions[i] ? { keyVersion: versions[i] } : {}) });
  }
  const state = await readState(flags.state, flags.region);
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
  } finally {
    bar?.stop();
  }
  // Saved also when files failed: the good ones are kept, the failed ones pending.
  await saveState(flags.state, phone);
  const first = report.failed[0];
  const failure = first ? { error: `${report.failed.length} of ${report.failed.length + report.fetched.length} files failed; the good ones are kept, the others are tried again on the next sync. First: ${first.message}`, code: first.code } : {};
  process.stdout.write(flags.json ? `${JSON.stringify({ ...report, ...failure })}\n` : summary(report));
  if (first) throw new ReportedFailure(`${first.code}: ${failure.error}`, EXIT.failed);
}

interface UploadFlags {
  base: string;
  region: string;
  keys?: string;
  certificate?: string;
  state?: string;
  giveUpAfter?: string;
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

function outcomeLine(outcome: UploadOutcome): string {
  // A key an earlier, unanswered send stored is not counted again: "newly".
  if (outcome.status === 'accepted') return `upload ${outcome.id}: accepted, ${outcome.result.insertedExposures} keys newly stored`;
  return `upload ${outcome.id}: ${outcome.status === 'refused' ? 'refused' : 'no answer, kept'}: ${outcome.error.code}: ${outcome.error.message}`;
}

async function uploadCommand(flags: UploadFlags): Promise<void> {
  const baseUrl = baseUrlOf(flags.base);
  if (!REGION.test(flags.region)) throw new CliError(`--region must be 1 to 16 letters, digits, '_' or '-', got ${JSON.stringify(flags.region)}`);
  const giveUpAfter = flags.giveUpAfter === undefined ? undefined : Number(flags.giveUpAfter);
  if (giveUpAfter !== undefined && !(/^\d+$/.test(flags.giveUpAfter as string) && giveUpAfter >= 1 && giveUpAfter <= 86_400)) throw new CliError(`--give-up-after must be a whole number of seconds from 1 to 86400, got ${JSON.stringify(flags.giveUpAfter)}`);
  const attest = flags.attest === undefined ? undefined : attestationPlatformOf(flags.attest, '--attest');
  let request = flags.keys === undefined ? undefined : await uploadRequestOf(flags.keys, flags.certificate);
  if (request && attest) request = (await withDevAttestation({ ...request }, attest)) as unknown as UploadRequest;
  const state = await readState(flags.state, flags.region);
  const phone = new Phone({ baseUrl, region: flags.region, ...(state ? { state } : {}), ...(giveUpAfter ? { uploadRetry: { maxElapsedInMs: giveUpAfter * 1000 } } : {}) });
  if (flags.chaff) {
    const registration = flags.register ? await register(baseUrl) : undefined;
    await sendChaff(baseUrl, { ...(registration ? { registration } : {}), ...(attest ? { attest } : {}) });
    process.stdout.write(flags.json ? `${JSON.stringify({ chaff: true })}\n` : 'chaff upload sent and answered\n');
    return;
  }
  if (!request && phone.pendingUploads.length === 0) {
    throw new CliError(flags.state ? `--keys FILE is required: ${flags.state} holds no upload waiting for an answer (or --chaff for a decoy upload)` : '--keys FILE is required (or --chaff for a decoy upload)');
  }
  // Queued and saved before the first request: from here on the keys are not lost to a crash or an outage.
  const id = request ? phone.queueUpload(request, { register: flags.register }) : undefined;
  await saveState(flags.state, phone);
  const onRetry = (event: { delayInMs: number; reason: string }) => process.stderr.write(`keyfront: no answer yet (${event.reason}); trying again in ${Math.ceil(event.delayInMs / 1000)} s\n`);
  let outcomes: UploadOutcome[];
  try {
    outcomes = await phone.sendUploads({ onRetry });
  } finally {
    await saveState(flags.state, phone);
  }
  const mine = outcomes.find((outcome) => outcome.id === id);
  // Uploads queued earlier and sent now are told on their own lines (stderr with --json, whose stdout is one JSON value).
  for (const outcome of outcomes) {
    if (outcome === mine || (flags.json && id === undefined)) continue;
    (flags.json ? process.stderr : process.stdout).write(`${outcomeLine(outcome)}\n`);
  }
  const kept = phone.pendingUploads.length;
  const where = flags.state ? `kept in ${flags.state}: run \`keyfront phone upload --base ... --state ${flags.state}\` again to send it` : 'lost when this command ends (give --state FILE to keep uploads until they are answered)';
  if (id === undefined) {
    if (flags.json) printJson({ uploads: outcomes.map((outcome) => ({ id: outcome.id, status: outcome.status, ...(outcome.status === 'accepted' ? outcome.result : { code: outcome.error.code, error: outcome.error.message }) })), pending: kept });
    const refused = outcomes.filter((outcome) => outcome.status === 'refused').length;
    if (kept > 0) throw new ReportedFailure(`${kept} upload${kept === 1 ? '' : 's'} still waiting for an answer, ${where}`, EXIT.failed);
    if (refused > 0) throw new ReportedFailure(`${refused} upload${refused === 1 ? ' was' : 's were'} refused (see above)`, EXIT.failed);
    return;
  }
  if (mine?.status === 'accepted') {
    if (flags.json) printJson(mine.result);
    else process.stdout.write(`uploaded: ${mine.result.insertedExposures} keys stored; revision token ${mine.result.revisionToken}\n`);
    return;
  }
  if (mine?.status === 'refused') throw mine.error;
  const reason = mine?.status === 'pending' ? mine.error : new ClientError('network_error', 'an upload queued earlier got no answer, so this one was not sent yet');
  throw new ClientError(reason.code, `${reason.message}; the upload is ${where}`, { ...(reason.statusCode === undefined ? {} : { statusCode: reason.statusCode }) });
}

export function registerPhoneCommands(program: Command): void {
  const phone = program.command('phone').description('act as one phone against an edge: sync and verify export files, upload keys');
  phone
    .command('sync')
    .description('read the index (conditionally), download and verify new files; a file that fails is reported and tried again next time, the others are kept')
    .requiredOption('--base <url>', 'edge base URL, e.g. http://127.0.0.1:8080 (the local edge of npm start)')
    .requiredOption('--public-key <file>', "the health authority's public key: PEM (SPKI) or JWK; repeat it during a key rotation (a file passes when one of them verifies it)", collect)
    .option('--region <region>', 'region to sync', '440')
    .option('--key-id <id>', 'verification_key_id the files must be signed as (once, or once per --public-key)', collect)
    .option('--key-version <version>', 'verification_key_version the files must be signed as (once, or once per --public-key)', collect)
    .option('--state <file>', 'JSON state kept between syncs (index validators, files verified)')
    .option('--json', 'print the report as JSON (a failure too, as {"error","code"})')
    .addHelpText('after', '\nExit codes: 0 every file of the index verified, 1 a file failed (the good ones are kept, the state\nsaved, the failed ones tried again next time) or the index could not be read, 2 bad input.')
    .action((flags: SyncFlags) => reporting(flags.json, () => sync(flags)));
  phone
    .command('upload')
    .description('register, then upload keys with their verification certificate (padded as phones pad)')
    .requiredOption('--base <url>', 'edge base URL, e.g. http://127.0.0.1:8080')
    .option('--keys <file>', 'a JSON array of keys in the upload shape, or a whole publish body (`keyfront dev certificate --body`)')
    .option('--certificate <file>', 'JSON with healthAuthorityID, verificationPayload and hmacKey (`keyfront dev certificate`)')
    .option('--no-register', 'upload without registering first (for APIs that do not require it)')
    .option('--state <file>', 'the phone state file (as for sync): the upload is kept there until the API answers it; without --keys, sends the uploads it keeps')
    .option('--region <region>', 'the region of the state file', '440')
    .option('--give-up-after <seconds>', 'how long to keep trying without an answer before leaving the upload in --state (default 2700: 45 minutes)')
    .option('--chaff', 'send one decoy upload (X-Chaff) instead of keys')
    .option('--attest <platform>', 'android or ios: attest the upload with the dev attestation material of KEYFRONT_DATA_DIR (the local stack trusts it); with --chaff, shape the decoy as an attested upload')
    .option('--json', 'print the answer as JSON (a failure too, as {"error","code"})')
    .addHelpText('after', '\nA store outage or a dead network is retried for 45 minutes (Retry-After honoured); sending again is\nsafe: the API stores a repeated upload once. Exit codes: 0 uploaded, 1 refused by the API or no\nanswer (kept in --state), 2 bad input.')
    .action((flags: UploadFlags) => reporting(flags.json, () => uploadCommand(flags)));
}
