/**
 * `keyfront publish --once`: one publisher run from the command line, the twin of the timer
 * function. With the local stack running (`npm start`), it finds the stack's emulators through
 * `${KEYFRONT_DATA_DIR}/stack.json` and publishes into them with the stack's publisher settings;
 * with `KEYFRONT_COSMOS_ENDPOINT` set it publishes wherever the publisher settings point instead.
 * `--now` moves the publisher's clock (to close the current window in a test).
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import type { Command } from 'commander';
import { createLogger, type LogLevel } from '../../platform/log';
import { REGION_PATTERN } from '../../platform/settings';
import { CosmosExposureStore } from '../../exposures/cosmos-store';
import { ConfigError, loadPublisherConfig, namesExposureStore, publisherRegions, type PublisherConfig } from '../../publisher/config';
import { preflight, PreflightError } from '../../publisher/preflight';
import { publishExports, type RegionOutcome } from '../../publisher/run';
import { createPublisher, type PublisherDepsOverrides } from '../../publisher/setup';
import { CliError, EXIT } from '../cli-error';
import { parseIsoOption, printJson } from '../cli-io';
import { startProgress } from '../cli-progress';
import { localStackDataDir, stackFileOf } from '../local-stack/config';
import { cosmosEmulatorClientOptions } from '../local-stack/cosmos-emulator';
import { isAlive } from '../local-stack/stack';

type Env = Record<string, string | undefined>;

/** What the local stack's services put in stack.json that this command uses. */
interface StackFile {
  pid?: number;
  cosmosEndpoint?: unknown;
  blobConnectionString?: unknown;
  edgeAdminUrl?: unknown;
  /** The stack publisher's settings, as `KEYFRONT_*` variables (see publisher-service.ts). */
  publisherSettings?: Record<string, string>;
}

/** The running local stack's endpoints and publisher settings as variables; a clear error when no stack runs. */
export async function localStackEnvironment(dataDir: string): Promise<Env> {
  const file = stackFileOf(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CliError(
      `no local stack runs with data directory ${dataDir} (${file} not found). Start one with \`npm start\`, or set KEYFRONT_COSMOS_ENDPOINT and KEYFRONT_BLOB_ACCOUNT_URL (or KEYFRONT_BLOB_CONNECTION_STRING) to publish elsewhere.`,
      EXIT.failed,
    );
  }
  let stack: StackFile;
  try {
    stack = JSON.parse(text) as StackFile;
  } catch {
    throw new CliError(`${file} is not valid JSON; restart the local stack`, EXIT.failed);
  }
  if (typeof stack.pid === 'number' && !isAlive(stack.pid)) {
    throw new CliError(`the local stack described by ${file} (pid ${stack.pid}) is not running; start it with \`npm start\``, EXIT.failed);
  }
  if (typeof stack.cosmosEndpoint !== 'string' || typeof stack.blobConnectionString !== 'string') {
    throw new CliError(`the local stack of ${file} runs no ${typeof stack.cosmosEndpoint !== 'string' ? 'Cosmos DB emulator' : 'Blob storage (publisher service)'}; cannot publish into it`, EXIT.failed);
  }
  return {
    ...stack.publisherSettings,
    KEYFRONT_COSMOS_ENDPOINT: stack.cosmosEndpoint,
    KEYFRONT_BLOB_CONNECTION_STRING: stack.blobConnectionString,
    ...(typeof stack.edgeAdminUrl === 'string' ? { KEYFRONT_PURGER: 'local-edge', KEYFRONT_EDGE_ADMIN_URL: stack.edgeAdminUrl } : {}),
  };
}

/** The local stack's store: its Cosmos emulator (self-signed certificate on loopback), read with the settings' bound and shards. */
export function localStackStore(config: PublisherConfig): { store: CosmosExposureStore; client: CosmosClient } {
  const client = new CosmosClient(cosmosEmulatorClientOptions(config.store.cosmosEndpoint, Math.ceil(config.store.timeoutInMs / 2)));
  return { client, store: new CosmosExposureStore({ container: client.database(config.store.cosmosDatabase).container(config.store.cosmosContainer), shards: config.store.cosmosShards, timeoutInMs: config.store.timeoutInMs }) };
}

