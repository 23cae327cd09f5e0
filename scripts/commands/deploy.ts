/**
 * `keyfront deploy compile|package|apply|release`: the whole system on Azure. `compile` writes a
 * profile's ARM template and parameters file; `package` writes one zip per Function App; `apply`
 * deploys the template to a resource group (`--what-if`: ARM's plan only); `release` takes a zip
 * to production through the staging slot and swaps back when production fails its check.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { WebSiteManagementClient, WebSiteManagementClientOptionalParams } from '@azure/arm-appservice';
import type { ResourceManagementClient, ResourceManagementClientOptionalParams } from '@azure/arm-resources';
import type { TokenCredential } from '@azure/core-auth';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { ArmDeploymentError, deploy, formatWhatIf, whatIf } from '../../infra/apply';
import type { ArmTemplate } from '../../infra/arm';
import { checkTemplate } from '../../infra/check';
import { APPS, type AppName } from '../../infra/host/host-json';
import type { AppPackage } from '../../infra/package';
import { deploymentNames, deploymentProfile, DeploymentProfileError, type DeploymentProfile } from '../../infra/profiles';
import { releasePackage, releaseSummary, RELEASE_STEPS, type ReleaseOptions } from '../../infra/release';
import { compileDeployment, parametersFile } from '../../infra/template';
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
  resources: () => require('@azure/arm-resources') as typeof import('@azure/arm-resources'),
  identity: () => require('@azure/identity') as typeof import('@azure/identity'),
  packager: () => require('../../infra/package') as typeof import('../../infra/package'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

const RESOURCE_GROUP = /^[-\w.()]{1,90}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOCATION = /^[a-z0-9]{2,40}$/;

function profileOf(flags: { profile: string; prefix?: string }): DeploymentProfile {
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

interface AzureFlags {
  subscription?: string;
  resourceGroup: string;
}

function azureTarget(flags: AzureFlags, env: DeployCommandDeps['env']): { subscriptionId: string; resourceGroupName: string } {
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
        built = await packager.buildAppPackage(app);
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
      const value = (entry as { value?: unknown })?.value;
      if (value === undefined || value === null || value === '') continue;
      values[name] = { value };
    }
  }
  const missing = Object.entries(template.parameters).filter(([name, parameter]) => parameter.defaultValue === undefined && !(name in values)).map(([name]) => name);
  if (missing.length > 0) throw new CliError(`--parameters must give ${missing.join(', ')} (see azuredeploy.parameters.json from deploy compile)`);
  return values;
}

function credentialOf(deps: DeployCommandDeps): TokenCredential {
  return deps.azure?.credential ?? new (lazy.identity().DefaultAzureCredential)();
}

export async function applyCommand(flags: AzureFlags & { profile: string; prefix?: string; location: string; parameters?: string; whatIf?: boolean; name?: string }, deps: DeployCommandDeps): Promise<void> {
  const profile = profileOf(flags);
  const target = azureTarget(flags, deps.env);
  if (!LOCATION.test(flags.location)) throw new CliError(`--location must be an Azure region name such as japaneast, got ${JSON.stringify(flags.location)}`);
  const template = compiled(profile);
  const parameters = await parameterValues(flags.parameters, template);
  const deploymentName = flags.name ?? `keyfront-${profile.name}`;
  if (!/^[-\w.()]{1,64}$/.test(deploymentName)) throw new CliError(`--name must be 1-64 letters, digits, '-', '_', '.', '(' or ')'`);
  const client: ResourceManagementClient = new (lazy.resources().ResourceManagementClient)(credentialOf(deps), target.subscriptionId, deps.azure?.clientOptions as ResourceManagementClientOptionalParams);
  const deployment = { ...target, deploymentName, location: flags.location };
  const options = { pollIntervalInMs: deps.azure?.pollIntervalInMs, onPoll: (status: string) => deps.note(`  ${status}\n`) };
  try {
    if (flags.whatIf) {
      deps.note(`what-if of ${deploymentName} in ${target.resourceGroupName} (nothing changes)\n`);
      const changes = await whatIf(client, deployment, template, parameters, options);
      deps.write(formatWhatIf(changes));
      return;
    }
    deps.note(`deploying ${deploymentName} (${template.resources.length} resources) to ${target.resourceGroupName}: a prod deployment takes 15-30 minutes\n`);
    const result = await deploy(client, deployment, template, parameters, options);
    for (const [name, output] of Object.entries(result.outputs)) deps.write(`${name}: ${String(output.value)}\n`);
    deps.write(`deployed ${deploymentName} to ${target.resourceGroupName}: ${result.provisioningState}\n`);
  } catch (error) {
    if (error instanceof ArmDeploymentError) throw new CliError(error.message, EXIT.failed);
    throw error;
  }
}

export async function releaseCommand(flags: AzureFlags & { profile: string; prefix?: string; app: string; package: string }, deps: DeployCommandDeps): Promise<void> {
  const profile = profileOf(flags);
  const app = appOf(flags.app);
  const target = azureTarget(flags, deps.env);
  const zip = await readInputFile(flags.package, '--package');
  // The end-of-central-directory record: a zip, not just any file.
  if (zip.length < 22 || zip.readUInt32LE(zip.length - 22) !== 0x06054b50) throw new CliError(`--package ${flags.package} is not a zip written by deploy package`);
  const names = deploymentNames(profile);
  const sites = app === 'api' ? names.apiSites : [names.publisherSite];
  const credential = credentialOf(deps);
  const web: WebSiteManagementClient = new (lazy.appService().WebSiteManagementClient)(credential, target.subscriptionId, deps.azure?.clientOptions as WebSiteManagementClientOptionalParams);
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
    report = await releasePackage({ resourceGroupName: target.resourceGroupName, app, sites, slot: names.slot }, zip, {
      web,
      credential,
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
    .description('deploy a profile to a resource group (incremental; creates the group if missing), or print the what-if plan')
    .requiredOption('--profile <name>', 'dev or prod')
    .option('--prefix <prefix>', 'resource name prefix (as compiled)')
    .requiredOption('--resource-group <name>', 'target resource group')
    .requiredOption('--location <region>', 'region of the resource group and the deployment data, e.g. japaneast')
    .option('--parameters <file>', 'deployment parameters file (from deploy compile, filled in)')
    .option('--subscription <id>', 'subscription id (default AZURE_SUBSCRIPTION_ID)')
    .option('--name <name>', 'deployment name (default keyfront-PROFILE)')
    .option('--what-if', "print ARM's prediction of the changes; change nothing")
    .action((flags: AzureFlags & { profile: string; prefix?: string; location: string; parameters?: string; whatIf?: boolean; name?: string }) => applyCommand(flags, deps));
  group
    .command('release')
    .description('release a package: staging slot, warm, health check, swap, check production, swap back on failure')
    .requiredOption('--app <app>', 'api (every API site, primary first) or publisher')
    .requiredOption('--package <file>', 'the zip from deploy package')
    .requiredOption('--profile <name>', 'dev or prod (names the sites)')
    .option('--prefix <prefix>', 'resource name prefix (as compiled)')
    .requiredOption('--resource-group <name>', 'resource group of the Function Apps')
    .option('--subscription <id>', 'subscription id (default AZURE_SUBSCRIPTION_ID)')
    .action((flags: AzureFlags & { profile: string; prefix?: string; app: string; package: string }) => releaseCommand(flags, deps));
}
