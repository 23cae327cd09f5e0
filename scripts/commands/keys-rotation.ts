/**
 * `keyfront keys rotate|retire`: the export signing key's rotation on a deployment
 * (infra/key-rotation.ts). Each prints its plan and changes nothing unless `--execute`.
 * Exit codes: 0 done (or the plan), 1 refused or a remote step failed, 2 bad input (no call made).
 */
import type { WebSiteManagementClient, WebSiteManagementClientOptionalParams } from '@azure/arm-appservice';
import type { KeyClient, KeyClientOptions } from '@azure/keyvault-keys';
import { isoOfSeconds } from '../../platform/instant';
import { signerName, SIGNATURE_ID_PATTERN, type SignerSetting } from '../../publisher/signers/signer-settings';
import { executeRetirement, executeRotation, MAX_OVERLAP_DAYS, planRetirement, planRotation, RotationIncompleteError, RotationRefusedError, type RotationClients, type RotationTarget } from '../../infra/key-rotation';
import { deploymentNames } from '../../infra/profiles';
import { EXPORTS_CONTAINER } from '../../infra/template';
import { CliError, EXIT } from '../cli-error';
import { azureTarget, credentialOf, profileOf, signIn, type AzureFlags, type DeployCommandDeps } from './deploy';

/** What the commands take from outside, as `deploy` does, plus Key Vault's data plane and a clock (tests). */
export interface KeysCommandDeps extends Pick<DeployCommandDeps, 'env' | 'write' | 'note'> {
  azure?: DeployCommandDeps['azure'] & {
    /** The data-plane URL of a vault (default `https://{name}.vault.azure.net`). */
    keyVaultUrl?: (vaultName: string) => string;
    keyVaultClientOptions?: KeyClientOptions;
  };
  now?: () => Date;
}

export const defaultKeysDeps = (): KeysCommandDeps => ({
  env: process.env,
  write: (text) => process.stdout.write(text),
  note: (text) => process.stderr.write(text),
});

export type RotateFlags = AzureFlags & { profile: string; prefix?: string; overlapDays: string; keyId?: string; keyVersion?: string; execute?: boolean };
export type RetireFlags = AzureFlags & { profile: string; prefix?: string; execute?: boolean };

/* eslint-disable @typescript-eslint/no-require-imports -- the SDKs load only when a command calls Azure */
const lazy = {
  appService: () => require('@azure/arm-appservice') as typeof import('@azure/arm-appservice'),
  keys: () => require('@azure/keyvault-keys') as typeof import('@azure/keyvault-keys'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

interface Prepared {
  target: RotationTarget;
  clients: RotationClients;
  now: number;
}

/** Checks the flags (exit 2 before any call), signs in, and makes the clients. */
async function prepare(flags: AzureFlags & { profile: string; prefix?: string }, deps: KeysCommandDeps): Promise<Prepared> {
  const profile = profileOf(flags);
  const azure = azureTarget(flags, deps.env);
  const names = deploymentNames(profile);
  const target: RotationTarget = { resourceGroupName: azure.resourceGroupName, publisherSite: names.publisherSite, keyVaultName: names.keyVault, keyName: names.signingKey, exportsAccount: names.exportsAccount, exportsContainer: EXPORTS_CONTAINER };
  const credential = credentialOf(deps);
  await signIn(credential);
  const web: WebSiteManagementClient = new (lazy.appService().WebSiteManagementClient)(credential, azure.subscriptionId, deps.azure?.clientOptions as WebSiteManagementClientOptionalParams);
  const vaultUrl = deps.azure?.keyVaultUrl?.(names.keyVault) ?? `https://${names.keyVault}.vault.azure.net`;
  const keys: KeyClient = new (lazy.keys().KeyClient)(vaultUrl, credential, deps.azure?.keyVaultClientOptions);
  return { target, clients: { web, keys, fetch: deps.azure?.fetch, hostUrl: deps.azure?.hostUrl }, now: Math.floor((deps.now?.() ?? new Date()).getTime() / 1000) };
}

/** A refusal is exit 1 with its sentence; a failure after a change says what is left to do; Azure's errors name their code. */
function asCliError(error: unknown): unknown {
  if (error instanceof RotationRefusedError || error instanceof RotationIncompleteError) return new CliError(error.message, EXIT.failed);
  const status = (error as { statusCode?: number }).statusCode;
  if (status === undefined) return error;
  const message = (error as Error).message.split('\r\n')[0];
  const action = /Action: '([^']+)'/.exec((error as Error).message)?.[1];
  const hint = action === 'Microsoft.KeyVault/vaults/keys/create/action' ? ': creating a key version needs Key Vault Crypto Officer on the vault (Key Vault Crypto User may sign, not create keys)' : action ? `: the signed-in identity lacks ${action}` : '';
  return new CliError(`${(error as { code?: string }).code ?? `HTTP ${status}`}: ${message}${hint}`, EXIT.failed);
}

function describe(signer: SignerSetting): string {
  const window = [signer.notBefore !== undefined ? `from ${isoOfSeconds(signer.notBefore)}` : '', signer.notAfter !== undefined ? `until ${isoOfSeconds(signer.notAfter)}` : ''].filter(Boolean).join(' ');
  return `${signerName(signer)}${window ? ` (${window})` : ''}${signer.regions ? ` for ${signer.regions.join(', ')}` : ''}: ${signer.keyVaultKeyId ?? signer.keyFile}`;
}

