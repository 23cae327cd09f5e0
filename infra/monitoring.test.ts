/** The monitoring resources as they land in the compiled deployment templates, read as JSON. */
import { API_VERSIONS } from './api-versions';
import type { ArmResource, ArmTemplate } from './arm';
import { checkTemplate } from './check';
import { FRONT_DOOR_LOG_CATEGORIES, THRESHOLDS, WORKBOOK_PANELS } from './monitoring';
import { deploymentNames, deploymentProfile } from './profiles';
import { compileDeployment } from './template';
import { METRIC } from '../platform/metrics';

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

  it('alerts on publish lag, a silent publisher, purge failures and upload refusal spikes, over the workspace, with the profile thresholds', () => {
    const rules = new Map(ofType(template, 'Microsoft.Insights/scheduledQueryRules').map((rule) => [rule.name.slice(profile.namePrefix.length + 1), rule]));
    expect([...rules.keys()].sort()).toEqual(['publish-lag', 'publisher-silent', 'purge-failures', 'upload-refusal-spike']);
    const criterion = (rule: string) => props(rules.get(rule)!).criteria.allOf[0];
    for (const rule of rules.values()) {
      expect(rule.kind).toBe('LogAlert');
      expect(props(rule).scopes).toEqual([workspaceId]);
      expect(props(rule).enabled).toBe(true);
      expect(props(rule).description.length).toBeGreaterThan(40);
    }
    expect(criterion('publish-lag')).toMatchObject({ operator: 'GreaterThan', threshold: thresholds.publishLagSeconds, metricMeasureColumn: 'LagSeconds', timeAggregation: 'Maximum', dimensions: [{ name: 'Region', operator: 'Include', values: ['*'] }] });
    expect(criterion('publish-lag').query).toContain(`Name == '${METRIC.publishLag.name}'`);
    expect(criterion('publisher-silent')).toMatchObject({ operator: 'LessThan', threshold: 1, metricMeasureColumn: 'Runs' });
    expect(props(rules.get('publisher-silent')!).windowSize).toBe(`PT${thresholds.publisherSilentMinutes}M`);
    expect(criterion('publisher-silent').query).toContain(`Name == '${METRIC.publishRuns.name}'`);
    expect(criterion('purge-failures')).toMatchObject({ operator: 'GreaterThan', threshold: thresholds.purgeFailuresPerHour });
    expect(criterion('purge-failures').query).toContain(`Name == '${METRIC.purgeFailures.name}'`);
    expect(criterion('upload-refusal-spike')).toMatchObject({ operator: 'GreaterThan', threshold: thresholds.uploadRefusedPercent, metricMeasureColumn: 'RefusedPercent' });
    expect(criterion('upload-refusal-spike').query).toContain(`Uploads >= ${thresholds.minimumUploads}`);
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

  it('sends Front Door access, health-probe and WAF logs, and the Key Vault audit log, to the workspace', () => {
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
    expect(text).toContain("MetricName in ('RequestCount', 'OriginRequestCount')");
    expect(text).toMatch(/HitRatioPercent/);
    expect(text).toMatch(/OriginRequests/);
  });

  it('names only instruments the apps record', () => {
    const known = new Set<string>(Object.values(METRIC).map((metric) => metric.name));
    const text = JSON.stringify(template.resources.filter((resource) => resource.type.startsWith('Microsoft.Insights/')));
    for (const used of text.match(/keyfront\.[a-z.]+[a-z]/g) ?? []) expect(known.has(used)).toBe(true);
  });
});
