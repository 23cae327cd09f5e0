/**
 * `npm run bench:api`: uploads per second and latency (p50/p99) of a 14-key upload, for the
 * publish handler in process with the memory store, and through HTTP (local host, Cosmos store on
 * the emulator). The handler's CPU per upload is reported as a ratio to one ES256 verification of
 * the certificate (jose, as the handler does it) measured in the same run: the check that must
 * dominate (goal: within 3x). Certificates are signed before the clock starts. Device
 * attestation (off by default) is measured apart, per platform, as its own ratio to the same
 * verification: what an operator's choice of report or enforce adds per upload. Writes
 * bench-results/api.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { request } from 'undici';
import { loadApiConfig } from '../../api/config';
import { createLogger } from '../../platform/log';
import { bindRoute, ROUTES } from '../../api/routes';
import { createApiRuntime } from '../../api/runtime';
import { CosmosExposureStore, ensureExposuresContainer } from '../../exposures/cosmos-store';
import type { ExposureStore } from '../../exposures/exposure-store';
import { MemoryExposureStore } from '../../exposures/memory-store';
import { issueRegistration } from '../../api/register/secret';
import { startApiHost } from '../local-stack/api-host';
import { startCosmosEmulator } from '../local-stack/cosmos-emulator';
import { createDevMaterial, devApiEnvironment, type DevMaterial } from '../local-stack/dev-material';
import { randomDailyKeys } from '../local-stack/dev-keys';
import { issueVerificationCertificate } from '../local-stack/verification-certificate';
import { startProgress, type Progress } from '../cli-progress';
import { HttpRequest as PartsRequest } from '@azure/functions';
import { readJsonBody, jsonResponse } from '../../api/http';
import { verifyRegistration } from '../../api/register/secret';
import { sealRevisionToken } from '../../api/upload/revision-token';
import { storeUpload } from '../../api/upload/store-upload';
import { checkUploadKeys, parsePublishRequest, type PublishRequest } from '../../api/upload/upload';
import { uploadDigest } from '../../api/attestation/verifier';
import { createDevAttestation, devAttestationEnvironment, mintAppAttestation, mintPlayIntegrityToken } from '../local-stack/dev-attestation';

const KEYS_PER_UPLOAD = 14;
const WARMUP = 1000;
/** Uploads per measured batch; the store is emptied between batches. */
const BATCH = 100;
const IN_PROCESS_UPLOADS = 3000;
const HTTP_UPLOADS = 600;
const HTTP_CONCURRENCY = 8;
const ROUNDS = 3;
const REGION = '440';
const silent = createLogger('bench', { level: 'error', write: () => undefined });

