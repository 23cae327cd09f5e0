/**
 * The protobuf types of `export.proto`, loaded by reflection with protobufjs. Reflection (rather
 * than generated code) keeps the .proto file the only source; protobufjs compiles encoders and
 * decoders at load time, and the one hot path (key records) is encoded by `export-bin.ts`.
 */
import * as path from 'node:path';
import * as protobuf from 'protobufjs';

const root = protobuf.loadSync(path.join(__dirname, 'export.proto'));

export const TemporaryExposureKeyExport = root.lookupType('keyfront.export.TemporaryExposureKeyExport');
export const TemporaryExposureKeyMessage = root.lookupType('keyfront.export.TemporaryExposureKey');
export const SignatureInfoMessage = root.lookupType('keyfront.export.SignatureInfo');
export const TEKSignatureList = root.lookupType('keyfront.export.TEKSignatureList');

/** `SignatureInfo` of export.proto, as the codec uses it. */
export interface SignatureInfo {
  verificationKeyVersion?: string;
  verificationKeyId?: string;
  signatureAlgorithm?: string;
}

/** Decoded `TemporaryExposureKey`; proto2 defaults (rolling period 144) are already applied. */
export interface TemporaryExposureKeyFields {
  keyData: Uint8Array;
  transmissionRiskLevel?: number;
  rollingStartIntervalNumber?: number;
  rollingPeriod: number;
  reportType?: number;
  daysSinceOnsetOfSymptoms?: number;
}

/** Decoded `TemporaryExposureKeyExport`. Timestamps are numbers of seconds (safe below 2^53). */
export interface ExportFields {
  startTimestamp?: number;
  endTimestamp?: number;
  region?: string;
  batchNum?: number;
  batchSize?: number;
  signatureInfos: SignatureInfo[];
  keys: TemporaryExposureKeyFields[];
  revisedKeys: TemporaryExposureKeyFields[];
}

export interface TEKSignatureFields {
  signatureInfo?: SignatureInfo;
  batchNum?: number;
  batchSize?: number;
  signature?: Uint8Array;
}
