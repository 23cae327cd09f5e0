/**
 * `keyfront edge compile|apply|purge`: Front Door as code. `compile` writes the ARM template of
 * the declaration in `edge-config/keyfront.ts`; `apply` converges Azure to it through the SDKs,
 * printing the plan first (`--dry-run`: only the plan); `purge` empties edge caches by path, in
 * Azure or on the local edge, with the same purgers the publisher uses.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { applyEdgePlan, createEdgeClients, EdgeApplyError, formatPlan, planEdge, type EdgeClientOptions } from '../../edge-config/arm/apply';
import { compileArmTemplate } from '../../edge-config/arm/template';
import { ConfigError, loadAzureEdgeConfig, type AzureEdgeConfig } from '../../edge-config/config';
import type { EdgeDeclaration } from '../../edge-config/declaration';
import { keyfrontEdge } from '../../edge-config/keyfront';
import { checkContentPaths } from '../../platform/purge-paths';
import { EdgeConfigError, validateEdgeDeclaration } from '../../edge-config/validate';
import { FrontDoorPurger } from '../../publisher/purgers/front-door';
import { LocalEdgePurger } from '../../publisher/purgers/local-edge';
import { PurgeError } from '../../publisher/purgers/purge-error';
import { CliError, EXIT } from '../cli-error';
import { writeFileAtomic } from '../cli-io';
import { localStackDataDir, stackFileOf } from '../local-stack/config';

/** What the commands take from outside: the environment, output, and (in tests) the ARM client options. */
export interface EdgeCommandDeps {
  env: Readonly<Record<string, string | undefined>>;
  write(text: string): void;
  azure?: EdgeClientOptions;
}

const defaultDeps = (): EdgeCommandDeps => ({ env: process.env, write: (text) => process.stdout.write(text) });

