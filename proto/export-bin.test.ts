import * as fc from 'fast-check';
import { ExportFormatError } from './errors';
import { decodeExportBin, encodeExportBin, encodeExportBinChunks, EXPORT_HEADER } from './export-bin';
import { TemporaryExposureKeyExport } from './schema';
import { MAX_KEYS_PER_FILE, type Tek } from './tek';
import { TekList } from './tek-list';

const header = { startTimestamp: 1_740_000_000, endTimestamp: 1_740_003_600, region: '440', signatureInfos: [{ verificationKeyId: '440', verificationKeyVersion: 'v1', signatureAlgorithm: '1.2.840.10045.4.3.2' }] };

const tekArbitrary: fc.Arbitrary<Tek> = fc.record(
  {
    keyData: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    rollingStartIntervalNumber: fc.integer({ min: 0, max: 0x7fffffff }),
    rollingPeriod: fc.integer({ min: 1, max: 144 }),
    transmissionRiskLevel: fc.integer({ min: 0, max: 8 }),
    reportType: fc.integer({ min: 0, max: 5 }),
    daysSinceOnsetOfSymptoms: fc.integer({ min: -14, max: 14 }),
  },
  { requiredKeys: ['keyData', 'rollingStartIntervalNumber', 'rollingPeriod', 'transmissionRiskLevel'] },
);

/** The reference: protobufjs encoding the whole message from export.proto. */
function protobufjsBin(keys: readonly Tek[], revised: readonly Tek[]): Buffer {
  const message = { ...header, batchNum: 1, batchSize: 1, keys, revisedKeys: revised };
  return Buffer.concat([EXPORT_HEADER, TemporaryExposureKeyExport.encode(message).finish()]);
}

describe('export.bin', () => {
  it('starts with "EK Export v1" padded with spaces to 16 bytes', () => {
    expect(EXPORT_HEADER.toString('latin1')).toBe('EK Export v1    ');
    expect(encodeExportBin(header, new TekList()).subarray(0, 16)).toEqual(EXPORT_HEADER);
  });

  it('is byte-identical to protobufjs encoding the whole message, for any keys', () => {
    fc.assert(
      fc.property(fc.array(tekArbitrary, { maxLength: 40 }), fc.array(tekArbitrary, { maxLength: 5 }), (keys, revised) => {
        const ours = encodeExportBin(header, TekList.from(keys), TekList.from(revised), { exportOrder: false });
        expect(ours).toEqual(protobufjsBin(keys, revised));
      }),
      { numRuns: 200 },
    );
  });

  it('decodes back to the same fields, with rolling period 144 when absent', () => {
    fc.assert(
      fc.property(fc.array(tekArbitrary, { maxLength: 20 }), (keys) => {
        const decoded = decodeExportBin(encodeExportBin(header, TekList.from(keys), undefined, { exportOrder: false }));
        expect(decoded).toMatchObject({ startTimestamp: header.startTimestamp, endTimestamp: header.endTimestamp, region: '440', batchNum: 1, batchSize: 1, signatureInfos: header.signatureInfos });
        expect(decoded.keys.map((k) => ({ ...k, keyData: Buffer.from(k.keyData) }))).toEqual(keys.map((k) => ({ ...k, keyData: Buffer.from(k.keyData) })));
      }),
    );
    const withoutPeriod = Buffer.concat([EXPORT_HEADER, TemporaryExposureKeyExport.encode({ keys: [{ keyData: Buffer.alloc(16) }] }).finish()]);
    expect(decodeExportBin(withoutPeriod).keys[0].rollingPeriod).toBe(144);
  });

  it('streams in chunks no larger than asked that concatenate to the whole', () => {
    const keys = TekList.from(Array.from({ length: 500 }, (_, i) => ({ keyData: Buffer.alloc(16, i % 256), rollingStartIntervalNumber: 2_900_000 + (i % 7), rollingPeriod: 144, transmissionRiskLevel: i % 9 })));
    const chunks = [...encodeExportBinChunks(header, keys, undefined, { chunkBytes: 256 })];
    expect(chunks.length).toBeGreaterThan(40);
    expect(chunks.slice(1).every((chunk) => chunk.length <= 256)).toBe(true);
    expect(Buffer.concat(chunks)).toEqual(encodeExportBin(header, keys));
  });

  it.each([
    ['milliseconds for seconds', { startTimestamp: 1_740_000_000_000, endTimestamp: 1_740_003_600_000 }, 'timestamps_invalid'],
    ['an end before the start', { startTimestamp: 1_740_003_600, endTimestamp: 1_740_000_000 }, 'timestamps_invalid'],
    ['an empty window', { startTimestamp: 1_740_000_000, endTimestamp: 1_740_000_000 }, 'timestamps_invalid'],
    ['fractional seconds', { startTimestamp: 1_740_000_000.5, endTimestamp: 1_740_003_600 }, 'timestamps_invalid'],
    ['an empty region', { region: '' }, 'region_invalid'],
  ])('refuses %s', (_name, overrides, code) => {
    expect(() => encodeExportBin({ ...header, ...overrides }, new TekList())).toThrow(expect.objectContaining({ code }));
  });

  it(`refuses more than ${MAX_KEYS_PER_FILE} keys`, () => {
    const list = new TekList(MAX_KEYS_PER_FILE + 1);
    const tek = { keyData: Buffer.alloc(16), rollingStartIntervalNumber: 1, rollingPeriod: 144, transmissionRiskLevel: 0 };
    for (let i = 0; i <= MAX_KEYS_PER_FILE; i++) list.push(tek);
    expect(() => encodeExportBin(header, list)).toThrow(expect.objectContaining({ code: 'too_many_keys' }));
  });

  it('refuses a wrong header and bytes that are not the message, with a reason', () => {
    const bin = encodeExportBin(header, new TekList());
    const wrongHeader = Buffer.from(bin);
    wrongHeader.write('EK Export v2', 0, 'latin1');
    expect(() => decodeExportBin(wrongHeader)).toThrow(new ExportFormatError('header_invalid', 'export.bin must start with "EK Export v1    ", found "EK Export v2    "'));
    expect(() => decodeExportBin(Buffer.concat([EXPORT_HEADER, Buffer.from([0xff, 0xff, 0xff])]))).toThrow(expect.objectContaining({ code: 'export_invalid' }));
    expect(() => decodeExportBin(Buffer.from('EK'))).toThrow(expect.objectContaining({ code: 'header_invalid' }));
  });
});
