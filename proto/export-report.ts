/**
 * What an export file holds, as plain JSON for people and tools (`keyfront export inspect`):
 * header, region, window (seconds and ISO), batch, signature infos and signatures, key counts and,
 * when asked, every key in the upload JSON shape. No judgement: `verifyExport` judges.
 */
import type { OpenedExport } from './codec';
import { EXPORT_HEADER } from './export-bin';
import type { TemporaryExposureKeyFields } from './schema';

function timeField(seconds: number | undefined): { seconds: number; iso: string } | null {
  if (seconds === undefined) return null;
  const date = new Date(seconds * 1000);
  return { seconds, iso: Number.isNaN(date.getTime()) ? 'invalid' : date.toISOString() };
}

function keyJson(key: TemporaryExposureKeyFields): Record<string, unknown> {
  return {
    key: Buffer.from(key.keyData).toString('base64'),
    rollingStartNumber: key.rollingStartIntervalNumber ?? null,
    rollingPeriod: key.rollingPeriod,
    transmissionRisk: key.transmissionRiskLevel ?? null,
    ...(key.reportType === undefined ? {} : { reportType: key.reportType }),
    ...(key.daysSinceOnsetOfSymptoms === undefined ? {} : { daysSinceOnsetOfSymptoms: key.daysSinceOnsetOfSymptoms }),
  };
}

/** The report of an opened export; `file` and `zipBytes` describe where it came from. */
export function exportReport(opened: OpenedExport, source: { file: string; zipBytes: number }, options: { keys?: boolean } = {}): Record<string, unknown> {
  const e = opened.export;
  return {
    file: source.file,
    zipBytes: source.zipBytes,
    header: opened.bin.subarray(0, EXPORT_HEADER.length).toString('latin1'),
    region: e.region ?? null,
    start: timeField(e.startTimestamp),
    end: timeField(e.endTimestamp),
    batchNum: e.batchNum ?? null,
    batchSize: e.batchSize ?? null,
    signatureInfos: e.signatureInfos,
    signatures: opened.signatures.map((s) => ({
      signatureInfo: s.signatureInfo ?? null,
      batchNum: s.batchNum ?? null,
      batchSize: s.batchSize ?? null,
      signatureBytes: s.signature?.length ?? 0,
    })),
    keyCount: e.keys.length,
    revisedKeyCount: e.revisedKeys.length,
    ...(options.keys ? { keys: e.keys.map(keyJson), revisedKeys: e.revisedKeys.map(keyJson) } : {}),
  };
}
