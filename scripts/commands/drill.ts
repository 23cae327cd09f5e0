/**
 * `keyfront drill storage|cosmos|origin`: failover drills. A dry run (the default) prints the plan;
 * `--execute` runs it with progress lines, then prints the report as a table (and writes it as
 * JSON with `--json FILE`). `--local` (the default) starts a stack of its own on fresh ports;
 * `--azure` acts on real resources through the ARM SDKs (see `drill rollback` to undo).
 * Exit codes: 0 the drill passed (or the plan was printed), 1 it failed or a remote step failed,
 * 2 bad input.
 */
import type { Command } from 'commander';
import { CliError, EXIT } from '../cli-error';
import { writeFileAtomic } from '../cli-io';
import { cosmosDrill, COSMOS_DRILL_DEFAULTS } from '../drills/local/cosmos';
import { originDrill, ORIGIN_DRILL_DEFAULTS } from '../drills/local/origin';
import { storageDrill, STORAGE_DRILL_DEFAULTS } from '../drills/local/storage';
import { lineProgress, renderPlan, type Drill } from '../drills/plan';
import { renderReport, type DrillName } from '../drills/report';
import type { AzureDrillOptions } from '../drills/azure/azure-drills';

/** The Azure drills pull in three ARM SDKs and the identity library: loaded only for `--azure`. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- `require` at call time is the lazy load (as in scripts/cli.ts)
const azure = () => require('../drills/azure/azure-drills') as typeof import('../drills/azure/azure-drills');

const DRILLS: readonly DrillName[] = ['storage', 'cosmos', 'origin'];

interface DrillFlags {
  local?: boolean;
  azure?: boolean;
  execute?: boolean;
  json?: string;
  phones?: string;
  outageSeconds?: string;
  lagSeconds?: string;
  yes?: boolean;
  subscription?: string;
  resourceGroup?: string;
  account?: string;
  profile?: string;
  originGroup?: string;
  origin?: string;
  region?: string;
  armEndpoint?: string;
}

function positiveInteger(value: string | undefined, option: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new CliError(`${option} must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

/** The local drill with the command's overrides of its defaults. */
function localDrill(name: DrillName, flags: DrillFlags): Drill {
  const phones = positiveInteger(flags.phones, '--phones', 5000);
  const outageInMs = (positiveInteger(flags.outageSeconds, '--outage-seconds', 600) ?? NaN) * 1000;
  const lagInMs = (positiveInteger(flags.lagSeconds, '--lag-seconds', 600) ?? NaN) * 1000;
  const pick = <T>(value: T | undefined, fallback: T): T => (value === undefined || (typeof value === 'number' && Number.isNaN(value)) ? fallback : value);
  if (flags.lagSeconds !== undefined && name !== 'storage') throw new CliError('--lag-seconds applies to the storage drill only');
  switch (name) {
    case 'storage':
      return storageDrill({ ...STORAGE_DRILL_DEFAULTS, phones: pick(phones, STORAGE_DRILL_DEFAULTS.phones), outageInMs: pick(outageInMs, STORAGE_DRILL_DEFAULTS.outageInMs), replicationLagInMs: pick(lagInMs, STORAGE_DRILL_DEFAULTS.replicationLagInMs) });
    case 'cosmos':
      return cosmosDrill({ ...COSMOS_DRILL_DEFAULTS, phones: pick(phones, COSMOS_DRILL_DEFAULTS.phones), outageInMs: pick(outageInMs, COSMOS_DRILL_DEFAULTS.outageInMs) });
    case 'origin':
      if (flags.outageSeconds !== undefined) throw new CliError('--outage-seconds does not apply to the origin drill: its primary does not come back');
      return originDrill({ ...ORIGIN_DRILL_DEFAULTS, phones: pick(phones, ORIGIN_DRILL_DEFAULTS.phones) });
  }
}

function azureOptions(name: DrillName, flags: DrillFlags): AzureDrillOptions {
  for (const local of ['phones', 'outageSeconds', 'lagSeconds'] as const) {
    if (flags[local] !== undefined) throw new CliError(`--${local.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to local drills only`);
  }
  return azure().parseAzureTarget(name, { ...flags });
}