interface Upload {
  body: Buffer;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/** CPU microseconds (user + system) spent by `work`. */
async function cpuOf(work: () => Promise<void>): Promise<number> {
  const start = process.cpuUsage();
  await work();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

async function makeUploads(dev: DevMaterial, count: number, now: Date): Promise<Upload[]> {
  const uploads: Upload[] = [];
  for (let i = 0; i < count; i++) {
    const keys = randomDailyKeys(KEYS_PER_UPLOAD, now, 1);
    const { verificationPayload, hmacKey } = await issueVerificationCertificate(dev.healthAuthority, { keys, now, lifetimeSeconds: 3600 });
    uploads.push({ body: Buffer.from(JSON.stringify({ temporaryExposureKeys: keys, healthAuthorityID: dev.healthAuthority.id, verificationPayload, hmacKey, padding: randomBytes(64).toString('base64') })) });
  }
  return uploads;
}

function runtimeFor(dev: DevMaterial, store: ExposureStore, env: Record<string, string> = {}) {
  const config = loadApiConfig({ ...devApiEnvironment(dev, REGION), KEYFRONT_STORE: 'memory', KEYFRONT_LOG_LEVEL: 'error', ...env });
  return createApiRuntime(config, { store, logger: silent });
}

interface InProcessResult {
  uploadsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of one ES256 verification of a certificate, exactly as the handler runs it (jose, local JWKS by kid). */
  verifyCpuUs: number;
  cpuPerUploadUs: number;
  /** Handler CPU over verification CPU, per batch (both measured back to back), median. */
  cpuRatio: number;
  /** Also counting the construction of HttpRequest/InvocationContext (the Functions host's part). */
  cpuPerUploadWithRequestUs: number;
  /**
   * The same ratio with a memory store emptied before every upload: nothing the store keeps stays
   * in the heap, as with Cosmos DB, so the garbage collection of stored keys is not counted.
   */
  cpuRatioStoreOutsideHeap: number;
}

/**
 * A memory store emptied between batches: in Azure the keys live in Cosmos DB, not in the
 * handler's heap, so a store growing by 40,000 keys a round would bill the handler for garbage
 * collection that is not its own.
 */
class BatchStore implements ExposureStore {
  current = new MemoryExposureStore();
  insert: ExposureStore['insert'] = (...args) => this.current.insert(...args);
  get: ExposureStore['get'] = (...args) => this.current.get(...args);
  revise: ExposureStore['revise'] = (...args) => this.current.revise(...args);
  listForPublication: ExposureStore['listForPublication'] = (...args) => this.current.listForPublication(...args);
  listRevisionsForPublication: ExposureStore['listRevisionsForPublication'] = (...args) => this.current.listRevisionsForPublication(...args);
  deleteUploadedBefore: ExposureStore['deleteUploadedBefore'] = (...args) => this.current.deleteUploadedBefore(...args);
  ping: ExposureStore['ping'] = () => this.current.ping();
}

/**
 * Batches of uploads through the bound publish handler, each preceded by as many ES256
 * verifications of the same certificates: the machine is shared and its speed drifts, so the
 * ratio is taken batch by batch, between measurements made moments apart.
 */
async function inProcess(dev: DevMaterial, uploads: Upload[], caller: Record<string, string>, progress: Progress): Promise<InProcessResult> {
  const store = new BatchStore();
  const publish = bindRoute(ROUTES.find((r) => r.name === 'publish')!, runtimeFor(dev, store));
  const headers = { 'x-azure-fdid': dev.frontDoorId, 'content-type': 'application/json', ...caller };
  const requestOf = (upload: Upload) => new HttpRequest({ method: 'POST', url: 'http://127.0.0.1:7071/api/v1/publish', headers: { ...headers, 'content-length': String(upload.body.length) }, body: { bytes: upload.body } });
  const contextOf = () => new InvocationContext({ invocationId: 'bench', functionName: 'publish', logHandler: () => undefined });
  const check = (response: HttpResponseInit) => {
    if (response.status !== 200) throw new Error(`publish answered ${response.status}: ${String(response.body).slice(0, 200)}`);
  };
  const jwks = createLocalJWKSet({ keys: [dev.healthAuthority.publicJwk] });
  const verifyOptions = { algorithms: ['ES256'], issuer: dev.healthAuthority.issuer, audience: dev.healthAuthority.audience };
  const tokenOf = (upload: Upload) => (JSON.parse(upload.body.toString()) as { verificationPayload: string }).verificationPayload;
  for (let i = 0; i < WARMUP; i++) {
    check(await publish(requestOf(uploads[i]), contextOf()));
    await jwtVerify(tokenOf(uploads[i]), jwks, verifyOptions);
  }
  const measured = uploads.slice(WARMUP, WARMUP + IN_PROCESS_UPLOADS);
  const latencies: number[] = [];
  const ratios: number[] = [];
  const ratiosOutsideHeap: number[] = [];
  let verifyCpu = 0;
  let cpu = 0;
  let cpuWithRequest = 0;
  let wallMs = 0;
  for (let at = 0; at < measured.length; at += BATCH) {
    const batch = measured.slice(at, at + BATCH);
    const tokens = batch.map(tokenOf);
    const batchVerify = await cpuOf(async () => {
      for (const token of tokens) await jwtVerify(token, jwks, verifyOptions);
    });
    store.current = new MemoryExposureStore();
    // Our code only: the requests are built beforehand, as the Functions host hands them over.
    const prepared = batch.map((u) => [requestOf(u), contextOf()] as const);
    const started = performance.now();
    const batchCpu = await cpuOf(async () => {
      for (const [req, ctx] of prepared) {
        const t = performance.now();
        check(await publish(req, ctx));
        latencies.push(performance.now() - t);
      }
    });
    wallMs += performance.now() - started;
    verifyCpu += batchVerify;
    cpu += batchCpu;
    ratios.push(batchCpu / batchVerify);
    store.current = new MemoryExposureStore();
    cpuWithRequest += await cpuOf(async () => {
      for (const u of batch) check(await publish(requestOf(u), contextOf()));
    });
    const again = batch.map((u) => [requestOf(u), contextOf()] as const);
    const outsideHeap = await cpuOf(async () => {
      for (const [req, ctx] of again) {
        store.current = new MemoryExposureStore();
        check(await publish(req, ctx));
      }
    });
    ratiosOutsideHeap.push(outsideHeap / batchVerify);
    progress.tick();
  }
  latencies.sort((a, b) => a - b);
  return {
    uploadsPerSecond: measured.length / (wallMs / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    verifyCpuUs: verifyCpu / measured.length,
    cpuPerUploadUs: cpu / measured.length,
    cpuRatio: median(ratios),
    cpuPerUploadWithRequestUs: cpuWithRequest / measured.length,
    cpuRatioStoreOutsideHeap: median(ratiosOutsideHeap),
  };
}

/** CPU per upload of each part of the handler other than the verification, in us, and as a ratio to one verification. */
interface Parts {
  verifyCpuUs: number;
  partsUs: Record<string, number>;
}

/**
 * The handler's parts one by one over the same uploads, each loop timed alone, with one ES256
 * verification loop before them: what remains to cut beside the verification.
 */
async function measureParts(dev: DevMaterial, uploads: Upload[], caller: Record<string, string>): Promise<Parts> {
  const attestation = createDevAttestation();
  const runtime = runtimeFor(dev, new MemoryExposureStore(), { ...devAttestationEnvironment(attestation), KEYFRONT_ATTESTATION: 'enforce' });
  const now = new Date();
  const jwks = createLocalJWKSet({ keys: [dev.healthAuthority.publicJwk] });
  const verifyOptions = { algorithms: ['ES256'], issuer: dev.healthAuthority.issuer, audience: dev.healthAuthority.audience };
  const sample = uploads.slice(0, 500);
  const requests = () => sample.map((u) => new PartsRequest({ method: 'POST', url: 'http://127.0.0.1:7071/api/v1/publish', headers: { 'content-type': 'application/json', 'content-length': String(u.body.length) }, body: { bytes: u.body } }));
  const parsed = await Promise.all(requests().map(async (r) => parsePublishRequest(await readJsonBody(r))));
  const certificates = await Promise.all(parsed.map((p) => runtime.certificates.verify(p, now)));
  const teks = parsed.map((p) => checkUploadKeys(p.keys, now));
  // Each upload attested for itself, minted before the clock starts (a fresh App Attest key each, as phones do).
  const android: PublishRequest[] = [];
  const ios: PublishRequest[] = [];
  for (const p of parsed) {
    android.push({ ...p, platform: 'android', deviceVerificationPayload: await mintPlayIntegrityToken(attestation.android, uploadDigest({ ...p, platform: 'android' }), { now }) });
    ios.push({ ...p, platform: 'ios', deviceVerificationPayload: mintAppAttestation(attestation.ios, uploadDigest({ ...p, platform: 'ios' }), { now }) });
  }
  const authority = runtime.config.healthAuthorities[0];
  const perUpload = async (work: () => Promise<void>) => (await cpuOf(work)) / sample.length;
  const verifyCpuUs = await perUpload(async () => {
    for (const p of parsed) await jwtVerify(p.verificationPayload, jwks, verifyOptions);
  });
  const bodies = requests();
  const partsUs: Record<string, number> = {
    'body: read and JSON.parse': await perUpload(async () => {
      for (const r of bodies) await readJsonBody(r);
    }),
    'request shape (parsePublishRequest)': await perUpload(async () => {
      for (const u of sample) parsePublishRequest(JSON.parse(u.body.toString()));
    }),
    'register secret (HMAC)': await perUpload(async () => {
      for (let i = 0; i < sample.length; i++) verifyRegistration(runtime.config.registerKeys, caller['x-user-uuid'], caller.authorization.slice(7));
    }),
    'certificate beside ES256 (tekmac, claims)': (await perUpload(async () => {
      for (const p of parsed) await runtime.certificates.verify(p, now);
    })) - verifyCpuUs,
    'key rules (checkUploadKeys)': await perUpload(async () => {
      for (const p of parsed) checkUploadKeys(p.keys, now);
    }),
    'store write preparation + memory store': await perUpload(async () => {
      for (let i = 0; i < sample.length; i++) await storeUpload(new MemoryExposureStore(), { teks: teks[i], certificate: certificates[i], nowSeconds: Math.floor(now.getTime() / 1000) });
    }),
    'revision token (AES-GCM)': await perUpload(async () => {
      for (const t of teks) sealRevisionToken(runtime.config.revisionTokenKeys, t);
    }),
    'response (padded JSON)': await perUpload(async () => {
      for (let i = 0; i < sample.length; i++) jsonResponse(200, { revisionToken: 'x'.repeat(880), insertedExposures: 14 });
    }),
    [ATTESTATION_PARTS.android]: await perUpload(async () => {
      for (const request of android) if ((await runtime.attestation.check(request, authority, now))?.code !== 'ok') throw new Error('an Android attestation did not pass');
    }),
    [ATTESTATION_PARTS.ios]: await perUpload(async () => {
      for (const request of ios) if ((await runtime.attestation.check(request, authority, now))?.code !== 'ok') throw new Error('an iOS attestation did not pass');
    }),
  };
  runtime.certificates.stop();
  return { verifyCpuUs, partsUs };
}

/** The attestation parts, shown apart: attestation is off by default, and costs this per upload when on. */
const ATTESTATION_PARTS = { android: 'device attestation, Android (Play Integrity)', ios: 'device attestation, iOS (App Attest)' } as const;

interface HttpResult {
  uploadsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  concurrency: number;
}

async function overHttp(dev: DevMaterial, uploads: Upload[], caller: Record<string, string>, storeKind: 'cosmos' | 'memory'): Promise<HttpResult> {
  const emulator = storeKind === 'cosmos' ? await startCosmosEmulator() : undefined;
  const store = emulator ? new CosmosExposureStore({ container: await ensureExposuresContainer(emulator.client()) }) : new MemoryExposureStore();
  const host = await startApiHost({ runtime: runtimeFor(dev, store) });
  try {
    const headers = { 'x-azure-fdid': dev.frontDoorId, 'content-type': 'application/json', ...caller };
    const post = async (upload: Upload): Promise<number> => {
      const t = performance.now();
      const response = await request(`${host.url}/api/v1/publish`, { method: 'POST', headers, body: upload.body });
      const text = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`publish answered ${response.statusCode}: ${text.slice(0, 200)}`);
      return performance.now() - t;
    };
    for (let i = 0; i < 50; i++) await post(uploads[i]);
    const measured = uploads.slice(50, 50 + HTTP_UPLOADS);
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: HTTP_CONCURRENCY }, async () => {
        while (next < measured.length) latencies.push(await post(measured[next++]));
      }),
    );
    const wallMs = performance.now() - started;
    latencies.sort((a, b) => a - b);
    return { uploadsPerSecond: measured.length / (wallMs / 1000), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), concurrency: HTTP_CONCURRENCY };
  } finally {
    await host.stop();
    await emulator?.stop();
  }
}

