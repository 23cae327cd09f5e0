/**
 * The publisher's signing keys as a setting (KEYFRONT_SIGNERS): a JSON list, one entry per key,
 * each with the key id and version phones know it by, where the private key is (a local PEM file or
 * a pinned Key Vault key version) and when it signs. During a key rotation two entries overlap: every
 * file built in the overlap is signed by both (`keyfront keys rotate` writes that list).
 *
 *   [{"keyId":"440","keyVersion":"v1","keyVaultKeyId":"https://kv.vault.azure.net/keys/export-signing/1a2b...","notAfter":"2026-06-01T00:00:00Z"},
 *    {"keyId":"440","keyVersion":"v2","keyVaultKeyId":"https://kv.vault.azure.net/keys/export-signing/3c4d...","notBefore":"2026-05-04T00:00:00Z"}]
 *
 * Read by publisher/config.ts (every problem names KEYFRONT_SIGNERS and the entry) and written by
 * the CLI, both through this module, so the two always agree on the shape.
 */
import { isoOfSeconds, parseIsoInstant } from '../../platform/instant';

export const SIGNERS_SETTING = 'KEYFRONT_SIGNERS';

/** One signing key of the publisher. */
export interface SignerSetting {
  /** `verification_key_id` phones know the key by (e.g. the MCC "440"). */
  keyId: string;
  /** `verification_key_version`, e.g. "v2". */
  keyVersion: string;
  /** Local signer: a P-256 private key in PEM. */
  keyFile?: string;
  /** Key Vault signer: `https://{vault}.vault.azure.net/keys/{name}/{version}`, a pinned version. */
  keyVaultKeyId?: string;
  /** UTC seconds: signs files built from then on (absent: from the start). */
  notBefore?: number;
  /** UTC seconds: signs no file built from then on (absent: no end). */
  notAfter?: number;
  /** Regions whose files it signs (absent: every published region). */
  regions?: string[];
}

/** `verification_key_id` and `verification_key_version`: what SignatureInfo carries, as settings take it. */
export const SIGNATURE_ID_PATTERN = /^[A-Za-z0-9_]{1,32}$/;
/** A pinned Key Vault key version: `/keys/{name}/{version}` (Key Vault's own names: letters, digits, '-'). */
const KEY_VAULT_KEY_PATH = /^\/keys\/[0-9A-Za-z-]{1,127}\/[0-9A-Za-z]{1,64}$/;
const FIELDS = new Set(['keyId', 'keyVersion', 'keyFile', 'keyVaultKeyId', 'notBefore', 'notAfter', 'regions']);
/** More entries than a rotation ever needs is a mistake in the list (each key signs every file). */
export const MAX_SIGNERS = 4;

/** Whether a URL names a pinned key version in Key Vault (https, `/keys/{name}/{version}`). */
export function isKeyVaultKeyVersionUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' && KEY_VAULT_KEY_PATH.test(url.pathname) && url.search === '' && url.hash === '';
  } catch {
    return false;
  }
}

/** `440/v1`: how a key is named in messages. */
export function signerName(signer: Pick<SignerSetting, 'keyId' | 'keyVersion'>): string {
  return `${signer.keyId}/${signer.keyVersion}`;
}

/** When and where a signer signs. */
export type SignerWindow = Pick<SignerSetting, 'notBefore' | 'notAfter' | 'regions'>;

/** Whether a signer of this window signs a file of `region` built at `atSeconds`. */
export function signsAt(window: SignerWindow, region: string, atSeconds: number): boolean {
  return (window.notBefore === undefined || atSeconds >= window.notBefore) && (window.notAfter === undefined || atSeconds < window.notAfter) && (window.regions === undefined || window.regions.includes(region));
}

/**
 * The first moment from `fromSeconds` on at which no signer signs files of `region`, or
 * `undefined` when some signer always does: a list must never leave a region without a key.
 */
export function firstGap(signers: readonly SignerWindow[], region: string, fromSeconds: number): number | undefined {
  let at = fromSeconds;
  // Each step moves `at` to the end of a window that covers it; at most one step per signer.
  for (let step = 0; step <= signers.length; step++) {
    const covering = signers.filter((signer) => signsAt(signer, region, at));
    if (covering.length === 0) return at;
    if (covering.some((signer) => signer.notAfter === undefined)) return undefined;
    at = Math.max(...covering.map((signer) => signer.notAfter as number));
  }
  return at;
}

/**
 * Reads the value of KEYFRONT_SIGNERS. `regions` are the published regions; `nowSeconds` the start-up
 * time, from which every region must have a signer at every moment. Problems name the entry and
 * field; the list is returned only when there are none.
 */
