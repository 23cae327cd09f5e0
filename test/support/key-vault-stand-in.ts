/**
 * An HTTP-level stand-in for the Azure Key Vault keys data plane, as much of it as keyfront uses:
 * the signer (get a key version, sign a digest) and `keyfront keys rotate|retire` (create a new key
 * version, list a key's versions, update a version's attributes). It holds real P-256 keys and
 * really signs the digest it is sent (node:crypto cannot sign a precomputed digest, so
 * @noble/curves does), so files signed through it verify. There is no Key Vault emulator; each
 * operation follows its documented REST shape:
 *
 * - Get Key: `GET /keys/{name}/{version}`, the current version without one
 *   (https://learn.microsoft.com/rest/api/keyvault/keys/get-key/get-key)
 * - Get Key Versions: `GET /keys/{name}/versions`, `{ value: KeyItem[], nextLink }`
 *   (https://learn.microsoft.com/rest/api/keyvault/keys/get-key-versions/get-key-versions)
 * - Create Key: `POST /keys/{name}/create`; on a key that exists it creates a new version, which
 *   becomes the current one (https://learn.microsoft.com/rest/api/keyvault/keys/create-key/create-key)
 * - Update Key: `PATCH /keys/{name}/{version}`, attributes such as `enabled`
 *   (https://learn.microsoft.com/rest/api/keyvault/keys/update-key/update-key)
 * - Sign: `POST /keys/{name}/{version}/sign` (https://learn.microsoft.com/rest/api/keyvault/keys/sign/sign)
 *
 * What it refuses, as Key Vault does: a request without a bearer token (401 with the challenge);
 * an unknown key or version (404 KeyNotFound); with an `authorize` check, an operation whose data
 * action the caller's roles lack (403 Forbidden, inner ForbiddenByRbac, naming the action: the RBAC
 * guide, https://learn.microsoft.com/azure/key-vault/general/rbac-guide); signing with a disabled
 * version (403 Forbidden, inner KeyDisabled: "Operation sign is not allowed on a disabled key", as
 * the service answers, Azure/azure-sdk-for-python#45342).
 */
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { p256 } from '@noble/curves/p256';

export const STAND_IN_TOKEN = 'stand-in-access-token';
const TLS_DIR = path.join(__dirname, '..', 'fixtures', 'tls');

/** The data actions of the key operations (Key Vault RBAC guide, "data actions"). */
export const KEY_DATA_ACTIONS = {
  read: 'Microsoft.KeyVault/vaults/keys/read',
  create: 'Microsoft.KeyVault/vaults/keys/create/action',
  update: 'Microsoft.KeyVault/vaults/keys/update/action',
  sign: 'Microsoft.KeyVault/vaults/keys/sign/action',
} as const;

export interface RecordedRequest {
  method: string;
  path: string;
  apiVersion: string | null;
  authorization: string | undefined;
  body: string;
}

/** One version of a key. */
export interface KeyVersionState {
  version: string;
  privateKey: Uint8Array;
  jwk: { kty: 'EC' | 'EC-HSM'; crv: 'P-256'; x: string; y: string };
  keyOps: string[];
  attributes: { enabled: boolean; created: number; updated: number; nbf?: number; exp?: number; recoveryLevel: string };
}

export interface KeyVaultStandIn {
  vaultUrl: string;
  /** The first key's first version, `{vaultUrl}/keys/{name}/{version}`. */
  keyId: string;
  /** The public key of that version. */
  publicKey: KeyObject;
  /** The certificate to trust (`tlsOptions.ca`). */
  ca: Buffer;
  requests: RecordedRequest[];
  /** The versions of each key, oldest first (the last is the current one). */
  keys: Map<string, KeyVersionState[]>;
  /** The public key of a version. */
  publicKeyOf(name: string, version: string): KeyObject;
  stop(): Promise<void>;
}

