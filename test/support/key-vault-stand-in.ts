/**
 * An HTTP-level stand-in for the Azure Key Vault keys REST API, as much of it as KeyVaultSigner
 * uses: the bearer challenge (401 + WWW-Authenticate), `GET /keys/{name}/{version}` and
 * `POST /keys/{name}/{version}/sign`. It holds a real P-256 key and really signs the digest it is
 * sent (node:crypto cannot sign a precomputed digest, so @noble/curves does), so files signed
 * through it verify. There is no Key Vault emulator; this follows the documented REST shapes:
 * https://learn.microsoft.com/rest/api/keyvault/keys/sign/sign
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { p256 } from '@noble/curves/p256';

export const STAND_IN_TOKEN = 'stand-in-access-token';
const TLS_DIR = path.join(__dirname, '..', 'fixtures', 'tls');

export interface RecordedRequest {
  method: string;
  path: string;
  apiVersion: string | null;
  authorization: string | undefined;
  body: string;
}

export interface KeyVaultStandIn {
  vaultUrl: string;
  keyId: string;
  publicKey: KeyObject;
  /** The certificate to trust (`tlsOptions.ca`). */
  ca: Buffer;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

function json(res: import('node:http').ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export async function startKeyVaultStandIn(options: { keyName?: string; keyVersion?: string } = {}): Promise<KeyVaultStandIn> {
  const keyName = options.keyName ?? 'export-signing';
  const keyVersion = options.keyVersion ?? '0123456789abcdef0123456789abcdef';
  const privateKey = p256.utils.randomPrivateKey();
  const point = p256.getPublicKey(privateKey, false); // 0x04 || x || y
  const jwk = { kty: 'EC', crv: 'P-256', x: Buffer.from(point.subarray(1, 33)).toString('base64url'), y: Buffer.from(point.subarray(33)).toString('base64url') };
  const requests: RecordedRequest[] = [];
  const ca = readFileSync(path.join(TLS_DIR, 'loopback-cert.pem'));
  let vaultUrl = '';

  const server: Server = createServer({ key: readFileSync(path.join(TLS_DIR, 'loopback-key.pem')), cert: ca }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', vaultUrl);
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', path: url.pathname, apiVersion: url.searchParams.get('api-version'), authorization: req.headers.authorization, body });
      if (req.headers.authorization !== `Bearer ${STAND_IN_TOKEN}`) {
        json(res, 401, { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } }, {
          'www-authenticate': 'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001", resource="https://vault.azure.net"',
        });
        return;
      }
      if (!url.searchParams.get('api-version')) {
        json(res, 400, { error: { code: 'BadParameter', message: 'api-version is required' } });
        return;
      }
      const kid = `${vaultUrl}/keys/${keyName}/${keyVersion}`;
      if (req.method === 'GET' && url.pathname === `/keys/${keyName}/${keyVersion}`) {
        json(res, 200, { key: { kid, ...jwk, key_ops: ['sign', 'verify'] }, attributes: { enabled: true, created: 1700000000, updated: 1700000000, recoveryLevel: 'Recoverable' } });
        return;
      }
      if (req.method === 'POST' && url.pathname === `/keys/${keyName}/${keyVersion}/sign`) {
        const request = JSON.parse(body || '{}') as { alg?: string; value?: string };
        const digest = Buffer.from(request.value ?? '', 'base64url');
        if (request.alg !== 'ES256' || digest.length !== 32) {
          json(res, 400, { error: { code: 'BadParameter', message: 'ES256 signs a 32-byte SHA-256 digest' } });
          return;
        }
        const signature = p256.sign(digest, privateKey).toCompactRawBytes(); // raw r || s, as Key Vault returns it
        json(res, 200, { kid, value: Buffer.from(signature).toString('base64url') });
        return;
      }
      json(res, 404, { error: { code: 'KeyNotFound', message: `no key at ${url.pathname}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  vaultUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    vaultUrl,
    keyId: `${vaultUrl}/keys/${keyName}/${keyVersion}`,
    publicKey: createPublicKey({ key: jwk, format: 'jwk' }),
    ca,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
