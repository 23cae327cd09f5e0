/**
 * `keyfront federation import --once`: one import from one peer from the command line, the twin of
 * the publisher app's `importFromPeers` timer. It stores into the local stack of KEYFRONT_DATA_DIR
 * (stack.json), or, with KEYFRONT_COSMOS_ENDPOINT set, into the store and state container of the
 * publisher settings; the next publisher run publishes the keys in our own signed files.
 */
import type { Command } from 'commander';
import { DefaultAzureCredential } from '@azure/identity';
import { createLogger, type LogLevel } from '../../platform/log';
import { namesExposureStore, type PublisherConfig } from '../../publisher/config';
import type { ExposureStore } from '../../exposures/exposure-store';
import { importFromPeer, type FileOutcome, type PeerImportReport } from '../../publisher/federation/import-peer';
import { INDEX_FORMATS, peerProblems, type IndexFormat, type Peer } from '../../publisher/federation/peer';
import { createStateWriter, createStore } from '../../publisher/setup';
import { CliError, EXIT } from '../cli-error';
import { printJson, printLine } from '../cli-io';
import { readPublicKeyFile } from '../cli-key-files';
import { startProgress } from '../cli-progress';
import { localStackDataDir } from '../local-stack/config';
import { localStackEnvironment, localStackStore, publisherConfigOf } from './publish';

interface ImportFlags {
  from: string;
  publicKey: string;
  keyId: string;
  keyVersion: string;
  sourceRegion: string;
  intoRegion: string;
  indexFormat: string;
  peer?: string;
  once?: boolean;
  json?: boolean;
  verbose?: boolean;
}

/** The flag each field of a peer comes from, for messages. */
const FLAG_OF: Record<string, string> = { name: '--peer', indexUrl: '--from', indexFormat: '--index-format', publicKey: '--public-key', keyId: '--key-id', keyVersion: '--key-version', sourceRegion: '--source-region', intoRegion: '--into-region' };

function asFlags(problem: string): string {
  return problem.replace(/^(\w+)/, (field) => FLAG_OF[field] ?? field);
}

/** The peer the flags describe; the first bad flag is a usage error (exit 2). */
async function peerOf(flags: ImportFlags): Promise<Peer> {
  const publicKey = (await readPublicKeyFile(flags.publicKey, '--public-key')).toString('utf8');
  const name = flags.peer ?? `peer-${flags.sourceRegion.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`;
  const peer = { name, indexUrl: flags.from, indexFormat: flags.indexFormat as IndexFormat, publicKey, keyId: flags.keyId, keyVersion: flags.keyVersion, sourceRegion: flags.sourceRegion, intoRegion: flags.intoRegion };
  const problems = peerProblems(peer);
  if (problems.length > 0) throw new CliError(problems.map(asFlags).join('\n'));
  return peer;
}

/** A file's line, printed as it is handled. */
function fileLine(file: FileOutcome): string {
  if (file.status === 'imported') return `imported ${file.path}: ${file.keysNew} new keys`;
  return `${file.status === 'refused' ? 'refused' : 'put off'} (${file.code}) ${file.path}: ${file.reason}`;
}

/** The run's line, for the operator. */
function summaryOf(report: PeerImportReport): string {
  const refused = Object.entries(report.refused).map(([code, count]) => `${count} ${code}`);
  const head = `peer ${report.peer}: ${report.filesImported} file${report.filesImported === 1 ? '' : 's'} imported (${report.keysNew} new keys)${refused.length > 0 ? `, refused: ${refused.join(', ')}` : ''}`;
  switch (report.status) {
    case 'done':
      return `${head}; up to date with the peer's index`;
    case 'behind':
      return `${head}; stopped before a file the peer could not give now (${report.code}): the next run asks again`;
    case 'busy':
      return `peer ${report.peer}: another importer holds this peer; nothing done`;
    case 'failed':
      return `${head}; failed${report.code ? ` (${report.code})` : ''}: ${report.error ?? 'unknown'}`;
  }
}

/** The local stack's Cosmos emulator as a store, with the client to close. */
function emulatorStore(config: PublisherConfig): { store: ExposureStore; close(): void } {
  const { store, client } = localStackStore(config);
  return { store, close: () => client.dispose() };
}

