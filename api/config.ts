/**
 * Every setting of the write API: its environment variable, default and validation, in one
 * table. `loadApiConfig(env)` runs once at start-up and fails with errors that name the variable;
 * handlers receive the result and never read `process.env`.
 */
import { createPublicKey } from 'node:crypto';
import type { JWK } from 'jose';
import type { LogLevel } from '../platform/log';
import { GUID_PATTERN } from '../platform/ids';
import { ConfigError, REGION_PATTERN, SettingsReader, type Env, type Setting } from '../platform/settings';
import { readTelemetrySettings, TELEMETRY_AUTH_SETTING, TELEMETRY_SETTING, type TelemetrySettings } from '../platform/telemetry';
import type { JwksSettings } from './upload/certificate-jwks';
import { ATTESTATION_MODES, ATTESTATION_SETTINGS, readAttestationSettings, type AttestationMode, type AttestationSettings } from './attestation/settings';
import { DEFAULT_CONTAINER_ID, DEFAULT_DATABASE_ID, DEFAULT_SHARDS } from '../exposures/cosmos-store';

/** Keys by version; the first listed is the current one (used for new secrets and tokens), the others still verify. */
export interface VersionedKeys {
  current: string;
  keys: ReadonlyMap<string, Buffer>;
}

/** A health authority whose verification certificates the API accepts. */
export interface HealthAuthority {
  /** The `healthAuthorityID` phones send. */
  id: string;
  /** Expected `iss` and `aud` of its certificates. */
  issuer: string;
  audience: string;
  /** The regions its keys are stored for (the publisher exports per region). */
  regions: string[];
  /** Its ES256 public keys (P-256 JWKs), selected by the certificate's `kid`; may be empty when `jwksUri` is set. */
  jwks: { keys: JWK[] };
  /** Where it publishes its keys (HTTPS JWKS), read and refreshed as `KEYFRONT_JWKS_*` say; static `jwks` keys work too. */
  jwksUri?: string;
  /** Device attestation of its uploads, overriding `KEYFRONT_ATTESTATION`. */
  attestation?: AttestationMode;
}

export interface StoreSettings {
  kind: 'cosmos' | 'memory';
  /** Cosmos DB account endpoint; required for `cosmos`. */
  endpoint?: string;
  /** Account key; when absent the Function App's managed identity is used (the production way). */
  key?: string;
  databaseId: string;
  containerId: string;
  shards: number;
  /** Deadline of the store work of one request; past it the request is answered 503. */
  timeoutInMs: number;
}

export interface ApiConfig {
  frontDoorIds: string[];
  registrationRequired: boolean;
  registerKeys: VersionedKeys;
  revisionTokenKeys: VersionedKeys;
  healthAuthorities: HealthAuthority[];
  certificateClockSkewSeconds: number;
  certificateMaxAgeSeconds: number;
  /** How the authorities' JWKS URIs are read. */
  jwks: JwksSettings;
  /** Device attestation: the default mode and the apps (README "Device attestation"). */
  attestation: AttestationSettings;
  store: StoreSettings;
  logLevel: LogLevel;
  telemetry: TelemetrySettings;
}

export { ConfigError, type Setting };