export function parseSignersSetting(text: string, context: { regions: readonly string[]; nowSeconds: number }): { signers?: SignerSetting[]; problems: string[] } {
  const problems: string[] = [];
  const problem = (where: string, message: string) => problems.push(`${SIGNERS_SETTING}${where} ${message}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    problem('', `must be a JSON array of signers ({"keyId","keyVersion","keyFile" or "keyVaultKeyId","notBefore"?,"notAfter"?,"regions"?}), and is not JSON: ${(error as Error).message}`);
    return { problems };
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > MAX_SIGNERS) {
    problem('', `must be a JSON array of 1 to ${MAX_SIGNERS} signers, got ${Array.isArray(parsed) ? `${parsed.length} entries` : typeof parsed}`);
    return { problems };
  }
  const signers: SignerSetting[] = [];
  parsed.forEach((entry: unknown, index) => {
    const at = (field?: string) => `[${index}]${field ? `.${field}` : ''}`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return problem(at(), 'must be an object');
    const value = entry as Record<string, unknown>;
    for (const field of Object.keys(value)) if (!FIELDS.has(field)) problem(at(field), `is not a field of a signer (${[...FIELDS].join(', ')})`);
    const id = (field: 'keyId' | 'keyVersion') => {
      const text = value[field];
      if (typeof text !== 'string' || !SIGNATURE_ID_PATTERN.test(text)) problem(at(field), `must be a string of [A-Za-z0-9_]{1,32}, got ${JSON.stringify(text)}`);
      return String(text);
    };
    const time = (field: 'notBefore' | 'notAfter') => {
      const raw = value[field];
      if (raw === undefined) return undefined;
      const date = typeof raw === 'string' ? parseIsoInstant(raw) : undefined;
      if (!date) problem(at(field), `must be an ISO 8601 instant with a zone, such as 2026-05-04T00:00:00Z, got ${JSON.stringify(raw)}`);
      return date ? Math.floor(date.getTime() / 1000) : undefined;
    };
    const signer: SignerSetting = { keyId: id('keyId'), keyVersion: id('keyVersion') };
    const { keyFile, keyVaultKeyId, regions } = value;
    if ((keyFile === undefined) === (keyVaultKeyId === undefined)) problem(at(), 'must name exactly one of keyFile (a local PEM key) and keyVaultKeyId (a Key Vault key version)');
    if (keyFile !== undefined) {
      if (typeof keyFile !== 'string' || keyFile.trim() === '') problem(at('keyFile'), `must be the path of a PEM private key, got ${JSON.stringify(keyFile)}`);
      else signer.keyFile = keyFile;
    }
    if (keyVaultKeyId !== undefined) {
      if (typeof keyVaultKeyId !== 'string' || !isKeyVaultKeyVersionUrl(keyVaultKeyId)) problem(at('keyVaultKeyId'), `must be a Key Vault key version, https://{vault}.vault.azure.net/keys/{name}/{version}, got ${JSON.stringify(keyVaultKeyId)}`);
      else signer.keyVaultKeyId = keyVaultKeyId;
    }
    const notBefore = time('notBefore');
    const notAfter = time('notAfter');
    if (notBefore !== undefined) signer.notBefore = notBefore;
    if (notAfter !== undefined) signer.notAfter = notAfter;
    if (notBefore !== undefined && notAfter !== undefined && notAfter <= notBefore) problem(at('notAfter'), `must be after notBefore (${value.notBefore as string}), got ${JSON.stringify(value.notAfter)}`);
    if (regions !== undefined) {
      if (!Array.isArray(regions) || regions.length === 0 || regions.some((region) => typeof region !== 'string' || !context.regions.includes(region))) {
        problem(at('regions'), `must be a non-empty list of published regions (KEYFRONT_REGIONS: ${context.regions.join(', ')}), got ${JSON.stringify(regions)}`);
      } else signer.regions = [...(regions as string[])];
    }
    signers.push(signer);
  });
  if (problems.length > 0) return { problems };
  const names = signers.map(signerName);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated) problem('', `names the key id and version ${repeated} twice: a phone could not tell the two keys apart`);
  for (const region of context.regions) {
    const gap = firstGap(signers, region, context.nowSeconds);
    if (gap !== undefined) problem('', `leaves region ${region} without a signer from ${isoOfSeconds(gap)}: at every moment from now on some signer must sign its files (an entry without notAfter, or windows that meet)`);
  }
  return problems.length > 0 ? { problems } : { signers, problems };
}

/** The value of KEYFRONT_SIGNERS for `signers`: what `parseSignersSetting` reads back. */
export function signersSettingValue(signers: readonly SignerSetting[]): string {
  return JSON.stringify(
    signers.map((signer) => ({
      keyId: signer.keyId,
      keyVersion: signer.keyVersion,
      ...(signer.keyFile !== undefined ? { keyFile: signer.keyFile } : {}),
      ...(signer.keyVaultKeyId !== undefined ? { keyVaultKeyId: signer.keyVaultKeyId } : {}),
      ...(signer.notBefore !== undefined ? { notBefore: isoOfSeconds(signer.notBefore) } : {}),
      ...(signer.notAfter !== undefined ? { notAfter: isoOfSeconds(signer.notAfter) } : {}),
      ...(signer.regions !== undefined ? { regions: signer.regions } : {}),
    })),
  );
}
