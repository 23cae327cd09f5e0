/**
 * The API's development secrets in the data directory: created on the first `npm start` (files
 * 0600 in a 0700 directory), reused afterwards. The register key, the revision-token key, a dev
 * health authority (P-256 key pair) whose public key the local API trusts, and a dev Front Door ID.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { JWK } from 'jose';
import { CANONICAL_GUID_PATTERN } from '../../platform/ids';
import { writeFileAtomic } from '../cli-io';

export const DEV_HEALTH_AUTHORITY = { id: 'dev', issuer: 'keyfront.dev.health-authority', audience: 'keyfront.api' } as const;

export const DEV_MATERIAL_FILES = {
  frontDoorId: 'front-door-id',
  apiKeys: 'api-keys.json',
  healthAuthority: 'dev-health-authority.json',
} as const;

export interface DevHealthAuthority {
  id: string;
  issuer: string;
  audience: string;
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export interface DevMaterial {
  frontDoorId: string;
  registerKey: Buffer;
  revisionTokenKey: Buffer;
  healthAuthority: DevHealthAuthority;
}

/** The dev material is missing or unreadable; the message says what to do. */
export class DevMaterialError extends Error {
  override readonly name = 'DevMaterialError';
}

const KEY_VERSION = 'dev1';

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DevMaterialError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

function corrupt(file: string, why: string): DevMaterialError {
  return new DevMaterialError(`${file} is not valid dev material (${why}); delete it and run \`npm start\` to create it again`);
}

function parseFrontDoorId(file: string, text: string): string {
  const id = text.trim();
  if (!CANONICAL_GUID_PATTERN.test(id)) throw corrupt(file, 'not a GUID');
  return id;
}

function parseApiKeys(file: string, text: string): { registerKey: Buffer; revisionTokenKey: Buffer } {
  try {
    const json = JSON.parse(text) as { registerKey?: unknown; revisionTokenKey?: unknown };
    const registerKey = Buffer.from(String(json.registerKey), 'base64');
    const revisionTokenKey = Buffer.from(String(json.revisionTokenKey), 'base64');
    if (registerKey.length !== 32 || revisionTokenKey.length !== 32) throw new Error('keys must be 32 bytes');
    return { registerKey, revisionTokenKey };
  } catch (error) {
    throw corrupt(file, (error as Error).message);
  }
}

function parseHealthAuthority(file: string, text: string): DevHealthAuthority {
  try {
    const json = JSON.parse(text) as Partial<DevHealthAuthority>;
    for (const field of ['id', 'issuer', 'audience', 'kid'] as const) if (typeof json[field] !== 'string') throw new Error(`${field} missing`);
    if (json.privateJwk?.kty !== 'EC' || typeof json.privateJwk.d !== 'string' || json.publicJwk?.kty !== 'EC') throw new Error('key pair missing');
    return json as DevHealthAuthority;
  } catch (error) {
    throw corrupt(file, (error as Error).message);
  }
}

/** A new dev health authority: P-256 key pair with a random kid. */
export function createDevHealthAuthority(): DevHealthAuthority {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `dev-${randomBytes(4).toString('hex')}`;
  return {
    ...DEV_HEALTH_AUTHORITY,
    kid,
    privateJwk: { ...(privateKey.export({ format: 'jwk' }) as JWK), kid, alg: 'ES256' },
    publicJwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg: 'ES256' },
  };
}

/** New dev material, in memory only (tests and benchmarks). */
export function createDevMaterial(healthAuthority: DevHealthAuthority = createDevHealthAuthority()): DevMaterial {
  return { frontDoorId: randomUUID(), registerKey: randomBytes(32), revisionTokenKey: randomBytes(32), healthAuthority };
}

/** Reads the dev material; fails with what to do when `npm start` never ran with this data directory. */
export async function readDevMaterial(dataDir: string): Promise<DevMaterial> {
  const material = await loadDevMaterial(dataDir, false);
  if (!material) throw new DevMaterialError(`no dev material in ${dataDir}: run \`npm start\` once to create it (or set KEYFRONT_DATA_DIR to the data directory of the running stack)`);
  return material;
}

/** Reads the dev material, creating whatever is missing. */
export async function loadOrCreateDevMaterial(dataDir: string): Promise<DevMaterial> {
  return (await loadDevMaterial(dataDir, true))!;
}

async function loadDevMaterial(dataDir: string, create: boolean): Promise<DevMaterial | undefined> {
  const file = (name: keyof typeof DEV_MATERIAL_FILES) => path.join(dataDir, DEV_MATERIAL_FILES[name]);
  const texts = {
    frontDoorId: await readOptional(file('frontDoorId')),
    apiKeys: await readOptional(file('apiKeys')),
    healthAuthority: await readOptional(file('healthAuthority')),
  };
  if (!create && (texts.frontDoorId === undefined || texts.apiKeys === undefined || texts.healthAuthority === undefined)) return undefined;
  if (create) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await chmod(dataDir, 0o700);
    if (texts.frontDoorId === undefined) {
      texts.frontDoorId = `${randomUUID()}\n`;
      await writeFileAtomic(file('frontDoorId'), texts.frontDoorId, 0o600);
    }
    if (texts.apiKeys === undefined) {
      texts.apiKeys = `${JSON.stringify({ registerKey: randomBytes(32).toString('base64'), revisionTokenKey: randomBytes(32).toString('base64') }, null, 2)}\n`;
      await writeFileAtomic(file('apiKeys'), texts.apiKeys, 0o600);
    }
    if (texts.healthAuthority === undefined) {
      texts.healthAuthority = `${JSON.stringify(createDevHealthAuthority(), null, 2)}\n`;
      await writeFileAtomic(file('healthAuthority'), texts.healthAuthority, 0o600);
    }
  }
  return {
    frontDoorId: parseFrontDoorId(file('frontDoorId'), texts.frontDoorId!),
    ...parseApiKeys(file('apiKeys'), texts.apiKeys!),
    healthAuthority: parseHealthAuthority(file('healthAuthority'), texts.healthAuthority!),
  };
}

/**
 * The API settings the dev material stands for, as environment variables: the local stack loads
 * the API configuration from these with the real environment on top (so `KEYFRONT_FRONT_DOOR_ID`
 * and the others still override).
 */
export function devApiEnvironment(material: DevMaterial, region: string): Record<string, string> {
  const ha = material.healthAuthority;
  return {
    KEYFRONT_FRONT_DOOR_ID: material.frontDoorId,
    KEYFRONT_REGISTER_KEYS: `${KEY_VERSION}:${material.registerKey.toString('base64')}`,
    KEYFRONT_REVISION_TOKEN_KEYS: `${KEY_VERSION}:${material.revisionTokenKey.toString('base64')}`,
    KEYFRONT_HEALTH_AUTHORITIES: JSON.stringify([{ id: ha.id, issuer: ha.issuer, audience: ha.audience, regions: [region], jwks: { keys: [ha.publicJwk] } }]),
  };
}