async function runDrill(name: string, flags: DrillFlags): Promise<void> {
  if (!DRILLS.includes(name as DrillName)) throw new CliError(`unknown drill ${JSON.stringify(name)}: choose storage, cosmos or origin`);
  if (flags.local && flags.azure) throw new CliError('choose --local or --azure, not both');
  const drill = flags.azure ? azure().azureDrill(azureOptions(name as DrillName, flags)) : localDrill(name as DrillName, flags);
  process.stdout.write(renderPlan(drill.plan));
  if (!flags.execute) {
    process.stdout.write('dry run: nothing was started or changed. Add --execute to run the drill.\n');
    return;
  }
  const aborter = new AbortController();
  const onSignal = () => aborter.abort();
  process.once('SIGINT', onSignal);
  try {
    const report = await drill.execute(lineProgress((text) => process.stdout.write(text)), aborter.signal);
    process.stdout.write(renderReport(report));
    if (flags.json) await writeFileAtomic(flags.json, `${JSON.stringify(report, (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`);
    if (!report.passed) throw new CliError(`the ${name} drill failed (see the report above)`, EXIT.failed);
  } catch (error) {
    if (aborter.signal.aborted) throw new CliError('the drill was interrupted; everything it started was stopped', EXIT.failed);
    throw error;
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}

export function registerDrillCommands(program: Command): void {
  const drill = program
    .command('drill')
    .description('failover drills: storage, cosmos, origin (dry run by default; --execute to run)')
    .argument('<drill>', 'storage | cosmos | origin')
    .option('--local', 'drill on a stack of its own, on fresh loopback ports (the default)')
    .option('--azure', 'drill on real Azure resources through the ARM APIs')
    .option('--execute', 'run the drill (without it: print the plan only)')
    .option('--json <file>', 'also write the report as JSON')
    .option('--phones <n>', 'local: phones syncing during the drill')
    .option('--outage-seconds <s>', 'local: how long the failure lasts before recovery')
    .option('--lag-seconds <s>', 'local storage drill: how far the secondary lags behind')
    .option('--yes', 'azure: do not ask for confirmation before acting')
    .option('--subscription <id>', 'azure: subscription ID (GUID)')
    .option('--resource-group <name>', 'azure: resource group')
    .option('--account <name>', 'azure: the storage account (storage) or Cosmos DB account (cosmos)')
    .option('--region <name>', 'azure cosmos: the region to take out (its failover priority becomes last)')
    .option('--profile <name>', 'azure origin: the Front Door profile')
    .option('--origin-group <name>', 'azure origin: the origin group')
    .option('--origin <name>', 'azure origin: the origin to disable')
    .option('--arm-endpoint <url>', 'azure: the ARM endpoint (default https://management.azure.com)')
    .addHelpText('after', '\nExit codes: 0 passed (or plan printed), 1 the drill failed or a remote step failed, 2 bad input.\nThe figures are explained in README ("Failover drills").')
    .action((name: string, flags: DrillFlags) => runDrill(name, flags));
  drill
    .command('rollback')
    .description('azure: undo a cosmos or origin drill (failover priorities back, origin enabled again)')
    .argument('<drill>', 'cosmos | origin')
    .option('--yes', 'do not ask for confirmation')
    .option('--subscription <id>', 'subscription ID (GUID)')
    .option('--resource-group <name>', 'resource group')
    .option('--account <name>', 'cosmos: the Cosmos DB account')
    .option('--region <name>', 'cosmos: the region to make the write region again')
    .option('--profile <name>', 'origin: the Front Door profile')
    .option('--origin-group <name>', 'origin: the origin group')
    .option('--origin <name>', 'origin: the origin to enable')
    .option('--arm-endpoint <url>', 'the ARM endpoint (default https://management.azure.com)')
    .action(async (name: string, flags: DrillFlags) => {
      if (name === 'storage') throw new CliError('a storage account failover has no rollback: fail back with another planned failover once geo-replication is configured again (see README)');
      if (name !== 'cosmos' && name !== 'origin') throw new CliError(`unknown drill ${JSON.stringify(name)}: choose cosmos or origin`);
      process.stdout.write(await azure().azureRollback(azure().parseAzureTarget(name, { ...flags })));
    });
}
