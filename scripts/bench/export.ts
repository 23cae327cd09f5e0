/**
 * `npm run bench:export`: the cost of building, signing and zipping export files of 10,000,
 * 100,000 and 750,000 keys, against the one unavoidable cost (zlib deflate of the same export.bin
 * at the same level, measured in the same process), with the bytes per key that every phone
 * downloads. Each size runs in its own child process so that peak RSS belongs to that size.
 * Also measured in the same run: what the key order, the hand-written record encoder and the
 * streaming zip writer each save. Writes bench-results/export.json.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as yazl from 'yazl';
import { buildExport, DEFAULT_COMPRESSION_LEVEL } from '../../proto/codec';
import { encodeExportBin, EXPORT_HEADER } from '../../proto/export-bin';
import { TemporaryExposureKeyExport } from '../../proto/schema';
import { realisticKeys } from '../../proto/test-keys';
import { LocalSigner } from '../../publisher/signers/local';

const SIZES = [10_000, 100_000, 750_000];
const RUNS = 5;
const FLOOR_BYTES_PER_KEY = 16;

interface SizeResult {
  keys: number;
  binBytes: number;
  zipBytes: number;
  zipBytesPerKey: number;
  /** zip bytes per key over the 16-byte floor. */
  floorRatio: number;
  buildMs: number;
  deflateMs: number;
  /** build + sign + zip time over deflate alone, medians of the same process. */
  ratioToDeflate: number;
  keysPerSecond: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
  /** (peak RSS - RSS before building) over export.bin's size: memory that follows the file's own size. */
  rssGrowthPerBinByte: number;
  comparisons?: Record<string, number>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time<T>(work: () => T): [T, number] {
  const start = performance.now();
  const result = work();
  return [result, performance.now() - start];
}

async function timeAsync<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, performance.now() - start];
}

function yazlZip(bin: Buffer, sig: Buffer, level: number): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(bin, 'export.bin', { compressionLevel: level });
  zip.addBuffer(sig, 'export.sig', { compressionLevel: level });
  zip.end();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks)));
  });
}

async function measureSize(count: number, withComparisons: boolean): Promise<SizeResult> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signer = new LocalSigner(privateKey, { keyId: '440', keyVersion: 'v1' });
  const window = { region: '440', startTimestamp: 1_796_000_000, endTimestamp: 1_796_003_600 };
  const level = DEFAULT_COMPRESSION_LEVEL;
  // Warm the JIT on a smaller file, so that the measured runs are not the compiler's.
  await buildExport({ ...window, keys: realisticKeys(Math.min(count, 100_000)) }, signer);
  const keys = realisticKeys(count);
  const header = { ...window, signatureInfos: [signer.signatureInfo] };
  const bin = encodeExportBin(header, keys);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const builds: number[] = [];
  const deflates: number[] = [];
  let zipBytes = 0;
  for (let run = 0; run < RUNS; run++) {
    const [built, buildMs] = await timeAsync(() => buildExport({ ...window, keys }, signer));
    builds.push(buildMs);
    zipBytes = built.zip.length;
    global.gc?.(); // so that the peak below is one build's footprint, not several builds' garbage
    deflates.push(time(() => zlib.deflateRawSync(bin, { level }))[1]);
  }
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const buildMs = median(builds);
  const deflateMs = median(deflates);
  const result: SizeResult = {
    keys: count,
    binBytes: bin.length,
    zipBytes,
    zipBytesPerKey: zipBytes / count,
    floorRatio: zipBytes / count / FLOOR_BYTES_PER_KEY,
    buildMs,
    deflateMs,
    ratioToDeflate: buildMs / deflateMs,
    keysPerSecond: count / (buildMs / 1000),
    rssBeforeMiB: rssBefore / 2 ** 20,
    peakRssMiB: peakRss / 2 ** 20,
    rssGrowthPerBinByte: (peakRss - rssBefore) / bin.length,
  };
  if (withComparisons) result.comparisons = await compare(keys, header, bin, level, deflateMs);
  return result;
}

