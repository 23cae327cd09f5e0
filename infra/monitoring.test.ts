/** The monitoring resources as they land in the compiled deployment templates, read as JSON. */
import { API_VERSIONS } from './api-versions';
import type { ArmResource, ArmTemplate } from './arm';
import { checkTemplate } from './check';
import { FRONT_DOOR_LOG_CATEGORIES, logAlerts, regionStaleMinutes, schedulePeriodMinutes, THRESHOLDS, WORKBOOK_PANELS } from './monitoring';
import { deploymentNames, deploymentProfile } from './profiles';
import { compileDeployment } from './template';
import { METRIC } from '../platform/metrics';
import { isoDurationMs } from '../test/support/alert-evaluation';
import { runKql, type KqlRow } from '../test/support/kql';

const ofType = (template: ArmTemplate, type: string): ArmResource[] => template.resources.filter((resource) => resource.type === type);
const props = (resource: ArmResource) => resource.properties as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.each(['prod', 'dev'] as const)('monitoring in the %s template', (name) => {
  const profile = deploymentProfile(name);
  const names = deploymentNames(profile);
  const template = compileDeployment(profile);
  const thresholds = THRESHOLDS[name];
  const workspaceId = `[resourceId('Microsoft.OperationalInsights/workspaces', '${names.logAnalytics}')]`;
  const actionGroupId = `[resourceId('Microsoft.Insights/actionGroups', '${profile.namePrefix}-alerts')]`;

  it('passes the schema check, each monitoring type at the apiVersion of its reference page', () => {
    expect(checkTemplate(template)).toEqual([]);
    for (const type of ['Microsoft.Insights/workbooks', 'Microsoft.Insights/scheduledQueryRules', 'Microsoft.Insights/metricAlerts', 'Microsoft.Insights/actionGroups', 'Microsoft.Insights/diagnosticSettings']) {
      const resources = ofType(template, type);
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources) expect(resource.apiVersion).toBe(API_VERSIONS[type].apiVersion);
    }
  });

  it('has an action group placeholder every alert notifies', () => {
    const [group] = ofType(template, 'Microsoft.Insights/actionGroups');
    expect(group).toMatchObject({ name: `${profile.namePrefix}-alerts`, location: 'Global' });
    expect(props(group).groupShortName.length).toBeLessThanOrEqual(12);
    expect(props(group).enabled).toBe(true);
    for (const rule of ofType(template, 'Microsoft.Insights/scheduledQueryRules')) {
      expect(props(rule).actions.actionGroups).toEqual([actionGroupId]);
      expect(rule.dependsOn).toEqual(expect.arrayContaining([actionGroupId, workspaceId]));
    }
    const [metricAlert] = ofType(template, 'Microsoft.Insights/metricAlerts');
    expect(props(metricAlert).actions).toEqual([{ actionGroupId }]);
    expect(metricAlert.dependsOn).toEqual(expect.arrayContaining([actionGroupId]));
  });

  it('alerts on failing uploads and register calls, stale regions, publishing, purges, store, blob and signing errors, stale or refused federation peers, over the workspace, each with its runbook', () => {
    const rules = new Map(ofType(template, 'Microsoft.Insights/scheduledQueryRules').map((rule) => [rule.name.slice(profile.namePrefix.length + 1), rule]));
    expect([...rules.keys()]).toEqual(logAlerts(thresholds).map((alert) => alert.name));
    expect([...rules.keys()].sort()).toEqual(['blob-errors', 'peer-refusals', 'peer-stale', 'publish-lag', 'publisher-silent', 'purge-failures', 'region-stale', 'register-failures', 'signing-failures', 'store-errors', 'upload-failures', 'upload-refusal-spike', 'uploads-all-failing']);
    const criterion = (rule: string) => props(rules.get(rule)!).criteria.allOf[0];
    for (const rule of rules.values()) {
      expect(rule.kind).toBe('LogAlert');
      expect(props(rule).scopes).toEqual([workspaceId]);
      expect(props(rule).enabled).toBe(true);
      // A runbook: what it means and where to look.
      expect(props(rule).description.length).toBeGreaterThan(150);
      expect(props(rule).windowSize).toMatch(/^PT(5|10|15|30|45)M$|^PT[1-6]H$|^P[12]D$/);
    }
    expect(criterion('upload-failures')).toMatchObject({ operator: 'GreaterThan', threshold: thresholds.uploadFailedPercent, metricMeasureColumn: 'FailedPercent' });
    expect(criterion('upload-failures').query).toContain(`Failed + Stored >= ${thresholds.minimumUploads}`);
    expect(criterion('uploads-all-failing')).toMatchObject({ operator: 'GreaterThanOrEqual', threshold: thresholds.allUploadsFailing, metricMeasureColumn: 'Failed', timeAggregation: 'Total' });
    expect(criterion('region-stale')).toMatchObject({ metricMeasureColumn: 'Runs', dimensions: [{ name: 'Region', operator: 'Include', values: ['*'] }] });
    expect(isoDurationMs(props(rules.get('region-stale')!).windowSize)).toBe(regionStaleMinutes(thresholds) * 60_000);
    expect(criterion('publish-lag')).toMatchObject({ operator: 'GreaterThan', threshold: thresholds.publishLagSeconds, metricMeasureColumn: 'LagSeconds', timeAggregation: 'Maximum', dimensions: [{ name: 'Region', operator: 'Include', values: ['*'] }] });
    expect(criterion('publish-lag').query).toContain(`Name == '${METRIC.publishLag.name}'`);
    expect(props(rules.get('publish-lag')!).description).toContain(METRIC.storeDuration.name);
    expect(criterion('publisher-silent')).toMatchObject({ operator: 'LessThan', threshold: 1, metricMeasureColumn: 'Runs' });
    expect(criterion('purge-failures')).toMatchObject({ operator: 'GreaterThan', threshold: thresholds.purgeFailuresPerHour });
    expect(criterion('upload-refusal-spike')).toMatchObject({ operator: 'GreaterThan', threshold: thresholds.uploadRefusedPercent, metricMeasureColumn: 'RefusedPercent' });
    expect(criterion('upload-refusal-spike').query).toContain(`Uploads >= ${thresholds.minimumUploads}`);
    expect(criterion('store-errors').query).toContain(`Name == '${METRIC.storeDuration.name}'`);
    expect(criterion('signing-failures').query).toContain(`Name == '${METRIC.signingFailures.name}'`);
    // One alert per peer.
    expect(criterion('peer-stale')).toMatchObject({ operator: 'GreaterThan', threshold: 0, dimensions: [{ name: 'Peer', operator: 'Include', values: ['*'] }] });
    expect(props(rules.get('peer-stale')!).windowSize).toBe(thresholds.peerStaleHours === 24 ? 'P1D' : `PT${thresholds.peerStaleHours}H`);
    expect(criterion('peer-refusals')).toMatchObject({ operator: 'GreaterThan', threshold: thresholds.peerRefusalsPer6Hours, dimensions: [{ name: 'Peer', operator: 'Include', values: ['*'] }] });
  });

  it("alerts on the edge's 5xx rate with a metric alert on the Front Door profile", () => {
    const [alert] = ofType(template, 'Microsoft.Insights/metricAlerts');
    const profileId = `[resourceId('Microsoft.Cdn/profiles', '${names.frontDoorProfile}')]`;
    expect(alert.location).toBe('global');
    expect(props(alert).scopes).toEqual([profileId]);
    expect(props(alert).criteria).toEqual({
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria',
      allOf: [{ criterionType: 'StaticThresholdCriterion', name: 'Percentage5XX', metricNamespace: 'Microsoft.Cdn/profiles', metricName: 'Percentage5XX', operator: 'GreaterThan', threshold: thresholds.edge5xxPercent, timeAggregation: 'Average' }],
    });
    expect(alert.dependsOn).toEqual(expect.arrayContaining([profileId]));
  });

  it("sends Front Door's health-probe log and metrics (not its access or WAF log), and the Key Vault audit log, to the workspace", () => {
    const settings = ofType(template, 'Microsoft.Insights/diagnosticSettings');
    const edge = settings.find((setting) => setting.scope === `Microsoft.Cdn/profiles/${names.frontDoorProfile}`)!;
    expect(props(edge).workspaceId).toBe(workspaceId);
    expect(props(edge).logs).toEqual(FRONT_DOOR_LOG_CATEGORIES.map((category) => ({ category, enabled: true })));
    // No category that carries client IP addresses (the access and WAF logs do): their figures come from the metrics.
    expect(FRONT_DOOR_LOG_CATEGORIES).toEqual(['FrontDoorHealthProbeLog']);
    expect(props(edge).metrics).toEqual([{ category: 'AllMetrics', enabled: true }]);
    expect(edge.dependsOn).toEqual(expect.arrayContaining([`[resourceId('Microsoft.Cdn/profiles', '${names.frontDoorProfile}')]`, workspaceId]));
    const vault = settings.find((setting) => setting.scope === `Microsoft.KeyVault/vaults/${names.keyVault}`)!;
    expect(props(vault).logs).toEqual([{ category: 'AuditEvent', enabled: true }]);
  });

  it('has a shared workbook on the workspace with uploads, refusals, publish lag, edge hit ratio and origin requests', () => {
    const [workbook] = ofType(template, 'Microsoft.Insights/workbooks');
    expect(workbook.kind).toBe('shared');
    expect(workbook.name).toMatch(/^\[guid\(/);
    expect(props(workbook)).toMatchObject({ category: 'workbook', version: 'Notebook/1.0', sourceId: workspaceId });
    const content = JSON.parse(props(workbook).serializedData) as { version: string; items: Array<{ type: number; content: { query?: string; title?: string } }> };
    expect(content.version).toBe('Notebook/1.0');
    const queries = content.items.filter((item) => item.type === 3).map((item) => item.content);
    expect(queries.map((query) => query.title)).toEqual(WORKBOOK_PANELS.map((panel) => panel.title));
    const text = queries.map((query) => query.query).join('\n');
    for (const metric of [METRIC.uploads, METRIC.certificateFailures, METRIC.publishLag]) expect(text).toContain(`'${metric.name}'`);
    expect(text).not.toContain('FrontDoorAccessLog');
    expect(text).toContain("MetricName in ('RequestCount', 'OriginRequestCount', 'Percentage4XX')");
    expect(text).toMatch(/HitRatioPercent/);
    expect(text).toMatch(/OriginRequests/);
  });

  it('names only instruments the apps record', () => {
    const known = new Set<string>(Object.values(METRIC).map((metric) => metric.name));
    const text = JSON.stringify(template.resources.filter((resource) => resource.type.startsWith('Microsoft.Insights/')));
    for (const used of text.match(/keyfront\.[a-z.]+[a-z]/g) ?? []) expect(known.has(used)).toBe(true);
  });
});

describe('the staleness window, from the publisher schedule', () => {
  it.each([
    ['0 */15 * * * *', 15],
    ['0 */5 * * * *', 5],
    ['0 * * * * *', 1],
  ])('%s runs every %i minutes', (schedule, minutes) => {
    expect(schedulePeriodMinutes(schedule)).toBe(minutes);
  });

  it.each(['0 0 * * * *', '0 */7 * * * *', '*/10 * * * * *', '0 */15 9-17 * * *', 'hourly'])('refuses %s, which is not every N minutes, naming it', (schedule) => {
    expect(() => schedulePeriodMinutes(schedule)).toThrow(schedule);
  });

  it('allows the runs a profile may miss plus a run deadline, rounded up to an alert window', () => {
    // prod: 2 runs of 15 minutes and 9 minutes of deadline = 39, so 45; dev: 3 runs, 54, so 60.
    expect([regionStaleMinutes(THRESHOLDS.prod), regionStaleMinutes(THRESHOLDS.dev)]).toEqual([45, 60]);
    expect(regionStaleMinutes(THRESHOLDS.prod, '0 */5 * * * *', 120)).toBe(15);
  });
});

describe("the workbook's device attestations", () => {
  const panel = WORKBOOK_PANELS.find((item) => item.title.startsWith('Device attestations'))!;
  const row = (mode: string, platform: string, code: string, Sum: number): KqlRow => ({ TimeGenerated: new Date(Date.UTC(2026, 10, 30, 12)), Name: METRIC.attestations.name, Sum, Properties: { mode, platform, code } });

  it('counts the checked uploads by mode, platform and code, the most frequent first (what enforce would refuse, before it is on)', () => {
    const rows = [row('report', 'android', 'ok', 40), row('report', 'android', 'ok', 2), row('report', 'none', 'attestation_required', 7), row('enforce', 'ios', 'attestation_invalid', 1), { ...row('report', 'android', 'ok', 5), Name: METRIC.uploads.name }];
    expect(runKql(panel.query, { AppMetrics: rows }, new Date(Date.UTC(2026, 10, 30, 13)))).toEqual([
      { Mode: 'report', Platform: 'android', Code: 'ok', Uploads: 42 },
      { Mode: 'report', Platform: 'none', Code: 'attestation_required', Uploads: 7 },
      { Mode: 'enforce', Platform: 'ios', Code: 'attestation_invalid', Uploads: 1 },
    ]);
  });
});

describe("the workbook's edge hit ratio", () => {
  const panel = WORKBOOK_PANELS.find((item) => item.title.startsWith('Edge hit ratio'))!;
  const minute = (at: number, requests: number, originRequests: number, percent4xx: number): KqlRow[] => {
    const TimeGenerated = new Date(Date.UTC(2026, 10, 30, 12, at));
    const row = (MetricName: string, Total: number, Average: number) => ({ TimeGenerated, ResourceProvider: 'MICROSOFT.CDN', MetricName, Total, Average });
    return [row('RequestCount', requests, requests), row('OriginRequestCount', originRequests, originRequests), row('Percentage4XX', 0, percent4xx)];
  };
  const ratio = (rows: KqlRow[]) => runKql(panel.query, { AzureMetrics: rows }, new Date(Date.UTC(2026, 10, 30, 13)))[0].HitRatioPercent;

  it('is the share of the requests the edge did not refuse that it answered from its cache', () => {
    // 10,000 reads a minute, 10 to the origin: 99.9%.
    expect(ratio([...minute(0, 10_000, 10, 0), ...minute(1, 10_000, 10, 0)])).toBe(99.9);
  });

  it('does not count requests the edge refused (WAF blocks, rate limits: 4xx) as hits', () => {
    // The same reads plus 10,000 blocked requests a minute: still 99.9%, not 99.95%.
    expect(ratio([...minute(0, 20_000, 10, 50), ...minute(1, 20_000, 10, 50)])).toBe(99.9);
  });
});
