/**
 * `keyfront deploy compile|package|apply|release`: the whole system on Azure. `compile` writes a
 * profile's ARM template and parameters file; `package` writes one zip per Function App; `apply`
 * deploys the template to a resource group (`--what-if`: ARM's plan only), passing back the
 * package each app runs; `release` takes a package to production through the staging slot and
 * swaps back when production, read through Front Door, fails its check.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { WebSiteManagementClient, WebSiteManagementClientOptionalParams } from '@azure/arm-appservice';
import type { CdnManagementClient, CdnManagementClientOptionalParams } from '@azure/arm-cdn';
import type { ResourceManagementClient, ResourceManagementClientOptionalParams } from '@azure/arm-resources';
import type { TokenCredential } from '@azure/core-auth';
import type { BlockBlobClient } from '@azure/storage-blob';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { ArmDeploymentError, deletedVaultExists, deploy, formatWhatIf, runningPackageUrls, runningSigners, whatIf } from '../../infra/apply';
import type { ArmTemplate } from '../../infra/arm';
import { checkTemplate } from '../../infra/check';
import { APPS, type AppName } from '../../infra/host/host-json';
import type { AppPackage } from '../../infra/package';
import { deploymentNames, deploymentProfile, DeploymentProfileError, type DeploymentProfile } from '../../infra/profiles';
import { releasePackage, releaseSummary, RELEASE_STEPS, type PackageSource, type ReleaseOptions } from '../../infra/release';
import { APPLY_OWNED_PARAMETERS, compileDeployment, packagesUrl, packageUrlKeys, parametersFile } from '../../infra/template';
import { CliError, EXIT } from '../cli-error';
import { readInputFile, readJsonFile, writeFileAtomic } from '../cli-io';

/** What the commands take from outside; tests point the Azure clients at the stand-in. */
export interface DeployCommandDeps {
  env: Readonly<Record<string, string | undefined>>;
  write(text: string): void;
  /** Progress and step lines (stderr). */
  note(text: string): void;
  isTTY: boolean;
  azure?: {
    credential?: TokenCredential;
    clientOptions?: Record<string, unknown>;
    fetch?: typeof fetch;
    hostUrl?: (hostName: string) => string;
    /** The packages blob a URL names (default: @azure/storage-blob with the credential). */
    blobClient?: (url: string, credential: TokenCredential) => BlockBlobClient;
    pollIntervalInMs?: number;
    healthAttempts?: number;
  };
}

const defaultDeps = (): DeployCommandDeps => ({
  env: process.env,
  write: (text) => process.stdout.write(text),
  note: (text) => process.stderr.write(text),
  isTTY: Boolean(process.stderr.isTTY),
});