/** What each design choice buys, as ratios to deflate alone (same process, same keys). */
async function compare(keys: ReturnType<typeof realisticKeys>, header: Parameters<typeof encodeExportBin>[0], bin: Buffer, level: number, deflateMs: number): Promise<Record<string, number>> {
  const count = keys.length;
  const arrivalOrder = encodeExportBin(header, keys, undefined, { exportOrder: false });
  const teks = [...keys];
  const protobufjsMs = median([0, 1, 2].map(() => time(() => TemporaryExposureKeyExport.encode({ ...header, batchNum: 1, batchSize: 1, keys: teks }).finish())[1]));
  const handMs = median([0, 1, 2].map(() => time(() => encodeExportBin(header, keys, undefined, { exportOrder: false }))[1]));
  const sig = Buffer.alloc(120);
  const yazlMs = median(await Promise.all([0, 1, 2].map(async () => (await timeAsync(() => yazlZip(bin, sig, level)))[1])));
  const out: Record<string, number> = {
    zipBytesPerKeyArrivalOrder: zlib.deflateRawSync(arrivalOrder, { level }).length / count,
    protobufjsEncodeToHandEncode: protobufjsMs / handMs,
    protobufjsEncodeToDeflate: protobufjsMs / deflateMs,
    yazlZipToDeflate: yazlMs / deflateMs,
    protobufjsEncodeMatchesHand: Number(Buffer.concat([EXPORT_HEADER, TemporaryExposureKeyExport.encode({ ...header, batchNum: 1, batchSize: 1, keys: teks }).finish()]).equals(arrivalOrder)),
  };
  for (const other of [1, 6, 9]) {
    const [deflated, ms] = time(() => zlib.deflateRawSync(bin, { level: other }));
    out[`level${other}ZipBytesPerKey`] = deflated.length / count;
    out[`level${other}DeflateToLevel${level}`] = ms / deflateMs;
  }
  return out;
}

function row(cells: Array<string | number>, widths: number[]): string {
  return cells.map((cell, i) => String(cell).padStart(widths[i])).join('  ');
}

async function main(): Promise<void> {
  const child = process.argv.indexOf('--child');
  if (child >= 0) {
    const count = Number(process.argv[child + 1]);
    process.stdout.write(JSON.stringify(await measureSize(count, count === Math.max(...SIZES))));
    return;
  }
  const results: SizeResult[] = [];
  for (const count of SIZES) {
    process.stderr.write(`measuring ${count.toLocaleString('en')} keys...\n`);
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, '--child', String(count)], { maxBuffer: 1 << 24 });
    results.push(JSON.parse(out.toString()) as SizeResult);
  }
  const widths = [9, 12, 12, 10, 8, 9, 10, 10, 10, 10, 10];
  const lines = [
    row(['keys', 'bin bytes', 'zip bytes', 'zip B/key', 'x floor', 'build ms', 'deflate ms', 'x deflate', 'keys/s', 'peak MiB', 'RSS/bin B'], widths),
    ...results.map((r) =>
      row([r.keys, r.binBytes, r.zipBytes, r.zipBytesPerKey.toFixed(2), r.floorRatio.toFixed(3), r.buildMs.toFixed(0), r.deflateMs.toFixed(0), r.ratioToDeflate.toFixed(2), Math.round(r.keysPerSecond), r.peakRssMiB.toFixed(0), r.rssGrowthPerBinByte.toFixed(2)], widths),
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const largest = results[results.length - 1];
  if (largest.comparisons) {
    process.stdout.write(`\nat ${largest.keys.toLocaleString('en')} keys (level ${DEFAULT_COMPRESSION_LEVEL}, same process):\n`);
    for (const [name, value] of Object.entries(largest.comparisons)) process.stdout.write(`  ${name.padEnd(34)} ${value.toFixed(3)}\n`);
  }
  const goals = { zipBytesPerKeyAtMost: 17.6, ratioToDeflateAtMost: 1.5, met: largest.zipBytesPerKey <= 17.6 && largest.ratioToDeflate <= 1.5 };
  process.stdout.write(`\ngoals at ${largest.keys} keys: <= 17.6 zip bytes/key and <= 1.5x deflate alone: ${goals.met ? 'met' : 'NOT met'}\n`);
  const outDir = path.resolve(__dirname, '..', '..', 'bench-results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'export.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, level: DEFAULT_COMPRESSION_LEVEL, results, goals }, null, 2)}\n`);
  process.stdout.write(`written to bench-results/export.json\n`);
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench:export failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
