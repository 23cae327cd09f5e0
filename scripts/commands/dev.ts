/**
 * `keyfront dev certificate|keys|attestation`: development helpers against the local stack.
 * `certificate` signs a verification certificate for a keys file as the dev health authority of
 * the data directory (created by `npm start`); `keys` prints random keys of the last days to
 * upload; `attestation` adds to a publish body a device attestation minted for exactly that body
 * by the dev Play keys or dev App Attest CA the local API trusts.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { HttpError } from '../../api/errors';
import { parsePublishRequest, type UploadKey } from '../../api/upload/upload';
import { ATTESTATION_PLATFORMS, type AttestationPlatform, type CanonicalUploadFields } from '../../proto/canonical-upload';
import { intervalNumberOf, MAX_KEYS_PER_UPLOAD, ReportType, tekFromJson, tekToJson } from '../../proto/tek';
import { CliError, EXIT } from '../cli-error';
import { parseIsoOption, printJson, readJsonFile } from '../cli-io';
import { ConfigError, localStackDataDir } from '../local-stack/config';
import { attestDevUpload, readDevAttestation } from '../local-stack/dev-attestation';
import { DevMaterialError, readDevMaterial } from '../local-stack/dev-material';
import { realisticDevKeys } from '../local-stack/dev-keys';
import { issueVerificationCertificate, type CertificateReportType } from '../local-stack/verification-certificate';

const REPORT_TYPES: readonly CertificateReportType[] = ['confirmed', 'likely', 'negative'];

/** The keys of a keys file (an array, or a publish body with `temporaryExposureKeys`) as they will be uploaded. */
function uploadKeysOf(value: unknown, file: string): UploadKey[] {
  const list = Array.isArray(value) ? value : (value as { temporaryExposureKeys?: unknown } | null)?.temporaryExposureKeys;
  if (!Array.isArray(list)) throw new CliError(`${file} must hold a JSON array of keys, or an object with temporaryExposureKeys`);
  if (list.length === 0 || list.length > MAX_KEYS_PER_UPLOAD) throw new CliError(`${file} holds ${list.length} keys; an upload has 1 to ${MAX_KEYS_PER_UPLOAD}`);
  return list.map((item: unknown, index) => {
    const read = tekFromJson(item, index);
    if (!read.ok) throw new CliError(`${file}: key ${index} is invalid (${read.code}): ${read.message}`);
    const { key, rollingStartNumber, rollingPeriod, transmissionRisk } = tekToJson(read.tek);
    return { key, rollingStartNumber, rollingPeriod, transmissionRisk };
  });
}

function onsetOf(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  return intervalNumberOf(parseIsoOption(value, '--onset', { dateOnly: true }));
}

function hmacKeyOf(value: string): Buffer {
  const key = Buffer.from(value, 'base64');
  if (key.length === 0 || key.toString('base64') !== value) throw new CliError('--hmac-key must be non-empty standard base64');
  return key;
}