export const API_SETTINGS: readonly Setting[] = [
  { env: 'KEYFRONT_FRONT_DOOR_ID', required: true, description: 'Accepted X-Azure-FDID values (GUIDs, comma-separated: several during a rotation). No way to turn the check off.' },
  { env: 'KEYFRONT_HEALTH_AUTHORITIES', required: true, description: 'JSON array of {id, issuer, audience, regions[], jwks:{keys:[P-256 public JWKs with kid]} and/or jwksUri:"https://...", attestation?: off|report|enforce}.' },
  { env: 'KEYFRONT_REVISION_TOKEN_KEYS', secret: true, required: true, description: 'AES-256 keys of revision tokens: "version:base64(32 bytes)", comma-separated, current first.' },
  { env: 'KEYFRONT_REGISTER_KEYS', secret: true, description: 'HMAC keys of register secrets: "version:base64(>=32 bytes)", comma-separated, current first. Required when registration is required.' },
  { env: 'KEYFRONT_REGISTRATION_REQUIRED', default: 'true', description: 'Publish needs Authorization: Bearer <secret> and X-User-Uuid from /api/v1/register.' },
  { env: 'KEYFRONT_CERTIFICATE_CLOCK_SKEW_SECONDS', default: '60', description: 'Tolerance on exp/nbf/iat of verification certificates.' },
  { env: 'KEYFRONT_CERTIFICATE_MAX_AGE_SECONDS', default: '3600', description: 'Oldest accepted certificate, by its iat.' },
  { env: 'KEYFRONT_JWKS_MIN_REFRESH_SECONDS', default: '60', description: 'Shortest time between two fetches of a jwksUri (cache headers and unknown kids never make it sooner).' },
  { env: 'KEYFRONT_JWKS_DEFAULT_MAX_AGE_SECONDS', default: '3600', description: 'Freshness of a JWKS answered without Cache-Control or Expires (cache headers are honoured up to a day).' },
  { env: 'KEYFRONT_JWKS_MAX_STALE_SECONDS', default: '86400', description: 'How long the last good keys of a jwksUri keep working once stale while it cannot be fetched; then uploads get 503 health_authority_keys_unavailable.' },
  { env: 'KEYFRONT_JWKS_FETCH_TIMEOUT_MS', default: '5000', description: 'Deadline of one JWKS fetch.' },
  ...ATTESTATION_SETTINGS,
  { env: 'KEYFRONT_STORE', default: 'cosmos', description: '"cosmos", or "memory" (keys are lost on restart: tests and demos only).' },
  { env: 'KEYFRONT_COSMOS_ENDPOINT', description: 'Cosmos DB account endpoint (required for the cosmos store).' },
  { env: 'KEYFRONT_COSMOS_KEY', secret: true, description: 'Account key; leave unset in Azure to use the managed identity.' },
  { env: 'KEYFRONT_COSMOS_DATABASE', default: DEFAULT_DATABASE_ID, description: 'Database id.' },
  { env: 'KEYFRONT_COSMOS_CONTAINER', default: DEFAULT_CONTAINER_ID, description: 'Container id (partition key /pk).' },
  { env: 'KEYFRONT_COSMOS_SHARDS', default: String(DEFAULT_SHARDS), description: 'Logical partitions per region; fixed for the life of the container (the publisher must use the same).' },
  { env: 'KEYFRONT_STORE_TIMEOUT_MS', default: '5000', description: 'Deadline of the store work of one request; past it: 503.' },
  { env: 'KEYFRONT_LOG_LEVEL', default: 'info', description: 'debug, info, warn or error.' },
  TELEMETRY_SETTING,
  TELEMETRY_AUTH_SETTING,
];

const VERSION = /^[A-Za-z0-9_-]{1,16}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The API's own kinds of setting, on top of the shared ones. */
class ApiSettingsReader extends SettingsReader {
  constructor(env: Env) {
    super(env, API_SETTINGS, 'API settings');
  }

  /** The value (or default); unset while `needed` is a problem. */
  requiredIf(name: string, needed: boolean): string | undefined {
    return needed ? this.required(name) || undefined : this.string(name);
  }

  frontDoorIds(name: string): string[] {
    const ids = this.list(name);
    if (this.raw(name) === undefined) this.problems.push(`${name} is required`);
    else if (ids.length === 0) this.problems.push(`${name} must list at least one Front Door ID`);
    for (const id of ids) if (!GUID_PATTERN.test(id)) this.problems.push(`${name}: ${JSON.stringify(id)} is not a Front Door ID (a GUID)`);
    return ids.map((id) => id.toLowerCase());
  }