export interface KeyVaultStandInOptions {
  keyName?: string;
  keyVersion?: string;
  /** The key type of the first key: `EC-HSM` in a Premium vault (prod), `EC` (dev). */
  keyType?: 'EC' | 'EC-HSM';
  /**
   * Who may do what: the caller's bearer token and the data action on a key; `undefined` for an
   * unknown token (401), else whether its roles allow the action. Default: the one stand-in token, allowed everything.
   */
  authorize?: (token: string, action: string, keyName: string) => boolean | undefined;
  /** The resource id a refusal names for a key (the key's ARM id in Key Vault's messages). */
  resourceIdOf?: (keyName: string) => string;
  /** Called when Create Key made a new version (the ARM view of the key follows its current version). */
  onVersionCreated?: (keyName: string, version: string) => void;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function newVersion(version: string, kty: 'EC' | 'EC-HSM', keyOps: string[], now: number): KeyVersionState {
  const privateKey = p256.utils.randomPrivateKey();
  const point = p256.getPublicKey(privateKey, false); // 0x04 || x || y
  return {
    version,
    privateKey,
    jwk: { kty, crv: 'P-256', x: Buffer.from(point.subarray(1, 33)).toString('base64url'), y: Buffer.from(point.subarray(33)).toString('base64url') },
    keyOps,
    attributes: { enabled: true, created: now, updated: now, recoveryLevel: 'Recoverable+Purgeable' },
  };
}

export async function startKeyVaultStandIn(options: KeyVaultStandInOptions = {}): Promise<KeyVaultStandIn> {
  const keyName = options.keyName ?? 'export-signing';
  const now = () => Math.floor(Date.now() / 1000);
  const keys = new Map<string, KeyVersionState[]>([[keyName, [newVersion(options.keyVersion ?? '0123456789abcdef0123456789abcdef', options.keyType ?? 'EC', ['sign', 'verify'], now())]]]);
  const authorize = options.authorize ?? ((token: string) => (token === STAND_IN_TOKEN ? true : undefined));
  const requests: RecordedRequest[] = [];
  const ca = readFileSync(path.join(TLS_DIR, 'loopback-cert.pem'));
  let vaultUrl = '';

  const kidOf = (name: string, version: string) => `${vaultUrl}/keys/${name}/${version}`;
  const bundle = (name: string, state: KeyVersionState) => ({ key: { kid: kidOf(name, state.version), ...state.jwk, key_ops: state.keyOps }, attributes: state.attributes });
  const notFound = (res: ServerResponse, what: string) => json(res, 404, { error: { code: 'KeyNotFound', message: `A key with (name/id) ${what} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command.` } });

  const server: Server = createServer({ key: readFileSync(path.join(TLS_DIR, 'loopback-key.pem')), cert: ca }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', vaultUrl);
      const body = Buffer.concat(chunks).toString('utf8');
      const method = req.method ?? '';
      requests.push({ method, path: url.pathname, apiVersion: url.searchParams.get('api-version'), authorization: req.headers.authorization, body });
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const challenge = () =>
        json(res, 401, { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } }, {
          'www-authenticate': 'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001", resource="https://vault.azure.net"',
        });
      if (token === undefined) return challenge();
      if (!url.searchParams.get('api-version')) return json(res, 400, { error: { code: 'BadParameter', message: 'api-version is required' } });
      const match = /^\/keys\/([0-9A-Za-z-]+)(?:\/([0-9A-Za-z]+))?(?:\/(sign))?$/.exec(url.pathname);
      if (!match) return json(res, 404, { error: { code: 'NotFound', message: `no operation at ${url.pathname}` } });
      const [, name, second, sign] = match;
      const operation = second === 'versions' && method === 'GET' ? 'versions' : second === 'create' && method === 'POST' ? 'create' : sign ? 'sign' : method === 'PATCH' ? 'update' : method === 'GET' ? 'get' : undefined;
      if (!operation) return json(res, 405, { error: { code: 'MethodNotAllowed', message: `${method} ${url.pathname}` } });
      const action = { versions: KEY_DATA_ACTIONS.read, get: KEY_DATA_ACTIONS.read, create: KEY_DATA_ACTIONS.create, update: KEY_DATA_ACTIONS.update, sign: KEY_DATA_ACTIONS.sign }[operation];
      const allowed = authorize(token, action, name);
      if (allowed === undefined) return challenge();
      if (!allowed) {
        const resource = options.resourceIdOf?.(name) ?? `${vaultUrl}/keys/${name}`;
        return json(res, 403, {
          error: {
            code: 'Forbidden',
            message: `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nAction: '${action}'\r\nResource: '${resource.toLowerCase()}'\r\nAssignment: (not found)\r\n`,
            innererror: { code: 'ForbiddenByRbac' },
          },
        });
      }
      const versions = keys.get(name);
      if (operation === 'create') {
        const request = JSON.parse(body || '{}') as { kty?: string; crv?: string; key_ops?: string[] };
        if ((request.kty !== 'EC' && request.kty !== 'EC-HSM') || (request.crv ?? 'P-256') !== 'P-256') return json(res, 400, { error: { code: 'BadParameter', message: 'the stand-in creates EC or EC-HSM keys on P-256 only' } });
        const state = newVersion(randomBytes(16).toString('hex'), request.kty, request.key_ops ?? ['sign', 'verify'], now());
        keys.set(name, [...(versions ?? []), state]);
        options.onVersionCreated?.(name, state.version);
        return json(res, 200, bundle(name, state));
      }
      if (!versions) return notFound(res, name);
      if (operation === 'versions') {
        return json(res, 200, { value: versions.map((state) => ({ kid: kidOf(name, state.version), attributes: state.attributes, managed: false })), nextLink: null });
      }
      const state = second === undefined ? versions[versions.length - 1] : versions.find((entry) => entry.version === second);
      if (!state) return notFound(res, `${name}/${second}`);
      if (operation === 'get') return json(res, 200, bundle(name, state));
      if (operation === 'update') {
        const request = JSON.parse(body || '{}') as { attributes?: { enabled?: boolean; nbf?: number; exp?: number } };
        for (const field of ['enabled', 'nbf', 'exp'] as const) if (request.attributes?.[field] !== undefined) (state.attributes as Record<string, unknown>)[field] = request.attributes[field];
        state.attributes.updated = now();
        return json(res, 200, bundle(name, state));
      }
      if (!state.attributes.enabled) return json(res, 403, { error: { code: 'Forbidden', message: 'Operation sign is not allowed on a disabled key.', innererror: { code: 'KeyDisabled' } } });
      const request = JSON.parse(body || '{}') as { alg?: string; value?: string };
      const digest = Buffer.from(request.value ?? '', 'base64url');
      if (request.alg !== 'ES256' || digest.length !== 32) return json(res, 400, { error: { code: 'BadParameter', message: 'ES256 signs a 32-byte SHA-256 digest' } });
      const signature = p256.sign(digest, state.privateKey).toCompactRawBytes(); // raw r || s, as Key Vault returns it
      return json(res, 200, { kid: kidOf(name, state.version), value: Buffer.from(signature).toString('base64url') });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  vaultUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const publicKeyOf = (name: string, version: string): KeyObject => {
    const state = keys.get(name)?.find((entry) => entry.version === version);
    if (!state) throw new Error(`the stand-in has no key ${name}/${version}`);
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: state.jwk.x, y: state.jwk.y }, format: 'jwk' });
  };
  const first = keys.get(keyName)![0];
  return {
    vaultUrl,
    keyId: kidOf(keyName, first.version),
    publicKey: publicKeyOf(keyName, first.version),
    ca,
    requests,
    keys,
    publicKeyOf,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
