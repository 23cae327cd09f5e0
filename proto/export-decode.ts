/**
 * Decodes export.bin and export.sig into their fields as the wire carries them, in any JavaScript
 * runtime (protobufjs/light and the JSON descriptor of export.proto; no file is read). Rules are
 * judged on these raw values: `report_type` is read as the int32 it is on the wire, because
 * protobufjs drops a proto2 enum value it does not know while decoding (a report type of 6 or -1
 * would look like none at all and pass every check).
 */
import { Root, type INamespace, type Type } from 'protobufjs/light';
import { ExportFormatError } from './errors';
import { EXPORT_PROTO_JSON } from './export-schema-json';
import type { ExportFields, SignatureInfo, TEKSignatureFields, TemporaryExposureKeyFields } from './schema';
import { INTERVALS_PER_DAY } from './tek';

/** "EK Export v1" right-padded with spaces to 16 bytes. */
export const EXPORT_HEADER_BYTES = new TextEncoder().encode('EK Export v1'.padEnd(16, ' '));

interface WireTypes {
  exportMessage: Type;
  signatureList: Type;
}

/** The part of a protobufjs JSON descriptor walked here. */
interface DescriptorNode {
  nested?: Record<string, DescriptorNode>;
  fields?: Record<string, { type: string }>;
}

let wireTypes: WireTypes | undefined;

/** export.proto with `report_type` as its wire type (int32), so that no value is dropped. */
function types(): WireTypes {
  if (!wireTypes) {
    const descriptor = JSON.parse(JSON.stringify(EXPORT_PROTO_JSON)) as DescriptorNode;
    const key = ['keyfront', 'export', 'TemporaryExposureKey'].reduce<DescriptorNode | undefined>((node, name) => node?.nested?.[name], descriptor);
    if (key?.fields?.reportType === undefined) throw new Error('export-schema-json.ts has no TemporaryExposureKey.reportType');
    key.fields.reportType.type = 'int32';
    const root = Root.fromJSON(descriptor as INamespace);
    wireTypes = { exportMessage: root.lookupType('keyfront.export.TemporaryExposureKeyExport'), signatureList: root.lookupType('keyfront.export.TEKSignatureList') };
  }
  return wireTypes;
}

/**
 * Forgets the types built so far, so that the next decode builds them again and protobufjs
 * generates their functions anew: the page build records those functions (scripts/site/
 * protobuf-precompile.ts), also in a process that decoded files before (the publisher).
 */
export function rebuildWireTypes(): void {
  wireTypes = undefined;
}

function toObject<T>(type: Type, bytes: Uint8Array): T {
  // Absent fields stay absent (no defaults): a file may leave out any field, and each is judged.
  return type.toObject(type.decode(bytes), { longs: Number, arrays: true, defaults: false }) as T;
}

type DecodedKey = Partial<TemporaryExposureKeyFields>;

/** A key as the codec reads it: rolling period 144 when absent (export.proto's default), empty key data when absent. */
function keyFields(key: DecodedKey): TemporaryExposureKeyFields {
  const fields: TemporaryExposureKeyFields = { keyData: key.keyData ?? new Uint8Array(0), rollingPeriod: key.rollingPeriod ?? INTERVALS_PER_DAY };
  if (key.transmissionRiskLevel !== undefined) fields.transmissionRiskLevel = key.transmissionRiskLevel;
  if (key.rollingStartIntervalNumber !== undefined) fields.rollingStartIntervalNumber = key.rollingStartIntervalNumber;
  if (key.reportType !== undefined) fields.reportType = key.reportType;
  if (key.daysSinceOnsetOfSymptoms !== undefined) fields.daysSinceOnsetOfSymptoms = key.daysSinceOnsetOfSymptoms;
  return fields;
}

/** Decodes export.bin (header and message); `header_invalid` or `export_invalid` when it is not one. */
export function decodeExportBin(bin: Uint8Array): ExportFields {
  const header = bin.subarray(0, EXPORT_HEADER_BYTES.length);
  if (header.length !== EXPORT_HEADER_BYTES.length || header.some((byte, i) => byte !== EXPORT_HEADER_BYTES[i])) {
    const found = String.fromCharCode(...header.subarray(0, 16));
    throw new ExportFormatError('header_invalid', `export.bin must start with ${JSON.stringify('EK Export v1'.padEnd(16, ' '))}, found ${JSON.stringify(found)}`);
  }
  let object: Omit<ExportFields, 'keys' | 'revisedKeys' | 'signatureInfos'> & { keys?: DecodedKey[]; revisedKeys?: DecodedKey[]; signatureInfos?: SignatureInfo[] };
  try {
    object = toObject(types().exportMessage, bin.subarray(EXPORT_HEADER_BYTES.length));
  } catch (error) {
    throw new ExportFormatError('export_invalid', `export.bin does not hold a TemporaryExposureKeyExport: ${(error as Error).message}`);
  }
  const fields: ExportFields = {
    signatureInfos: object.signatureInfos ?? [],
    keys: (object.keys ?? []).map(keyFields),
    revisedKeys: (object.revisedKeys ?? []).map(keyFields),
  };
  for (const name of ['startTimestamp', 'endTimestamp', 'region', 'batchNum', 'batchSize'] as const) {
    if (object[name] !== undefined) (fields as unknown as Record<string, unknown>)[name] = object[name];
  }
  return fields;
}

/** Decodes export.sig; `signature_list_invalid` when it is not a TEKSignatureList. */
export function decodeSignatureList(sig: Uint8Array): TEKSignatureFields[] {
  try {
    return toObject<{ signatures?: TEKSignatureFields[] }>(types().signatureList, sig).signatures ?? [];
  } catch (error) {
    throw new ExportFormatError('signature_list_invalid', `export.sig does not hold a TEKSignatureList: ${(error as Error).message}`);
  }
}
