/**
 * The Azure drills against the ARM stand-in: each reads before it acts, refuses what would lose
 * data or take a route down, acts only when confirmed, verifies after, and the rollbacks undo.
 */
import { azureDrill, azureRollback, parseAzureTarget, type AzureRuntime } from '../../scripts/drills/azure/azure-drills';
import type { DrillProgress } from '../../scripts/drills/plan';
import type { DrillName } from '../../scripts/drills/report';
import { startArmDrillStandIn, type ArmDrillStandIn } from '../support/arm-drill-stand-in';

let arm: ArmDrillStandIn;
const quiet: DrillProgress = { step: () => undefined, note: () => undefined };
const runtime = (extra: Partial<AzureRuntime> = {}): AzureRuntime => ({ credential: arm.credential, clientOptions: arm.clientOptions(), pollIntervalInMs: 5, ...extra });
const target = (drill: DrillName, flags: Record<string, unknown>) => parseAzureTarget(drill, { subscription: arm.subscriptionId, resourceGroup: 'keyfront-prod', yes: true, ...flags });

beforeAll(async () => {
  arm = await startArmDrillStandIn();
});
afterAll(async () => {
  await arm?.stop();
});
beforeEach(() => {
  arm.storage.set('kfexports', { sku: 'Standard_RAGZRS', primaryLocation: 'japaneast', secondaryLocation: 'japanwest', status: 'Live', canFailover: true, canPlannedFailover: true, lastSyncTime: new Date(Date.now() - 30_000).toISOString() });
  arm.cosmos.set('kfcosmos', { regions: ['Japan East', 'Japan West'] });
  arm.origins.set('kf-fd/api/api-east', { enabledState: 'Enabled', hostName: 'kf-api-east.azurewebsites.net', priority: 1 });
  arm.origins.set('kf-fd/api/api-west', { enabledState: 'Enabled', hostName: 'kf-api-west.azurewebsites.net', priority: 2 });
  arm.violations.length = 0;
  arm.requests.length = 0;
});

describe('azure storage drill', () => {
  it('fails the account over (planned) after checking geo-replication, and verifies the new primary', async () => {
    const report = await azureDrill(target('storage', { account: 'kfexports' }), runtime()).execute(quiet);
    expect(report).toMatchObject({ drill: 'storage', target: 'azure', passed: true, rpoSeconds: 0, details: { primaryBefore: 'japaneast', primaryAfter: 'japanwest' } });
    expect(Number.isNaN(report.failedSyncs)).toBe(true);
    expect(arm.storage.get('kfexports')).toMatchObject({ primaryLocation: 'japanwest', sku: 'Standard_RAGZRS' });
    const failover = arm.requests.find((r) => r.method === 'POST');
    expect(failover?.path).toMatch(/\/providers\/Microsoft\.Storage\/storageAccounts\/kfexports\/failover$/);
    expect(failover?.query).toContain('failoverType=Planned');
    expect(arm.requests.find((r) => r.method === 'GET')?.query).toContain('$expand=geoReplicationStats');
    expect(arm.violations).toEqual([]);
  });

  it.each([
    ['the secondary is not live', { status: 'Bootstrap' as const }, /not Live/],
    ['a planned failover is not possible', { canPlannedFailover: false }, /cannot do a planned failover/],
    ['the account is not geo-redundant', { sku: 'Standard_LRS' }, /only geo-redundant accounts/],
  ])('refuses when %s, and changes nothing', async (_why, state, message) => {
    Object.assign(arm.storage.get('kfexports')!, state);
    await expect(azureDrill(target('storage', { account: 'kfexports' }), runtime()).execute(quiet)).rejects.toThrow(message);
    expect(arm.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('acts only when the operator types the account name, and not at all without a terminal or --yes', async () => {
    const options = target('storage', { account: 'kfexports', yes: false });
    await expect(azureDrill(options, runtime({ ask: async () => 'no' })).execute(quiet)).rejects.toThrow(/not confirmed/);
    await expect(azureDrill(options, runtime()).execute(quiet)).rejects.toThrow(/without confirmation/);
    expect(arm.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    const report = await azureDrill(options, runtime({ ask: async () => 'kfexports' })).execute(quiet);
    expect(report.passed).toBe(true);
  });
});

describe('azure cosmos drill', () => {
  it('moves the write region to the next priority and back with the rollback', async () => {
    const report = await azureDrill(target('cosmos', { account: 'kfcosmos' }), runtime()).execute(quiet);
    expect(report).toMatchObject({ passed: true, details: { writeRegionBefore: 'Japan East', writeRegionAfter: 'Japan West' } });
    expect(arm.cosmos.get('kfcosmos')!.regions).toEqual(['Japan West', 'Japan East']);
    expect(await azureRollback(target('cosmos', { account: 'kfcosmos', region: 'Japan East' }), runtime())).toContain('Japan West -> Japan East');
    expect(arm.cosmos.get('kfcosmos')!.regions).toEqual(['Japan East', 'Japan West']);
    expect(arm.violations).toEqual([]);
  });

  it('refuses an account with one region, and a region the account does not have', async () => {
    arm.cosmos.set('kfcosmos', { regions: ['Japan East'] });
    await expect(azureDrill(target('cosmos', { account: 'kfcosmos' }), runtime()).execute(quiet)).rejects.toThrow(/needs two or more/);
    arm.cosmos.set('kfcosmos', { regions: ['Japan East', 'Japan West'] });
    await expect(azureDrill(target('cosmos', { account: 'kfcosmos', region: 'West Europe' }), runtime()).execute(quiet)).rejects.toThrow(/not one of the account's regions/);
    expect(arm.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});

describe('azure origin drill', () => {
  const flags = { profile: 'kf-fd', originGroup: 'api', origin: 'api-east' };

  it('disables the origin, and the rollback enables it again', async () => {
    const report = await azureDrill(target('origin', flags), runtime()).execute(quiet);
    expect(report).toMatchObject({ passed: true, details: { enabledStateAfter: 'Disabled', remainingOrigins: 1 } });
    expect(arm.origins.get('kf-fd/api/api-east')!.enabledState).toBe('Disabled');
    expect(await azureRollback(target('origin', flags), runtime())).toContain('Disabled -> Enabled');
    expect(arm.origins.get('kf-fd/api/api-east')!.enabledState).toBe('Enabled');
    expect(arm.violations).toEqual([]);
  });

  it('refuses to disable the last enabled origin of a group', async () => {
    arm.origins.get('kf-fd/api/api-west')!.enabledState = 'Disabled';
    await expect(azureDrill(target('origin', flags), runtime()).execute(quiet)).rejects.toThrow(/only enabled origin/);
    expect(arm.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});

describe('azure drill options', () => {
  it.each([
    ['storage', { account: undefined }, /--account is required/],
    ['origin', { profile: 'kf-fd', originGroup: 'api' }, /--origin is required/],
    ['cosmos', { account: 'bad name!' }, /must be an Azure resource name/],
    ['cosmos', { account: 'kfcosmos', subscription: 'not-a-guid' }, /must be a subscription ID/],
  ] as const)('%s with %j is refused before anything is called', (drill, flags, message) => {
    expect(() => parseAzureTarget(drill, { subscription: arm.subscriptionId, resourceGroup: 'rg', ...flags })).toThrow(message);
  });
});