/** The publisher settings of `env`; bad ones are a usage error listing each variable. */
export function publisherConfigOf(env: Env): PublisherConfig {
  try {
    return loadPublisherConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
}

interface PublishFlags {
  once?: boolean;
  verbose?: boolean;
  now?: string;
  region?: string;
  wait: string;
}

function checkRegion(region: string | undefined, regions: readonly string[]): void {
  if (region !== undefined && !regions.includes(region)) throw new CliError(`--region ${JSON.stringify(region)} is not a published region (${regions.join(', ')}; KEYFRONT_REGIONS)`);
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * One sentence per region for the operator. With the local stack, its own publisher runs every
 * 30 s and may have published the windows first: the files are in the index either way, which is
 * what the walkthrough needs, so "nothing new" is said as such rather than as a bare 0.
 */
export function summaryOf(outcome: RegionOutcome, localStack: boolean): string {
  const count = outcome.filesWritten.length;
  const files = `${count} file${count === 1 ? '' : 's'}`;
  if (outcome.rangesPublished > 0) return `region ${outcome.region}: published ${outcome.rangesPublished} window${outcome.rangesPublished === 1 ? '' : 's'} (${files}); the index names them`;
  return `region ${outcome.region}: nothing new to publish: every closed window is already in the index${localStack ? " (the local stack's publisher runs every 30 s and may have published it first)" : ''}`;
}

async function publish(flags: PublishFlags): Promise<void> {
  // Arguments first: a bad one is exit code 2 whether or not a stack runs.
  if (!flags.once) throw new CliError('publish runs one pass and exits: pass --once (the schedule runs in the Function App, or in `npm start`)');
  const now = flags.now === undefined ? undefined : parseIsoOption(flags.now, '--now');
  const waitSeconds = Number(flags.wait);
  if (!/^\d+$/.test(flags.wait) || waitSeconds > 3600) throw new CliError(`--wait must be a number of seconds from 0 to 3600, got ${JSON.stringify(flags.wait)}`);
  if (flags.region !== undefined && !REGION_PATTERN.test(flags.region)) throw new CliError(`--region must be a region code matching ${REGION_PATTERN.source}, got ${JSON.stringify(flags.region)}`);

  const dataDir = localStackDataDir(process.env);
  const explicit = namesExposureStore(process.env);
  let stackEnv: Env = {};
  if (!explicit) {
    try {
      stackEnv = await localStackEnvironment(dataDir);
    } catch (error) {
      // No stack to publish into: a region these settings do not publish is still the first thing to fix.
      const regions = publisherRegions(process.env);
      if (regions) checkRegion(flags.region, regions);
      throw error;
    }
  }
  // Settings in the environment win over the stack's, so that one run can differ (e.g. KEYFRONT_MAX_KEYS_PER_FILE).
  const env: Env = explicit ? { ...process.env } : { ...stackEnv, ...process.env, KEYFRONT_DATA_DIR: dataDir };
  const config = publisherConfigOf(env);
  checkRegion(flags.region, config.regions);

  // Logs (JSON lines) go to stderr, warnings and errors only unless asked (a user of the walkthrough
  // cannot act on the run's info lines); stdout carries the one result line.
  const shown = env.KEYFRONT_LOG_LEVEL?.trim() ? config.logLevel : flags.verbose ? 'info' : 'warn';
  const progress = startProgress('export files written', 0);
  const logger = createLogger('publisher', { level: LOG_LEVELS.indexOf(shown) < LOG_LEVELS.indexOf('info') ? shown : 'info', write: (line) => {
    const record = JSON.parse(line) as { level: LogLevel; message: string };
    if (record.message === 'export file written') progress.tick();
    if (LOG_LEVELS.indexOf(record.level) >= LOG_LEVELS.indexOf(shown)) process.stderr.write(`${line}\n`);
  } });
  const overrides: PublisherDepsOverrides = { logger };
  let emulatorClient: CosmosClient | undefined;
  if (!explicit) ({ store: overrides.store, client: emulatorClient } = localStackStore(config));
  let publisher;
  try {
    publisher = await createPublisher(config, overrides);
  } catch (error) {
    emulatorClient?.dispose();
    throw new CliError(`cannot set up the publisher: ${(error as Error).message}${config.signers.some((signer) => signer.keyFile !== undefined) ? ` (KEYFRONT_SIGNING_KEY_FILE or KEYFRONT_SIGNERS; \`npm start\` creates ${path.join(dataDir, 'signing-private.pem')}, or run \`keyfront keys generate --out <dir>\`)` : ''}`, EXIT.failed);
  }
  try {
    try {
      await preflight(publisher, config);
    } catch (error) {
      if (!(error instanceof PreflightError)) throw error;
      // Blob storage refusing at once usually means the stack was stopped after it wrote stack.json.
      const hint = error.unreachable ? (explicit ? '' : '; is the local stack still running?') : error.what === 'Blob storage' ? '; is the local stack running?' : '';
      throw new CliError(`${error.message}${hint}`, EXIT.failed);
    }
    const run = await publishExports(publisher, { now, regions: flags.region ? [flags.region] : undefined, waitForLockInMs: waitSeconds * 1000 }).finally(() => progress.stop());
    printJson(run);
    for (const outcome of run.regions) if (outcome.status === 'done') process.stderr.write(`${summaryOf(outcome, !explicit)}\n`);
    const failed = run.regions.filter((outcome) => outcome.status !== 'done');
    if (failed.length > 0) {
      const why = failed.map((o) => (o.status === 'busy' ? `${o.region}: another publisher holds its lock (waited ${waitSeconds} s)` : `${o.region}: ${o.error ?? 'failed'}`));
      throw new CliError(`publishing did not complete: ${why.join('; ')}. Nothing half-published is visible; run again to finish.`, EXIT.failed);
    }
  } finally {
    publisher.close();
    emulatorClient?.dispose();
  }
}

export function registerPublishCommands(program: Command): void {
  program
    .command('publish')
    .description('run the publisher once: closed windows -> signed export files -> index -> purge -> clean-up')
    .option('--once', 'one run, then exit (required: the schedule runs in the Function App or npm start)')
    .option('--now <iso>', 'the publisher clock, ISO 8601 (moves time forward to close the current window)')
    .option('--region <region>', 'publish only this region (one of KEYFRONT_REGIONS)')
    .option('--wait <seconds>', 'wait this long for a region another publisher is working on', '30')
    .option('--verbose', 'log the run (info level) on stderr; by default only warnings and errors (KEYFRONT_LOG_LEVEL overrides)')
    .addHelpText(
      'after',
      '\nTarget: the local stack of KEYFRONT_DATA_DIR (stack.json), or, when KEYFRONT_COSMOS_ENDPOINT is set, the store and storage of the publisher settings.\nExit codes: 0 published (or nothing to do), 1 failed or no stack to publish into (run again: a run finishes what a failed one began), 2 bad arguments or settings.',
    )
    .action(publish);
}