async function importCommand(flags: ImportFlags): Promise<void> {
  if (!flags.once) throw new CliError('federation import runs one pass and exits: pass --once (the schedule runs in the publisher app)');
  // Arguments first: a bad one is exit code 2 whether or not a stack runs.
  const peer = await peerOf(flags);
  const explicit = namesExposureStore(process.env);
  const dataDir = localStackDataDir(process.env);
  const env = explicit ? { ...process.env } : { ...(await localStackEnvironment(dataDir)), ...process.env, KEYFRONT_DATA_DIR: dataDir };
  const config = publisherConfigOf(env);
  if (!config.regions.includes(peer.intoRegion)) throw new CliError(`--into-region ${JSON.stringify(peer.intoRegion)} is not a region this server publishes (${config.regions.join(', ')}; KEYFRONT_REGIONS)`);

  const shown: LogLevel = flags.verbose ? 'info' : 'warn';
  const logger = createLogger('federation', { level: shown, write: (line) => process.stderr.write(`${line}\n`) });
  let azureCredential: DefaultAzureCredential | undefined;
  const credential = () => (azureCredential ??= new DefaultAzureCredential());
  const { store, close } = explicit ? createStore(config, credential) : emulatorStore(config);
  const state = createStateWriter(config, credential);
  const progress = startProgress(`files of ${peer.name}`, 0);
  let report: PeerImportReport;
  try {
    await state.ensureContainer({ publicRead: false }).catch((error: unknown) => {
      throw new CliError(`cannot reach the state container (Blob storage): ${(error as Error).message}${explicit ? '' : '; is the local stack still running?'}`, EXIT.failed);
    });
    report = await importFromPeer(peer, { store, state, logger }, {
      peerTimeoutInMs: config.federation.peerTimeoutInMs,
      leaseSeconds: config.leaseSeconds,
      onFile: (file, total) => {
        progress.setTotal(total);
        progress.tick();
        if (!flags.json) printLine(fileLine(file));
      },
    });
  } finally {
    progress.stop();
    close();
  }
  if (flags.json) printJson(report);
  else printLine(summaryOf(report));
  if (report.status === 'failed' || report.status === 'busy') throw new CliError(summaryOf(report), EXIT.failed);
}

export function registerFederationCommands(program: Command): void {
  const federation = program.command('federation').description("import other servers' published export files, so our phones get the keys of neighbouring regions");
  federation
    .command('import')
    .description("read a peer's index, verify each new file strictly with the peer's key (the rules of `export verify`) and store its keys into one of our regions; our publisher then publishes them in our own signed files")
    .requiredOption('--from <url>', "the peer's index.txt, e.g. https://peer.example/v1/DE/index.txt")
    .requiredOption('--public-key <file>', "the peer's P-256 public key, PEM (SPKI) or JWK JSON")
    .requiredOption('--key-id <id>', "the verification_key_id the peer's files are signed under")
    .requiredOption('--key-version <version>', "the verification_key_version the peer's files are signed under")
    .requiredOption('--source-region <region>', "the region the peer's files must carry")
    .requiredOption('--into-region <region>', 'our region the keys go to (one of KEYFRONT_REGIONS)')
    .option('--index-format <format>', `how the index names files: ${INDEX_FORMATS.join(' or ')} (Google's reference server: paths relative to the bucket root)`, 'keyfront')
    .option('--peer <name>', 'the name progress is kept under (default: peer-{source region})')
    .option('--once', 'one pass, then exit (required: the schedule runs in the publisher app)')
    .option('--json', 'print the report as JSON instead of lines')
    .option('--verbose', 'log each file (info level) on stderr')
    .addHelpText(
      'after',
      `\nTarget: the local stack of KEYFRONT_DATA_DIR (stack.json), or, when KEYFRONT_COSMOS_ENDPOINT is set, the store and state container of the publisher settings.\nRefusal codes (the file is never imported): signature_invalid and the other codes of \`export verify\`, wrong_region, rolling_start_too_old, rolling_start_in_future, file_too_large.\nPut off to the next run: file_missing (404), peer_timeout (KEYFRONT_PEER_TIMEOUT_MS), peer_unreachable, peer_error, html_answer.\nExit codes: 0 imported (or nothing new, or behind a file the peer could not give now), 1 failed (the index, storage) or another importer holds the peer, 2 bad arguments, key file or settings.`,
    )
    .action(importCommand);
}