async function main(): Promise<void> {
  const dev = createDevMaterial();
  const now = new Date();
  process.stderr.write('signing certificates...\n');
  const uploads = await makeUploads(dev, WARMUP + IN_PROCESS_UPLOADS, now);
  const { userUuid, secret } = issueRegistration(runtimeFor(dev, new MemoryExposureStore()).config.registerKeys);
  const caller = { authorization: `Bearer ${secret}`, 'x-user-uuid': userUuid };

  const rounds: InProcessResult[] = [];
  const progress = startProgress('in process, batches', ROUNDS * Math.ceil(IN_PROCESS_UPLOADS / BATCH));
  for (let round = 0; round < ROUNDS; round++) {
    if (!process.stderr.isTTY) process.stderr.write(`in process, round ${round + 1} of ${ROUNDS}...\n`);
    rounds.push(await inProcess(dev, uploads, caller, progress));
  }
  progress.stop();
  process.stderr.write('the handler part by part...\n');
  const parts = await measureParts(dev, uploads, caller);
  process.stderr.write('over HTTP with the memory store, then with the Cosmos emulator...\n');
  const httpUploads = await makeUploads(dev, 50 + HTTP_UPLOADS, now);
  const httpMemory = await overHttp(dev, httpUploads, caller, 'memory');
  const http = await overHttp(dev, httpUploads, caller, 'cosmos');

  const pick = (f: (r: InProcessResult) => number) => median(rounds.map(f));
  const handler: InProcessResult = {
    uploadsPerSecond: pick((r) => r.uploadsPerSecond),
    p50Ms: pick((r) => r.p50Ms),
    p99Ms: pick((r) => r.p99Ms),
    verifyCpuUs: pick((r) => r.verifyCpuUs),
    cpuPerUploadUs: pick((r) => r.cpuPerUploadUs),
    cpuRatio: pick((r) => r.cpuRatio),
    cpuPerUploadWithRequestUs: pick((r) => r.cpuPerUploadWithRequestUs),
    cpuRatioStoreOutsideHeap: pick((r) => r.cpuRatioStoreOutsideHeap),
  };
  const ratioWithRequest = handler.cpuPerUploadWithRequestUs / handler.verifyCpuUs;
  const met = handler.cpuRatio <= 3;
  const lines = [
    `14-key uploads (${ROUNDS} rounds, medians; ${IN_PROCESS_UPLOADS} uploads a round in process, in batches of ${BATCH}; ${HTTP_UPLOADS} over HTTP at concurrency ${HTTP_CONCURRENCY})`,
    '',
    `${'path'.padEnd(38)}${'uploads/s'.padStart(11)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}`,
    `${'handler in process, memory store'.padEnd(38)}${handler.uploadsPerSecond.toFixed(0).padStart(11)}${handler.p50Ms.toFixed(3).padStart(9)}${handler.p99Ms.toFixed(3).padStart(9)}`,
    `${'HTTP, local host, memory store'.padEnd(38)}${httpMemory.uploadsPerSecond.toFixed(0).padStart(11)}${httpMemory.p50Ms.toFixed(3).padStart(9)}${httpMemory.p99Ms.toFixed(3).padStart(9)}`,
    `${'HTTP, local host, Cosmos emulator'.padEnd(38)}${http.uploadsPerSecond.toFixed(0).padStart(11)}${http.p50Ms.toFixed(3).padStart(9)}${http.p99Ms.toFixed(3).padStart(9)}`,
    `  the emulator bounds the HTTP figure: ${(httpMemory.uploadsPerSecond / http.uploadsPerSecond).toFixed(1)}x more uploads/s with the memory store behind the same host`,
    '',
    `one ES256 certificate verification (jose):  ${handler.verifyCpuUs.toFixed(1)} us CPU`,
    `handler CPU per upload:                     ${handler.cpuPerUploadUs.toFixed(1)} us`,
    `handler CPU / one verification:             ${handler.cpuRatio.toFixed(2)}x (median of batch ratios; goal <= 3x: ${met ? 'met' : 'NOT met'})`,
    `  with HttpRequest construction (host's):   ${ratioWithRequest.toFixed(2)}x`,
    `  store emptied before every upload:        ${handler.cpuRatioStoreOutsideHeap.toFixed(2)}x (stored keys kept out of the heap, as with Cosmos DB)`,
    '',
    `the parts beside the verification (each alone, 500 uploads; one verification: ${parts.verifyCpuUs.toFixed(1)} us):`,
    ...Object.entries(parts.partsUs)
      .filter(([part]) => !(Object.values(ATTESTATION_PARTS) as string[]).includes(part))
      .map(([part, us]) => `  ${part.padEnd(44)}${us.toFixed(1).padStart(8)} us ${(us / parts.verifyCpuUs).toFixed(3).padStart(7)}x`),
    '',
    'device attestation, when an operator turns it on (report or enforce), per upload beside the same verification:',
    ...Object.values(ATTESTATION_PARTS).map((part) => `  ${part.padEnd(44)}${parts.partsUs[part].toFixed(1).padStart(8)} us ${(parts.partsUs[part] / parts.verifyCpuUs).toFixed(2).padStart(7)}x`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const outDir = path.resolve(__dirname, '..', '..', 'bench-results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'api.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, keysPerUpload: KEYS_PER_UPLOAD, handler, http, httpMemoryStore: httpMemory, parts, attestationRatioToVerify: { android: parts.partsUs[ATTESTATION_PARTS.android] / parts.verifyCpuUs, ios: parts.partsUs[ATTESTATION_PARTS.ios] / parts.verifyCpuUs }, cpuRatioToVerify: handler.cpuRatio, cpuRatioToVerifyWithRequest: ratioWithRequest, goalMet: met, rounds }, null, 2)}\n`);
  process.stdout.write('written to bench-results/api.json\n');
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench:api failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