/* eslint-disable @typescript-eslint/no-require-imports -- loaded when a command needs them: the SDKs and esbuild take seconds to load, and compile needs none */
const lazy = {
  appService: () => require('@azure/arm-appservice') as typeof import('@azure/arm-appservice'),
  cdn: () => require('@azure/arm-cdn') as typeof import('@azure/arm-cdn'),
  blob: () => require('@azure/storage-blob') as typeof import('@azure/storage-blob'),
  resources: () => require('@azure/arm-resources') as typeof import('@azure/arm-resources'),
  identity: () => require('@azure/identity') as typeof import('@azure/identity'),
  packager: () => require('../../infra/package') as typeof import('../../infra/package'),
  site: () => require('../site/build') as typeof import('../site/build'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

const RESOURCE_GROUP = /^[-\w.()]{1,90}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOCATION = /^[a-z0-9]{2,40}$/;

export function profileOf(flags: { profile: string; prefix?: string }): DeploymentProfile {
  try {
    return deploymentProfile(flags.profile, flags.prefix);
  } catch (error) {
    if (error instanceof DeploymentProfileError) throw new CliError(error.message);
    throw error;
  }
}

function appOf(value: string): AppName {
  if (!APPS.includes(value as AppName)) throw new CliError(`--app must be ${APPS.join(' or ')}, got ${JSON.stringify(value)}`);
  return value as AppName;
}

export interface AzureFlags {
  subscription?: string;
  resourceGroup: string;
}

export function azureTarget(flags: AzureFlags, env: DeployCommandDeps['env']): { subscriptionId: string; resourceGroupName: string } {
  const subscriptionId = flags.subscription ?? env.AZURE_SUBSCRIPTION_ID;
  if (!subscriptionId) throw new CliError('--subscription (or AZURE_SUBSCRIPTION_ID) is required');
  if (!GUID.test(subscriptionId)) throw new CliError(`--subscription must be a GUID, got ${JSON.stringify(subscriptionId)}`);
  if (!RESOURCE_GROUP.test(flags.resourceGroup)) throw new CliError(`--resource-group must be 1-90 letters, digits, '-', '_', '.', '(' or ')', got ${JSON.stringify(flags.resourceGroup)}`);
  return { subscriptionId, resourceGroupName: flags.resourceGroup };
}

function compiled(profile: DeploymentProfile): ArmTemplate {
  const template = compileDeployment(profile);
  const problems = checkTemplate(template);
  // A template that fails its own check is our bug, not the operator's input.
  if (problems.length > 0) throw new CliError(`the compiled template fails the schema check: ${problems.join('; ')}`, EXIT.failed);
  return template;
}

export async function compileCommand(flags: { profile: string; prefix?: string; out: string }, deps: DeployCommandDeps): Promise<void> {
  const profile = profileOf(flags);
  const template = compiled(profile);
  await mkdir(flags.out, { recursive: true });
  const templateFile = path.join(flags.out, 'azuredeploy.json');
  const parametersFileName = path.join(flags.out, 'azuredeploy.parameters.json');
  await writeFileAtomic(templateFile, `${JSON.stringify(template, null, 2)}\n`);
  await writeFileAtomic(parametersFileName, `${JSON.stringify(parametersFile(template), null, 2)}\n`);
  deps.write(`wrote ${templateFile} (${template.resources.length} resources, profile ${profile.name}) and ${parametersFileName}: fill in its empty values\n`);
}

export async function packageCommand(flags: { out: string; app?: string }, deps: DeployCommandDeps): Promise<void> {
  const apps = flags.app === undefined ? APPS : [appOf(flags.app)];
  await mkdir(flags.out, { recursive: true });
  const bar = deps.isTTY ? new SingleBar({ format: 'package {bar} {value}/{total} {app}', hideCursor: true }) : undefined;
  bar?.start(apps.length, 0, { app: '' });
  try {
    for (const app of apps) {
      bar?.update({ app });
      let built: AppPackage;
      const packager = lazy.packager();
      try {
        // The publisher publishes the transparency page at start-up from the build it carries.
        built = await packager.buildAppPackage(app, app === 'publisher' ? { site: await lazy.site().buildSite() } : {});
      } catch (error) {
        if (error instanceof packager.PackageError) throw new CliError(error.message, EXIT.failed);
        throw error;
      }
      const file = path.join(flags.out, `${app}.zip`);
      await writeFileAtomic(file, built.zip);
      bar?.increment();
      if (!bar) deps.note(`packaged ${app}\n`);
      deps.write(`wrote ${file} (${built.zip.length} bytes, ${built.inputs.length} modules)\n`);
    }
  } finally {
    bar?.stop();
  }
}

/** Parameter values from a deploymentParameters file; every parameter without a default must be given. */
async function parameterValues(file: string | undefined, template: ArmTemplate): Promise<Record<string, { value: unknown }>> {
  const values: Record<string, { value: unknown }> = {};
  if (file !== undefined) {
    const json = (await readJsonFile(file, '--parameters')) as { parameters?: unknown };
    if (!json || typeof json !== 'object' || typeof json.parameters !== 'object' || json.parameters === null) throw new CliError(`--parameters ${file}: not a deployment parameters file (no "parameters" object)`);
    for (const [name, entry] of Object.entries(json.parameters as Record<string, unknown>)) {
      if (!(name in template.parameters)) throw new CliError(`--parameters ${file}: the template has no parameter ${JSON.stringify(name)}`);
      if ((APPLY_OWNED_PARAMETERS as readonly string[]).includes(name)) throw new CliError(`--parameters ${file}: ${name} is set by deploy apply itself (${{ packageUrls: 'from what each app runs', signers: "from the running publisher's signers", keyVaultCreateMode: 'with --recover-key-vault' }[name]}); remove it from the file`);
      const value = (entry as { value?: unknown })?.value;
      if (value === undefined || value === null || value === '') continue;
      values[name] = { value };
    }
  }
  const missing = Object.entries(template.parameters).filter(([name, parameter]) => parameter.defaultValue === undefined && !(name in values)).map(([name]) => name);
  if (missing.length > 0) throw new CliError(`--parameters must give ${missing.join(', ')} (see azuredeploy.parameters.json from deploy compile)`);
  return values;
}

export function credentialOf(deps: Pick<DeployCommandDeps, 'azure'>): TokenCredential {
  return deps.azure?.credential ?? new (lazy.identity().DefaultAzureCredential)();
}

/** A token for ARM before any call, so that a missing sign-in is one line, not a chain of credential errors. */
export async function signIn(credential: TokenCredential): Promise<void> {
  try {
    if (await credential.getToken('https://management.azure.com/.default')) return;
  } catch (error) {
    const first = String((error as Error).message ?? error).split('\n')[0];
    throw new CliError(`cannot sign in to Azure (${first}): run az login, or set the environment of a workload identity or service principal (AZURE_CLIENT_ID, AZURE_TENANT_ID, ...)`, EXIT.failed);
  }
  throw new CliError('cannot sign in to Azure: the credential returned no token; run az login', EXIT.failed);
}

type ApplyFlags = AzureFlags & { profile: string; prefix?: string; location: string; parameters?: string; whatIf?: boolean; name?: string; createResourceGroup?: boolean; recoverKeyVault?: boolean };

export async function applyCommand(flags: ApplyFlags, deps: DeployCommandDeps): Promise<void> {
  const profile = profileOf(flags);
  const target = azureTarget(flags, deps.env);
  if (!LOCATION.test(flags.location)) throw new CliError(`--location must be an Azure region name such as japaneast, got ${JSON.stringify(flags.location)}`);
  const template = compiled(profile);
  const parameters = await parameterValues(flags.parameters, template);
  const deploymentName = flags.name ?? `keyfront-${profile.name}`;
  if (!/^[-\w.()]{1,64}$/.test(deploymentName)) throw new CliError(`--name must be 1-64 letters, digits, '-', '_', '.', '(' or ')'`);
  const names = deploymentNames(profile);
  if (flags.prefix === undefined) deps.note(`using the default prefix ${profile.namePrefix}: storage accounts, the Key Vault and *.azurewebsites.net names are global, so a deployment of your own needs its own --prefix\n`);
  const credential = credentialOf(deps);
  await signIn(credential);
  const client: ResourceManagementClient = new (lazy.resources().ResourceManagementClient)(credential, target.subscriptionId, deps.azure?.clientOptions as ResourceManagementClientOptionalParams);
  const web: WebSiteManagementClient = new (lazy.appService().WebSiteManagementClient)(credential, target.subscriptionId, deps.azure?.clientOptions as WebSiteManagementClientOptionalParams);
  const deployment = { ...target, deploymentName, location: flags.location };
  const options = { pollIntervalInMs: deps.azure?.pollIntervalInMs, onPoll: (status: string) => deps.note(`  ${status}\n`) };
  const vaultLocation = String(parameters.location?.value ?? flags.location);
  const createGroup = `az group create --name ${target.resourceGroupName} --location ${flags.location}`;
  try {
    // After a deleted resource group the vault name stays with a soft-deleted vault (purge protection, 90 days).
    const deletedVault = await deletedVaultExists(client, target.subscriptionId, vaultLocation, names.keyVault);
    if (deletedVault && !flags.recoverKeyVault) {
      throw new CliError(`the Key Vault name ${names.keyVault} is held by a soft-deleted vault in ${vaultLocation} (purge protection keeps it 90 days): run again with --recover-key-vault to bring it back with its signing key, or choose another --prefix`, EXIT.failed);
    }
    if (deletedVault === false && flags.recoverKeyVault) throw new CliError(`--recover-key-vault: there is no soft-deleted vault ${names.keyVault} in ${vaultLocation} to recover`, EXIT.failed);
    if (deletedVault === undefined && !flags.recoverKeyVault) deps.note(`cannot check for a soft-deleted vault named ${names.keyVault} (reading deleted vaults needs a role on the subscription): if the deployment fails with ConflictError on it, run again with --recover-key-vault\n`);
    // Applying the template again must not change the code a release put in each app.
    const running = await runningPackageUrls(web, target.resourceGroupName, packageUrlKeys(names).map((key) => ({ site: key.split('/')[0], slot: key.split('/')[1] })));
    const defaults = template.parameters.packageUrls.defaultValue as Record<string, string>;
    // Nor the signing keys `keys rotate` gave the publisher.
    const signers = await runningSigners(web, target.resourceGroupName, names.publisherSite);
    const values = { ...parameters, packageUrls: { value: { ...defaults, ...running } }, signers: { value: signers }, ...(flags.recoverKeyVault ? { keyVaultCreateMode: { value: 'recover' } } : {}) };
    if (flags.whatIf) {
      deps.note(`what-if of ${deploymentName} in ${target.resourceGroupName} (nothing changes)\n`);
      let changes;
      try {
        changes = await whatIf(client, deployment, template, values, options);
      } catch (error) {
        if (!(error instanceof ArmDeploymentError) || error.code !== 'ResourceGroupNotFound') throw error;
        // What-if needs the resource group; creating it is a change, made only when asked to.
        if (!flags.createResourceGroup) throw new CliError(`resource group ${target.resourceGroupName} does not exist in subscription ${target.subscriptionId}: create it (${createGroup}; needs rights on the subscription) or run again with --create-resource-group`, EXIT.failed);
        await client.resourceGroups.createOrUpdate(target.resourceGroupName, { location: flags.location });
        deps.note(`created the empty resource group ${target.resourceGroupName} in ${flags.location}\n`);
        changes = await whatIf(client, deployment, template, values, options);
      }
      deps.write(formatWhatIf(changes));
      return;
    }
    deps.note(`deploying ${deploymentName} (${template.resources.length} resources) to ${target.resourceGroupName}: a prod deployment takes 15-30 minutes\n`);
    const result = await deploy(client, deployment, template, values, options);
    for (const [name, output] of Object.entries(result.outputs)) deps.write(`${name}: ${String(output.value)}\n`);
    deps.write(`deployed ${deploymentName} to ${target.resourceGroupName}: ${result.provisioningState}\n`);
  } catch (error) {
    if (error instanceof ArmDeploymentError) throw new CliError(error.message, EXIT.failed);
    const status = (error as { statusCode?: number; code?: string }).statusCode;
    if (status !== undefined) throw new CliError(`${(error as { code?: string }).code ?? `HTTP ${status}`}: ${(error as Error).message}`, EXIT.failed);
    throw error;
  }
}

type ReleaseFlags = AzureFlags & { profile: string; prefix?: string; app: string; package?: string; digest?: string };

export async function releaseCommand(flags: ReleaseFlags, deps: DeployCommandDeps): Promise<void> {
  const profile = profileOf(flags);
  const app = appOf(flags.app);
  const target = azureTarget(flags, deps.env);
  if ((flags.package === undefined) === (flags.digest === undefined)) throw new CliError('give either --package ZIP (a new package) or --digest SHA256 (one released before)');
  let source: PackageSource;
  if (flags.package !== undefined) {
    const zip = await readInputFile(flags.package, '--package');
    // The end-of-central-directory record: a zip, not just any file.
    if (zip.length < 22 || zip.readUInt32LE(zip.length - 22) !== 0x06054b50) throw new CliError(`--package ${flags.package} is not a zip written by deploy package`);
    source = { zip };
  } else {
    if (!/^[0-9a-f]{64}$/i.test(flags.digest!)) throw new CliError(`--digest must be the 64 hex digits of a package's SHA-256 (the release line prints it), got ${JSON.stringify(flags.digest)}`);
    source = { digest: flags.digest!.toLowerCase() };
  }
  const names = deploymentNames(profile);
  const sites = (app === 'api' ? names.apiSites : [names.publisherSite]).map((name) => ({ name, packagesUrl: packagesUrl(names, name) }));
  const credential = credentialOf(deps);
  await signIn(credential);
  const web: WebSiteManagementClient = new (lazy.appService().WebSiteManagementClient)(credential, target.subscriptionId, deps.azure?.clientOptions as WebSiteManagementClientOptionalParams);
  const cdn: CdnManagementClient = new (lazy.cdn().CdnManagementClient)(credential, target.subscriptionId, deps.azure?.clientOptions as CdnManagementClientOptionalParams);
  const blobClient = (url: string) => (deps.azure?.blobClient ? deps.azure.blobClient(url, credential) : new (lazy.blob().BlockBlobClient)(url, credential));
  const bar = deps.isTTY ? new SingleBar({ format: 'release {bar} {value}/{total} {site} {step}', hideCursor: true }) : undefined;
  bar?.start(sites.length * RELEASE_STEPS.length, 0, { site: '', step: '' });
  const onStep: ReleaseOptions['onStep'] = (site, step, state, detail) => {
    if (bar) {
      bar.update({ site, step: state === 'failed' ? `${step} failed` : step });
      if (state === 'done' && step !== 'swap-back') bar.increment();
    } else {
      deps.note(`${site}: ${step} ${state}${detail ? `: ${detail}` : ''}\n`);
    }
  };
  let report;
  try {
    report = await releasePackage({ resourceGroupName: target.resourceGroupName, app, sites, slot: names.slot, frontDoor: { profileName: names.frontDoorProfile, endpointName: names.frontDoorEndpoint } }, source, {
      web,
      cdn,
      blobClient,
      fetch: deps.azure?.fetch,
      hostUrl: deps.azure?.hostUrl,
      retryIntervalInMs: deps.azure?.pollIntervalInMs,
      healthAttempts: deps.azure?.healthAttempts,
      onStep,
    });
  } finally {
    bar?.stop();
  }
  deps.write(`${releaseSummary(report)}\n`);
  if (!report.ok) throw new CliError('release failed (see the line above)', EXIT.failed);
}

export function registerDeployCommands(program: Command, deps: DeployCommandDeps = defaultDeps()): void {
  const group = program.command('deploy').description('the whole system on Azure: compile the templates, package the Function Apps, apply, release through the staging slot');
  group
    .command('compile')
    .description('write DIR/azuredeploy.json and DIR/azuredeploy.parameters.json for a profile (Front Door included)')
    .requiredOption('--profile <name>', 'dev (cheapest tiers) or prod (two regions, HSM, Elastic Premium)')
    .option('--prefix <prefix>', 'resource name prefix, 3-11 lower-case letters and digits (default kfdev / kfprod)')
    .requiredOption('--out <dir>', 'directory to write into')
    .action((flags: { profile: string; prefix?: string; out: string }) => compileCommand(flags, deps));
  group
    .command('package')
    .description('write DIR/api.zip and DIR/publisher.zip: host.json and one bundle each, ready for run-from-package')
    .requiredOption('--out <dir>', 'directory to write into')
    .option('--app <app>', 'only this app: api or publisher')
    .action((flags: { out: string; app?: string }) => packageCommand(flags, deps));
  group
    .command('apply')
    .description('deploy a profile to a resource group (incremental; creates the group if missing; keeps the package each app runs), or print the what-if plan')
    .requiredOption('--profile <name>', 'dev or prod')
    .option('--prefix <prefix>', 'resource name prefix (as compiled)')
    .requiredOption('--resource-group <name>', 'target resource group')
    .requiredOption('--location <region>', 'region of the resource group and the deployment data, e.g. japaneast')
    .option('--parameters <file>', 'deployment parameters file (from deploy compile, filled in)')
    .option('--subscription <id>', 'subscription id (default AZURE_SUBSCRIPTION_ID)')
    .option('--name <name>', 'deployment name (default keyfront-PROFILE)')
    .option('--what-if', "print ARM's prediction of the changes; change nothing")
    .option('--create-resource-group', 'with --what-if: create the resource group first when it does not exist (an empty group; needs rights on the subscription)')
    .option('--recover-key-vault', 'recover the soft-deleted Key Vault of this name (after a deleted resource group) instead of creating one')
    .action((flags: ApplyFlags) => applyCommand(flags, deps));
  group
    .command('release')
    .description('release a package: upload it, point the staging slot at it, swap (with App Service\'s warm-up), check production through Front Door, swap back on failure')
    .requiredOption('--app <app>', 'api (every API site, primary first) or publisher')
    .option('--package <file>', 'the zip from deploy package')
    .option('--digest <sha256>', 'instead of --package: a package released before, by the digest its release printed')
    .requiredOption('--profile <name>', 'dev or prod (names the sites)')
    .option('--prefix <prefix>', 'resource name prefix (as compiled)')
    .requiredOption('--resource-group <name>', 'resource group of the Function Apps')
    .option('--subscription <id>', 'subscription id (default AZURE_SUBSCRIPTION_ID)')
    .action((flags: ReleaseFlags) => releaseCommand(flags, deps));
}