/** What the data directory of the local stack holds, or a usage error saying what to do. */
async function fromDataDir<T>(read: (dataDir: string) => Promise<T>): Promise<T> {
  try {
    return await read(localStackDataDir(process.env));
  } catch (error) {
    if (error instanceof DevMaterialError || error instanceof ConfigError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
}

const devMaterial = () => fromDataDir(readDevMaterial);

/** The platform of `--platform`/`--attest`, or a usage error. */
export function attestationPlatformOf(value: string, option: string): AttestationPlatform {
  if (!(ATTESTATION_PLATFORMS as readonly string[]).includes(value)) throw new CliError(`${option} must be one of ${ATTESTATION_PLATFORMS.join(', ')}, got ${JSON.stringify(value)}`);
  return value as AttestationPlatform;
}

/** `body` with `platform` and a payload the dev attestation material of the data directory minted for it. */
export async function withDevAttestation(body: Record<string, unknown>, platform: AttestationPlatform): Promise<Record<string, unknown>> {
  const material = await fromDataDir(readDevAttestation);
  // A payload made before, and padding (which phones add when they send), are not part of the body attested.
  const { deviceVerificationPayload: _old, padding: _padding, ...fields }: Record<string, unknown> = { ...body, platform };
  return { ...fields, deviceVerificationPayload: await attestDevUpload(material, platform, fields as unknown as CanonicalUploadFields) };
}

async function attestation(flags: { platform: string; body: string }): Promise<void> {
  const platform = attestationPlatformOf(flags.platform, '--platform');
  const body = await readJsonFile(flags.body, 'body file');
  try {
    parsePublishRequest(body);
  } catch (error) {
    if (error instanceof HttpError) throw new CliError(`${flags.body} is not a publish body (as \`keyfront dev certificate --body\` prints): ${error.message}`);
    throw error;
  }
  printJson(await withDevAttestation(body as Record<string, unknown>, platform), true);
}

interface CertificateFlags {
  keys: string;
  hmacKey?: string;
  reportType: string;
  onset?: string;
  body?: boolean;
}

async function certificate(flags: CertificateFlags): Promise<void> {
  if (!(REPORT_TYPES as readonly string[]).includes(flags.reportType)) throw new CliError(`--report-type must be one of ${REPORT_TYPES.join(', ')}, got ${JSON.stringify(flags.reportType)}`);
  const hmacKey = flags.hmacKey === undefined ? randomBytes(32) : hmacKeyOf(flags.hmacKey);
  const onset = flags.onset === undefined ? undefined : onsetOf(flags.onset);
  const keys = uploadKeysOf(await readJsonFile(flags.keys, 'keys file'), flags.keys);
  const { healthAuthority } = await devMaterial();
  const issued = await issueVerificationCertificate(healthAuthority, {
    keys,
    hmacKey,
    reportType: flags.reportType as CertificateReportType,
    ...(onset === undefined ? {} : { symptomOnsetInterval: onset }),
  });
  const out = flags.body
    ? { temporaryExposureKeys: keys, healthAuthorityID: healthAuthority.id, verificationPayload: issued.verificationPayload, hmacKey: issued.hmacKey }
    : { healthAuthorityID: healthAuthority.id, verificationPayload: issued.verificationPayload, hmacKey: issued.hmacKey };
  printJson(out, true);
}

export function registerDevCommands(program: Command): void {
  const dev = program.command('dev').description('development helpers for the local stack (npm start)');
  dev
    .command('certificate')
    .description('print a verification certificate for a keys file, signed by the dev health authority of KEYFRONT_DATA_DIR, and the hmacKey it used')
    .requiredOption('--keys <file>', 'JSON array of keys in the upload shape ({key, rollingStartNumber, rollingPeriod, transmissionRisk})')
    .option('--hmac-key <base64>', 'HMAC key of the tekmac (random 32 bytes when absent)')
    .option('--report-type <type>', `report type claim: ${REPORT_TYPES.join(', ')}`, 'confirmed')
    .option('--onset <when>', 'symptom onset: ISO 8601 date-time or interval number')
    .option('--body', 'print a whole publish request body (keys included) instead')
    .action(certificate);
  dev
    .command('attestation')
    .description('print a publish body with a device attestation (platform, deviceVerificationPayload) minted for exactly that body by the dev Play Integrity keys or dev App Attest CA of KEYFRONT_DATA_DIR, which the local API trusts')
    .requiredOption('--platform <platform>', `${ATTESTATION_PLATFORMS.join(' or ')}: a Play Integrity token or an App Attest attestation`)
    .requiredOption('--body <file>', 'a publish body (`keyfront dev certificate --body`)')
    .action(attestation);
  dev
    .command('keys')
    .description('print random keys of the last days, one a day (today first), with realistic transmission risks (peak around symptom onset, 1 for the oldest)')
    .option('--count <n>', 'number of keys (1 to 14)', '14')
    .option('--shape <shape>', `upload: the publish body's keys (the certificate gives the report type); export: with reportType ${ReportType.CONFIRMED_TEST} (confirmed test) and daysSinceOnsetOfSymptoms (onset 3 days ago), for \`keyfront export build\``, 'upload')
    .action((flags: { count: string; shape: string }) => {
      const count = Number(flags.count);
      if (!/^\d+$/.test(flags.count) || count < 1 || count > 14) throw new CliError(`--count must be an integer from 1 to 14, got ${JSON.stringify(flags.count)}`);
      if (flags.shape !== 'upload' && flags.shape !== 'export') throw new CliError(`--shape must be upload or export, got ${JSON.stringify(flags.shape)}`);
      printJson(realisticDevKeys(count, flags.shape === 'export' ? { reportType: ReportType.CONFIRMED_TEST } : {}), true);
    });
}
