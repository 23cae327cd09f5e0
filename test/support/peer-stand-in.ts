/**
 * A peer server for federation tests: plain HTTP on loopback serving whatever the test puts at a
 * path (a body, a content type, a status, a delay), and signed export files built with the repo's
 * own export builder, as a keyfront or Google peer publishes them.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { buildExport } from '../../proto/codec';
import type { Tek } from '../../proto/tek';
import { ExportZipWriter, readExportZip } from '../../proto/zip';
import { LocalSigner } from '../../publisher/signers/local';

export interface PeerAnswer {
  body?: Buffer | string;
  status?: number;
  contentType?: string;
  /** Wait this long before answering (a slow peer). */
  delayInMs?: number;
}

export interface PeerStandIn {
  url: string;
  /** What is served, by path (`/v1/440/index.txt`); a path not here answers 404. */
  answers: Map<string, PeerAnswer>;
  /** Paths asked for, in order. */
  requests: string[];
  stop(): Promise<void>;
}

export async function startPeerStandIn(port: number): Promise<PeerStandIn> {
  const answers = new Map<string, PeerAnswer>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    const answer = answers.get(path);
    const reply = () => {
      if (!answer) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? (path.endsWith('.zip') ? 'application/zip' : 'text/plain; charset=utf-8') });
      res.end(answer.body ?? '');
    };
    if (answer?.delayInMs) setTimeout(reply, answer.delayInMs).unref();
    else reply();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    answers,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface PeerKey {
  signer: LocalSigner;
  publicKeyPem: string;
  publicKey: KeyObject;
}

/** A fresh P-256 key pair signing as `keyId`/`keyVersion`. */
export function peerKey(keyId = 'DE', keyVersion = 'v1'): PeerKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { signer: new LocalSigner(privateKey, { keyId, keyVersion }), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), publicKey };
}

/** `count` keys whose rolling period ended the UTC day before `endSeconds`. */
export function peerKeys(endSeconds: number, count: number): Tek[] {
  const dayStart = Math.floor(endSeconds / 86400) * 86400 - 86400;
  return Array.from({ length: count }, () => ({ keyData: randomBytes(16), rollingStartIntervalNumber: dayStart / 600, rollingPeriod: 144, transmissionRiskLevel: 4, reportType: 1 }));
}

/** A signed export file of `region` for the hour ending at `endSeconds`. */
export async function peerFile(key: PeerKey, region: string, endSeconds: number, keys: readonly Tek[]): Promise<Buffer> {
  return (await buildExport({ region, startTimestamp: endSeconds - 3600, endTimestamp: endSeconds, keys }, key.signer)).zip;
}

/** The same file with one byte of export.bin changed and the original export.sig: a signature that no longer verifies. */
export async function tampered(zip: Buffer): Promise<Buffer> {
  const { bin, sig } = await readExportZip(zip);
  const changed = Buffer.from(bin);
  changed[changed.length - 1] ^= 0x01;
  const writer = new ExportZipWriter({ compressionLevel: 5 });
  await writer.writeBin(changed);
  return writer.finish(sig);
}
