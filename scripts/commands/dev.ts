/**
 * `keyfront dev certificate|keys`: development helpers against the local stack. `certificate`
 * signs a verification certificate for a keys file as the dev health authority of the data
 * directory (created by `npm start`); `keys` prints random keys of the last days to upload.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { UploadKey } from '../../api/upload/upload';
import { intervalNumberOf, MAX_KEYS_PER_UPLOAD, ReportType, tekFromJson, tekToJson } from '../../proto/tek';
import { CliError, EXIT } from '../cli-error';
import { parseIsoOption, printJson, readJsonFile } from '../cli-io';
import { ConfigError, localStackDataDir } from '../local-stack/config';
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

async function devMaterial() {
  try {
    return await readDevMaterial(localStackDataDir(process.env));
  } catch (error) {
    if (error instanceof DevMaterialError || error instanceof ConfigError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
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