export async function rotateCommand(flags: RotateFlags, deps: KeysCommandDeps): Promise<void> {
  if (!/^\d+$/.test(flags.overlapDays)) throw new CliError(`--overlap-days must be a whole number of days, got ${JSON.stringify(flags.overlapDays)}`);
  const overlapDays = Number(flags.overlapDays);
  if (overlapDays > MAX_OVERLAP_DAYS) throw new CliError(`--overlap-days must be at most ${MAX_OVERLAP_DAYS}, got ${overlapDays}`);
  for (const [option, value] of [['--key-id', flags.keyId], ['--key-version', flags.keyVersion]] as const) {
    if (value !== undefined && !SIGNATURE_ID_PATTERN.test(value)) throw new CliError(`${option} must be of [A-Za-z0-9_]{1,32} (GAEN signature info), got ${JSON.stringify(value)}`);
  }
  const { target, clients, now } = await prepare(flags, deps);
  try {
    const plan = await planRotation(clients, target, { now, overlapDays, keyId: flags.keyId, keyVersion: flags.keyVersion });
    const lines = [
      `${flags.execute ? 'rotating' : 'plan (nothing changes without --execute)'}: export signing key ${target.keyName} in ${target.keyVaultName}, publisher ${target.publisherSite}`,
      `  now signing: ${describe(plan.current)}`,
      `  versions in Key Vault: ${plan.versions.map((v) => `${v.version}${v.enabled ? '' : ' (disabled)'}`).join(', ')}`,
      `  1. create a new version of ${target.keyName} (${plan.keyType}, P-256, sign/verify): ${signerName(plan.next)}`,
      `  2. ${target.publisherSite} KEYFRONT_SIGNERS: ${signerName(plan.current)} until ${isoOfSeconds(plan.overlap.end)}, ${signerName(plan.next)} from ${isoOfSeconds(plan.overlap.start)}; every new file is signed by both during the overlap (${(plan.overlap.end - plan.overlap.start) / 86400} days)`,
      `  3. after ${isoOfSeconds(plan.overlap.end)}: keyfront keys retire`,
    ];
    deps.write(`${lines.join('\n')}\n`);
    if (!flags.execute) return;
    const result = await executeRotation(clients, plan);
    deps.write(
      [
        `created ${result.keyVaultKeyId}: ${signerName(result.next)}`,
        `public key of ${signerName(result.next)} (PEM):`,
        result.publicKey.pem.trim(),
        `public key (base64 SPKI, for the app stores' configuration): ${result.publicKey.spkiBase64}`,
        `SHA-256 fingerprint of the SPKI: ${result.publicKey.fingerprintSha256}`,
        `wrote KEYFRONT_SIGNERS of ${target.publisherSite}: ${signerName(plan.current)} and ${signerName(result.next)} sign every new file until ${isoOfSeconds(result.overlap.end)}`,
        `next: register ${signerName(result.next)} (key id ${result.next.keyId}, version ${result.next.keyVersion}, the public key above) with Apple and Google once every file in the index carries both signatures (${isoOfSeconds(result.overlap.start + plan.fileRetentionDays * 86400 + 3600)}); retire ${signerName(plan.current)} after ${isoOfSeconds(result.overlap.end)} (README, "Rotating the signing key")`,
      ].join('\n') + '\n',
    );
  } catch (error) {
    throw asCliError(error);
  }
}

export async function retireCommand(flags: RetireFlags, deps: KeysCommandDeps): Promise<void> {
  const { target, clients, now } = await prepare(flags, deps);
  try {
    const plan = await planRetirement(clients, target, { now });
    const lines = [
      `${flags.execute ? 'retiring' : 'plan (nothing changes without --execute)'}: publisher ${target.publisherSite}, regions ${plan.regions.join(', ')}`,
      ...plan.retiring.map((signer) => `  retire: ${describe(signer)}`),
      ...plan.remaining.map((signer) => `  keep: ${describe(signer)}`),
      ...(plan.blockers.length > 0
        ? plan.blockers.map((blocker) => `  refused: ${blocker}`)
        : [`  1. ${target.publisherSite} KEYFRONT_SIGNERS: ${plan.remaining.map(signerName).join(', ')} only`, `  2. disable the Key Vault version${plan.retiring.length > 1 ? 's' : ''} of ${plan.retiring.map(signerName).join(', ')}: Key Vault refuses to sign with it from then on`]),
    ];
    deps.write(`${lines.join('\n')}\n`);
    if (plan.blockers.length > 0) throw new CliError(`not retiring: ${plan.blockers[0]}`, EXIT.failed);
    if (!flags.execute) return;
    const result = await executeRetirement(clients, plan);
    deps.write(`retired ${result.retired.map(signerName).join(', ')}: KEYFRONT_SIGNERS of ${target.publisherSite} is ${plan.remaining.map(signerName).join(', ')}; disabled ${result.disabled.join(', ') || 'no Key Vault version (local keys)'}\n`);
  } catch (error) {
    throw asCliError(error);
  }
}
