/**
 * The local failover drills, run for real on their own emulators and edge (shortened): each ends
 * with nothing lost, nothing dangling, nothing published twice, and phones that synced throughout.
 * The cosmos drill runs through the CLI with `--json`, as an operator would.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { originDrill, ORIGIN_DRILL_DEFAULTS } from '../../scripts/drills/local/origin';
import { storageDrill, STORAGE_DRILL_DEFAULTS } from '../../scripts/drills/local/storage';
import type { DrillProgress } from '../../scripts/drills/plan';
import type { DrillReport } from '../../scripts/drills/report';
import { runKeyfront, STACK_TRACE } from '../support/cli';

jest.setTimeout(180_000);

const steps: string[] = [];
const progress: DrillProgress = { step: (_i, step) => steps.push(step.title), note: () => undefined };

function expectWhole(report: DrillReport): void {
  expect({ failedSyncs: report.failedSyncs, lostUploads: report.lostUploads, danglingIndexEntries: report.danglingIndexEntries, duplicateKeys: report.duplicateKeys }).toEqual({ failedSyncs: 0, lostUploads: 0, danglingIndexEntries: 0, duplicateKeys: 0 });
  expect(Number.isFinite(report.rtoSeconds)).toBe(true);
  expect(report.rpoSeconds).toBeGreaterThanOrEqual(0);
  expect(report.passed).toBe(true);
}

describe('local failover drills', () => {
  it('storage: the primary dies, reads fail over, the secondary is promoted, and what only the primary held is published again', async () => {
    steps.length = 0;
    const report = await storageDrill({ ...STORAGE_DRILL_DEFAULTS, phones: 20, steadyInMs: 10_000, outageInMs: 4000, recoveryInMs: 6000, replicationLagInMs: 4000 }).execute(progress);
    expect(steps).toEqual(['start', 'steady', 'cut', 'outage', 'promote', 'recovery', 'drain and audit']);
    expectWhole(report);
    const details = report.details as Record<string, number>;
    // Phones read again through the secondary before the publisher could write again.
    expect(details.readRtoSeconds).toBeLessThan(details.publishRtoSeconds);
    expect(details.publishRtoSeconds).toBeGreaterThanOrEqual(4);
    // Every phone ends with every file of the index; every accepted key was published.
    expect(details.phonesInSyncAtEnd).toBe(20);
    expect(details.keysPublished).toBeGreaterThanOrEqual(details.keysAccepted);
    expect(details.lastSyncAgeAtCutSeconds).toBeGreaterThanOrEqual(4);
  });

  it('origin: the primary API origin dies during uploads; uploads shift to the secondary without a lost upload', async () => {
    const report = await originDrill({ ...ORIGIN_DRILL_DEFAULTS, phones: 10, uploaders: 3, steadyInMs: 6000, afterInMs: 8000 }).execute(progress);
    expectWhole(report);
    const details = report.details as Record<string, number>;
    expect(details.uploadsFailedAfterRetries).toBe(0);
    expect(details.uploadsAfterCut).toBeGreaterThan(0);
    expect(details.uploadsAccepted).toBeGreaterThan(0);
  });

  it('cosmos, through the CLI: 503 with Retry-After during the outage, phones retry, nothing accepted is lost, JSON written', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'keyfront-drill-'));
    try {
      const file = path.join(dir, 'r.json');
      const run = await runKeyfront(['drill', 'cosmos', '--local', '--execute', '--phones', '10', '--outage-seconds', '3', '--json', file], { timeoutInMs: 170_000 });
      expect(run.stdout).toContain('PASSED: cosmos drill (local)');
      expect(run.stderr).not.toMatch(STACK_TRACE);
      expect(run.status).toBe(0);
      const report = JSON.parse(await readFile(file, 'utf8')) as DrillReport;
      expectWhole(report);
      expect(report.details).toMatchObject({ uploadsFailedAfterRetries: 0, answers503WithoutRetryAfter: 0 });
      expect(report.details.answers503WithRetryAfter).toBeGreaterThan(0);
      expect(report.details.publishRunsFailedDuringOutage).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('keyfront drill, dry runs and bad input', () => {
  it.each(['storage', 'cosmos', 'origin'])('%s prints its plan and starts nothing without --execute', async (name) => {
    const run = await runKeyfront(['drill', name]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`${name} drill (local)`);
    expect(run.stdout).toContain('dry run: nothing was started or changed');
  });

  it.each([
    [['drill', 'network'], /unknown drill "network"/],
    [['drill', 'storage', '--phones', '0'], /--phones must be a whole number from 1 to 5000/],
    [['drill', 'storage', '--local', '--azure'], /choose --local or --azure/],
    [['drill', 'origin', '--outage-seconds', '5'], /does not apply to the origin drill/],
    [['drill', 'cosmos', '--lag-seconds', '5'], /applies to the storage drill only/],
    [['drill', 'storage', '--azure', '--subscription', 'x'], /must be a subscription ID/],
    [['drill', 'rollback', 'storage', '--subscription', '00000000-0000-0000-0000-000000000000'], /has no rollback/],
  ])('keyfront %j exits 2 with a clear message', async (args, message) => {
    const run = await runKeyfront(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });

  it("fails an Azure drill whose checks cannot reach Azure with exit 1 and a message, having changed nothing", async () => {
    const run = await runKeyfront(['drill', 'cosmos', '--azure', '--execute', '--subscription', '00000000-0000-0000-0000-000000000000', '--resource-group', 'rg', '--account', 'acc', '--arm-endpoint', 'https://127.0.0.1:9']);
    // No credential and no ARM here: the read-only check fails before anything could be confirmed or changed.
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^keyfront: /m);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });
});