  versionedKeys(name: string, required: boolean, check: (key: Buffer) => string | undefined): VersionedKeys {
    const text = this.requiredIf(name, required);
    const keys = new Map<string, Buffer>();
    let current = '';
    for (const entry of (text ?? '').split(',').map((part) => part.trim()).filter((part) => part !== '')) {
      const colon = entry.indexOf(':');
      const version = entry.slice(0, colon);
      const encoded = entry.slice(colon + 1);
      // Values are never echoed: they are secrets.
      if (colon < 0 || !VERSION.test(version)) {
        this.problems.push(`${name}: each entry must be "version:base64" with a version of [A-Za-z0-9_-]{1,16}`);
        continue;
      }
      if (!BASE64.test(encoded)) {
        this.problems.push(`${name}: the key of version ${version} is not standard base64`);
        continue;
      }
      const key = Buffer.from(encoded, 'base64');
      const problem = check(key);
      if (problem) this.problems.push(`${name}: the key of version ${version} ${problem}`);
      if (keys.has(version)) this.problems.push(`${name}: version ${version} is listed twice`);
      keys.set(version, key);
      if (current === '') current = version;
    }
    return { current, keys };
  }

  healthAuthorities(name: string): HealthAuthority[] {
    const text = this.required(name) || undefined;
    if (text === undefined) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      this.problems.push(`${name} is not valid JSON: ${(error as Error).message}`);
      return [];
    }
    if (!Array.isArray(parsed) || parsed.length === 0) {
      this.problems.push(`${name} must be a non-empty JSON array of health authorities`);
      return [];
    }
    const seen = new Set<string>();
    const authorities: HealthAuthority[] = [];
    parsed.forEach((item: unknown, index) => {
      const where = `${name}[${index}]`;
      const ha = item as Partial<HealthAuthority> | null;
      if (typeof ha !== 'object' || ha === null) return void this.problems.push(`${where} must be an object`);
      for (const field of ['id', 'issuer', 'audience'] as const) {
        if (typeof ha[field] !== 'string' || ha[field] === '') this.problems.push(`${where}.${field} must be a non-empty string`);
      }
      if (typeof ha.id === 'string') {
        if (seen.has(ha.id)) this.problems.push(`${where}.id ${JSON.stringify(ha.id)} is listed twice`);
        seen.add(ha.id);
      }
      if (!Array.isArray(ha.regions) || ha.regions.length === 0 || !ha.regions.every((region) => typeof region === 'string' && REGION_PATTERN.test(region))) {
        this.problems.push(`${where}.regions must be a non-empty array of region codes matching ${REGION_PATTERN.source}`);
      }
      const keys = ha.jwks?.keys;
      const jwksUri = (ha as { jwksUri?: unknown }).jwksUri;
      if (jwksUri !== undefined && !isHttpsUrl(jwksUri)) this.problems.push(`${where}.jwksUri must be an https:// URL, got ${JSON.stringify(jwksUri)}`);
      if (jwksUri !== undefined && ha.jwks === undefined) {
        // Keys come from the URI alone.
      } else if (!Array.isArray(keys) || (keys.length === 0 && jwksUri === undefined)) {
        this.problems.push(`${where}.jwks.keys must be a non-empty array of JWKs${jwksUri === undefined ? ' (or give a jwksUri)' : ''}`);
      } else {
        const kids = new Set<string>();
        keys.forEach((jwk, k) => {
          const problem = publicP256JwkProblem(jwk);
          if (problem) this.problems.push(`${where}.jwks.keys[${k}] ${problem}`);
          if (typeof jwk?.kid === 'string') {
            if (kids.has(jwk.kid)) this.problems.push(`${where}.jwks.keys[${k}]: kid ${JSON.stringify(jwk.kid)} is listed twice`);
            kids.add(jwk.kid);
          }
        });
      }
      const attestation = (ha as { attestation?: unknown }).attestation;
      if (attestation !== undefined && !(ATTESTATION_MODES as readonly unknown[]).includes(attestation)) this.problems.push(`${where}.attestation must be one of ${ATTESTATION_MODES.join(', ')}, got ${JSON.stringify(attestation)}`);
      authorities.push({
        id: String(ha.id),
        issuer: String(ha.issuer),
        audience: String(ha.audience),
        regions: Array.isArray(ha.regions) ? [...ha.regions] : [],
        jwks: { keys: Array.isArray(keys) ? keys : [] },
        ...(typeof jwksUri === 'string' ? { jwksUri } : {}),
        ...((ATTESTATION_MODES as readonly unknown[]).includes(attestation) ? { attestation: attestation as AttestationMode } : {}),
      });
    });
    return authorities;
  }
}

function isHttpsUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

/** Why a JWK is not an ES256 public key usable for certificates, or `undefined` when it is. */
function publicP256JwkProblem(jwk: JWK | undefined): string | undefined {
  if (typeof jwk !== 'object' || jwk === null) return 'must be a JWK object';
  if (typeof jwk.kid !== 'string' || jwk.kid === '') return 'must have a kid';
  if ('d' in jwk) return 'is a private key: configure public keys only';
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') return 'must be an EC P-256 key (ES256)';
  if (jwk.alg !== undefined && jwk.alg !== 'ES256') return `has alg ${JSON.stringify(jwk.alg)}, expected ES256`;
  try {
    createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    return 'is not a valid public key';
  }
  return undefined;
}

export function loadApiConfig(env: Env): ApiConfig {
  const read = new ApiSettingsReader(env);
  const registrationRequired = read.boolean('KEYFRONT_REGISTRATION_REQUIRED');
  const storeKind = read.oneOf('KEYFRONT_STORE', ['cosmos', 'memory'] as const);
  const endpoint = read.requiredIf('KEYFRONT_COSMOS_ENDPOINT', storeKind === 'cosmos');
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+\/?$/.test(endpoint)) read.problems.push(`KEYFRONT_COSMOS_ENDPOINT must be an account endpoint such as https://account.documents.azure.com:443/, got ${JSON.stringify(endpoint)}`);
  const healthAuthorities = read.healthAuthorities('KEYFRONT_HEALTH_AUTHORITIES');
  const config: ApiConfig = {
    frontDoorIds: read.frontDoorIds('KEYFRONT_FRONT_DOOR_ID'),
    registrationRequired,
    registerKeys: read.versionedKeys('KEYFRONT_REGISTER_KEYS', registrationRequired, (key) => (key.length < 32 ? `must be at least 32 bytes, got ${key.length}` : undefined)),
    revisionTokenKeys: read.versionedKeys('KEYFRONT_REVISION_TOKEN_KEYS', true, (key) => (key.length !== 32 ? `must be 32 bytes (AES-256), got ${key.length}` : undefined)),
    healthAuthorities,
    certificateClockSkewSeconds: read.integer('KEYFRONT_CERTIFICATE_CLOCK_SKEW_SECONDS', 0, 600),
    certificateMaxAgeSeconds: read.integer('KEYFRONT_CERTIFICATE_MAX_AGE_SECONDS', 60, 7 * 86400),
    jwks: {
      minRefreshInMs: read.integer('KEYFRONT_JWKS_MIN_REFRESH_SECONDS', 1, 86400) * 1000,
      defaultMaxAgeInMs: read.integer('KEYFRONT_JWKS_DEFAULT_MAX_AGE_SECONDS', 1, 86400) * 1000,
      maxStaleInMs: read.integer('KEYFRONT_JWKS_MAX_STALE_SECONDS', 0, 7 * 86400) * 1000,
      fetchTimeoutInMs: read.integer('KEYFRONT_JWKS_FETCH_TIMEOUT_MS', 100, 60000),
    },
    attestation: readAttestationSettings(read, healthAuthorities.flatMap((ha) => (ha.attestation ? [ha.attestation] : []))),
    store: {
      kind: storeKind,
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(read.string('KEYFRONT_COSMOS_KEY') === undefined ? {} : { key: read.string('KEYFRONT_COSMOS_KEY') }),
      databaseId: read.required('KEYFRONT_COSMOS_DATABASE'),
      containerId: read.required('KEYFRONT_COSMOS_CONTAINER'),
      shards: read.integer('KEYFRONT_COSMOS_SHARDS', 1, 1024),
      timeoutInMs: read.integer('KEYFRONT_STORE_TIMEOUT_MS', 100, 60000),
    },
    logLevel: read.oneOf('KEYFRONT_LOG_LEVEL', ['info', 'debug', 'warn', 'error'] as const),
    telemetry: readTelemetrySettings(read),
  };
  read.throwIfAny();
  return config;
}