function azureConfig(env: EdgeCommandDeps['env']): AzureEdgeConfig {
  try {
    return loadAzureEdgeConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
}

function declarationFor(config: AzureEdgeConfig): EdgeDeclaration {
  try {
    return validateEdgeDeclaration(keyfrontEdge(config.environment), 'azure');
  } catch (error) {
    if (error instanceof EdgeConfigError) throw new CliError(error.message);
    throw error;
  }
}

function azureTarget(config: AzureEdgeConfig, what: string): { subscriptionId: string; resourceGroupName: string } {
  const missing = [config.subscriptionId === undefined ? 'KEYFRONT_EDGE_SUBSCRIPTION_ID' : '', config.resourceGroupName === undefined ? 'KEYFRONT_EDGE_RESOURCE_GROUP' : ''].filter(Boolean);
  if (missing.length > 0) throw new CliError(`${what} needs ${missing.join(' and ')}`);
  return { subscriptionId: config.subscriptionId as string, resourceGroupName: config.resourceGroupName as string };
}

export async function compileCommand(flags: { out?: string }, deps: EdgeCommandDeps): Promise<void> {
  const template = `${JSON.stringify(compileArmTemplate(declarationFor(azureConfig(deps.env))), null, 2)}\n`;
  if (flags.out) {
    await writeFileAtomic(flags.out, template);
    deps.write(`wrote ${flags.out}\n`);
  } else {
    deps.write(template);
  }
}

export async function applyCommand(flags: { dryRun?: boolean }, deps: EdgeCommandDeps): Promise<void> {
  const config = azureConfig(deps.env);
  const declaration = declarationFor(config);
  const target = azureTarget(config, 'edge apply');
  const clients = createEdgeClients(target.subscriptionId, deps.azure);
  try {
    const plan = await planEdge(declaration, clients, target, deps.azure);
    deps.write(formatPlan(plan));
    if (flags.dryRun) {
      deps.write('Dry run: nothing was changed.\n');
      return;
    }
    if (!plan.items.some((item) => item.action !== 'unchanged')) {
      deps.write(`Nothing to change.${plan.frontDoorId ? ` Front Door ID: ${plan.frontDoorId}` : ''}\n`);
      return;
    }
    const result = await applyEdgePlan(plan, declaration, clients, { ...deps.azure, onStep: (line) => deps.write(`${line}\n`) });
    deps.write(`Applied ${result.changed} change(s). Endpoint: ${result.endpointHostName ?? '(unknown)'}. Front Door ID: ${result.frontDoorId ?? '(unknown)'} (the API's KEYFRONT_FRONT_DOOR_ID).\n`);
  } catch (error) {
    if (error instanceof EdgeApplyError) throw new CliError(error.message, EXIT.failed);
    throw error;
  }
}

/** The `--admin-url` flag, checked: an http(s) URL. */
function adminUrlFlag(flag: string): string {
  let url: URL | undefined;
  try {
    url = new URL(flag);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') throw new CliError(`--admin-url must be an http:// or https:// URL such as http://127.0.0.1:8089, got ${JSON.stringify(flag)}`);
  return flag;
}

/** The local edge admin URL: the flag, else the running stack's `stack.json`, else the default port. */
async function localAdminUrl(flag: string | undefined, env: EdgeCommandDeps['env']): Promise<string> {
  if (flag !== undefined) return adminUrlFlag(flag);
  const stackFile = stackFileOf(localStackDataDir(env));
  try {
    const stack = JSON.parse(await readFile(stackFile, 'utf8')) as { edgeAdminUrl?: unknown };
    if (typeof stack.edgeAdminUrl === 'string') return stack.edgeAdminUrl;
  } catch {
    // No running stack recorded: fall back to the default port.
  }
  return 'http://127.0.0.1:8089';
}

export async function purgeCommand(flags: { paths: string[]; local?: boolean; adminUrl?: string }, deps: EdgeCommandDeps): Promise<void> {
  try {
    checkContentPaths(flags.paths, () => '--paths');
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  try {
    if (flags.local || flags.adminUrl !== undefined) {
      const purger = new LocalEdgePurger(await localAdminUrl(flags.adminUrl, deps.env));
      const purged = await purger.purgeEntries(flags.paths);
      deps.write(`purged ${purged} cached response(s) from ${purger.name}\n`);
      return;
    }
    const config = azureConfig(deps.env);
    const target = azureTarget(config, 'edge purge');
    const purger = new FrontDoorPurger(
      { ...target, profileName: config.environment.profileName, endpointName: config.environment.endpointName },
      { credential: deps.azure?.credential, clientOptions: deps.azure?.clientOptions, pollIntervalInMs: deps.azure?.pollIntervalInMs },
    );
    await purger.purge(flags.paths);
    deps.write(`purged ${flags.paths.join(' ')} from ${purger.name}\n`);
  } catch (error) {
    if (error instanceof PurgeError) throw new CliError(error.message, error.code === 'invalid_content_paths' ? EXIT.usage : EXIT.failed);
    throw error;
  }
}

export function registerEdgeCommands(program: Command, deps: EdgeCommandDeps = defaultDeps()): void {
  const edge = program.command('edge').description('Front Door as code: compile to ARM, apply to Azure, purge caches');
  edge
    .command('compile')
    .description('write the ARM template of the edge declaration (stdout, or --out)')
    .option('--out <file>', 'write the template to this file')
    .action((flags: { out?: string }) => compileCommand(flags, deps));
  edge
    .command('apply')
    .description('make Azure match the declaration: prints the plan, then applies it (KEYFRONT_EDGE_* settings)')
    .option('--dry-run', 'print the plan only')
    .action((flags: { dryRun?: boolean }) => applyCommand(flags, deps));
  edge
    .command('purge')
    .description('purge paths from the edge cache: exact paths, or prefixes ending in /*')
    .requiredOption('--paths <paths...>', 'paths such as /v1/440/index.txt or /v1/440/*')
    .option('--local', 'purge the local edge of `npm start` instead of Azure Front Door')
    .option('--admin-url <url>', 'the local edge admin URL (implies --local; default: from the running stack, else http://127.0.0.1:8089)')
    .action((flags: { paths: string[]; local?: boolean; adminUrl?: string }) => purgeCommand(flags, deps));
}
