/**
 * Telemetry as code: what an operator sees and what wakes them, compiled into the deployment by
 * `monitoringResources(ctx)`. A workbook (uploads, refusals, publish lag, edge hit ratio and
 * origin requests), log alerts on the apps' metrics (publish lag, a silent publisher, purge
 * failures, upload refusal spikes), a metric alert on the edge's 5xx rate, an action group to
 * route them (a placeholder until the operator adds receivers), and diagnostic settings sending
 * Front Door access, health-probe and WAF logs and the Key Vault audit log to the workspace.
 *
 * Queries read the workspace tables: `AppMetrics` (the apps' `keyfront.*` instruments, see
 * platform/metrics.ts; `Sum`, `Max`, `ItemCount`, dimensions in `Properties`) and
 * `AzureDiagnostics` (Front Door logs). Types and apiVersions are rows of infra/api-versions.ts,
 * each read from its template reference page.
 */
import { METRIC } from '../platform/metrics';
import { apiVersionOf } from './api-versions';
import { resourceId, type ArmResource, type MonitoringContext } from './arm';

/** An alert's promise: when it fires and how loud. Thresholds per profile (dev is quieter). */
export interface AlertThresholds {
  /** Seconds from the newest key's embargo end to its file being listed: a window, the margin and a timer period are normal. */
  publishLagSeconds: number;
  /** Minutes without a completed publisher run. */
  publisherSilentMinutes: number;
  /** Purges that failed after their retries, per region, in an hour (one failure is retried by the next run). */
  purgeFailuresPerHour: number;
  /** Percent of edge answers that are 5xx, averaged over 15 minutes. */
  edge5xxPercent: number;
  /** Percent of uploads refused in 15 minutes, once at least `minimumUploads` arrived. */
  uploadRefusedPercent: number;
  minimumUploads: number;
}

export const THRESHOLDS: Readonly<Record<MonitoringContext['profile'], AlertThresholds>> = {
  // Windows of an hour, a 5-minute margin and a 15-minute timer: a key waits at most ~1 h 20 min.
  prod: { publishLagSeconds: 2 * 3600, publisherSilentMinutes: 60, purgeFailuresPerHour: 1, edge5xxPercent: 1, uploadRefusedPercent: 50, minimumUploads: 20 },
  dev: { publishLagSeconds: 3 * 3600, publisherSilentMinutes: 120, purgeFailuresPerHour: 2, edge5xxPercent: 5, uploadRefusedPercent: 80, minimumUploads: 10 },
};

function appMetric(name: string): string {
  return `AppMetrics | where Name == '${name}'`;
}

/** Front Door's platform metrics as its diagnostic setting (`AllMetrics`) sends them to the workspace. */
const frontDoorMetric = (names: string) => `AzureMetrics | where ResourceProvider == 'MICROSOFT.CDN' and MetricName in (${names})`;

/** The workbook's panels: a title and a KQL query over the workspace each. */
export const WORKBOOK_PANELS: ReadonlyArray<{ title: string; query: string; visualization: 'timechart' | 'barchart' | 'table' }> = [
  { title: 'Uploads by result', visualization: 'timechart', query: `${appMetric(METRIC.uploads.name)} | summarize Uploads = sum(Sum) by bin(TimeGenerated, 1h), Result = tostring(Properties.result)` },
  { title: 'Refused uploads by code', visualization: 'barchart', query: `${appMetric(METRIC.uploads.name)} | where tostring(Properties.result) in ('refused', 'failed') | summarize Uploads = sum(Sum) by Code = tostring(Properties.code) | order by Uploads desc` },
  { title: 'Certificate failures by reason', visualization: 'barchart', query: `${appMetric(METRIC.certificateFailures.name)} | summarize Failures = sum(Sum) by Reason = tostring(Properties.reason) | order by Failures desc` },
  { title: 'Publish lag (seconds, worst per hour)', visualization: 'timechart', query: `${appMetric(METRIC.publishLag.name)} | summarize LagSeconds = max(Max) by bin(TimeGenerated, 1h), Region = tostring(Properties.region)` },
  { title: 'Published files and keys', visualization: 'timechart', query: `AppMetrics | where Name in ('${METRIC.publishFiles.name}', '${METRIC.publishKeys.name}') | summarize Total = sum(Sum) by bin(TimeGenerated, 1h), Name` },
  { title: 'Purges and their failures', visualization: 'timechart', query: `AppMetrics | where Name in ('${METRIC.purgeAttempts.name}', '${METRIC.purgeFailures.name}') | summarize Total = sum(Sum) by bin(TimeGenerated, 1h), Name` },
  // From Front Door's platform metrics (AzureMetrics), not its access log: the access log carries each client's IP address, which keyfront never keeps.
  { title: 'Edge hit ratio (percent of requests answered from the cache)', visualization: 'timechart', query: `${frontDoorMetric("'RequestCount', 'OriginRequestCount'")} | summarize Requests = sumif(Total, MetricName == 'RequestCount'), OriginRequests = sumif(Total, MetricName == 'OriginRequestCount') by bin(TimeGenerated, 1h) | extend HitRatioPercent = round(100.0 * (Requests - OriginRequests) / Requests, 3) | project TimeGenerated, HitRatioPercent` },
  { title: 'Origin requests', visualization: 'timechart', query: `${frontDoorMetric("'OriginRequestCount'")} | summarize OriginRequests = sum(Total) by bin(TimeGenerated, 1h)` },
  { title: 'Edge answers: percent 4xx and 5xx, and WAF blocks', visualization: 'timechart', query: `${frontDoorMetric("'Percentage4XX', 'Percentage5XX', 'WebApplicationFirewallRequestCount'")} | summarize Value = avg(Average) by bin(TimeGenerated, 1h), MetricName` },
  { title: 'Store and blob errors', visualization: 'table', query: `AppMetrics | where Name in ('${METRIC.storeErrors.name}', '${METRIC.blobErrors.name}') | summarize Errors = sum(Sum) by Name, Operation = tostring(Properties.operation), Error = tostring(Properties.error)` },
];

/** The workbook's content, in the Notebook/1.0 format the portal reads. */
export function workbookContent(): string {
  return JSON.stringify({
    version: 'Notebook/1.0',
    items: [
      { type: 1, name: 'intro', content: { json: '## keyfront\nUploads, refusals, publishing and the edge. Alerts and what they mean: README "Telemetry".' } },
      ...WORKBOOK_PANELS.map((panel, i) => ({
        type: 3,
        name: `panel-${i + 1}`,
        content: { version: 'KqlItem/1.0', query: panel.query, size: 0, title: panel.title, timeContext: { durationMs: 86_400_000 }, queryType: 0, resourceType: 'microsoft.operationalinsights/workspaces', visualization: panel.visualization },
      })),
    ],
    $schema: 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json',
  });
}

/** A log alert (scheduled query rule) over the workspace. */
interface LogAlert {
  name: string;
  description: string;
  severity: 0 | 1 | 2 | 3 | 4;
  query: string;
  /** The column the threshold compares, and how rows are combined. */
  measure: string;
  timeAggregation: 'Maximum' | 'Total';
  operator: 'GreaterThan' | 'LessThan';
  threshold: number;
  /** ISO 8601 durations. */
  windowSize: string;
  evaluationFrequency: string;
  /** One alert per value of this column (a region). */
  splitBy?: string;
}

export function logAlerts(thresholds: AlertThresholds): LogAlert[] {
  return [
    {
      name: 'publish-lag',
      description: `Keys wait too long: the newest published key's embargo ended more than ${thresholds.publishLagSeconds / 3600} h before its file was listed. Look at the publisher's runs and the store's latency.`,
      severity: 1,
      query: `${appMetric(METRIC.publishLag.name)} | summarize LagSeconds = max(Max) by Region = tostring(Properties.region)`,
      measure: 'LagSeconds',
      timeAggregation: 'Maximum',
      operator: 'GreaterThan',
      threshold: thresholds.publishLagSeconds,
      windowSize: 'PT1H',
      evaluationFrequency: 'PT15M',
      splitBy: 'Region',
    },
    {
      name: 'publisher-silent',
      description: `No publisher run completed in ${thresholds.publisherSilentMinutes} minutes: the timer does not fire, the app does not start, or every region fails.`,
      severity: 1,
      query: `${appMetric(METRIC.publishRuns.name)} | where tostring(Properties.status) == 'done' | summarize Runs = count()`,
      measure: 'Runs',
      timeAggregation: 'Total',
      operator: 'LessThan',
      threshold: 1,
      windowSize: `PT${thresholds.publisherSilentMinutes}M`,
      evaluationFrequency: 'PT15M',
    },
    {
      name: 'purge-failures',
      description: 'Index purges keep failing: phones see new files only when the edge cache expires (an hour). Check the publisher identity\'s CDN Profile Contributor role and the Front Door API.',
      severity: 2,
      query: `${appMetric(METRIC.purgeFailures.name)} | summarize Failures = sum(Sum) by Region = tostring(Properties.region)`,
      measure: 'Failures',
      timeAggregation: 'Total',
      operator: 'GreaterThan',
      threshold: thresholds.purgeFailuresPerHour,
      windowSize: 'PT1H',
      evaluationFrequency: 'PT15M',
      splitBy: 'Region',
    },
    {
      name: 'upload-refusal-spike',
      description: `More than ${thresholds.uploadRefusedPercent}% of uploads refused in 15 minutes: a broken app release, rotated health-authority keys, or an attack. The workbook's refusal codes and certificate reasons say which.`,
      severity: 2,
      query: `${appMetric(METRIC.uploads.name)} | summarize Refused = sumif(Sum, tostring(Properties.result) == 'refused'), Uploads = sum(Sum) | where Uploads >= ${thresholds.minimumUploads} | extend RefusedPercent = 100.0 * Refused / Uploads`,
      measure: 'RefusedPercent',
      timeAggregation: 'Maximum',
      operator: 'GreaterThan',
      threshold: thresholds.uploadRefusedPercent,
      windowSize: 'PT15M',
      evaluationFrequency: 'PT5M',
    },
  ];
}

/** Front Door log categories sent to the workspace (Microsoft.Cdn/profiles supported logs). */
/**
 * Front Door's log categories sent to the workspace: the health probe log only. The access log and
 * the WAF log carry every client's IP address (and user agent), which keyfront never keeps; their
 * figures (requests, origin requests, status shares, WAF blocks) come from the metrics (`AllMetrics`).
 */
export const FRONT_DOOR_LOG_CATEGORIES = ['FrontDoorHealthProbeLog'] as const;

function res(type: string, name: string, rest: Omit<ArmResource, 'type' | 'apiVersion' | 'name'>): ArmResource {
  return { type, apiVersion: apiVersionOf(type), name, ...rest };
}

/** The `scope` of an extension resource on `type`/`name` in this template. */
function scopeOf(type: string, name: string): string {
  return `${type}/${name}`;
}

export function monitoringResources(ctx: MonitoringContext): ArmResource[] {
  const thresholds = THRESHOLDS[ctx.profile];
  const actionGroupName = `${ctx.namePrefix}-alerts`;
  const actionGroupId = resourceId('Microsoft.Insights/actionGroups', actionGroupName);
  const tags = { app: 'keyfront', profile: ctx.profile };

  const actionGroup = res('Microsoft.Insights/actionGroups', actionGroupName, {
    location: 'Global',
    tags,
    // A placeholder: the operator adds receivers (email, SMS, webhook to the on-call tool) for their health authority.
    properties: { groupShortName: 'keyfront', enabled: true, emailReceivers: [], smsReceivers: [], webhookReceivers: [] },
  });

  const workbook = res('Microsoft.Insights/workbooks', `[guid(resourceGroup().id, '${ctx.namePrefix}-keyfront-workbook')]`, {
    location: ctx.location,
    kind: 'shared',
    tags,
    properties: { displayName: `keyfront (${ctx.profile})`, category: 'workbook', version: 'Notebook/1.0', sourceId: ctx.logAnalyticsWorkspaceId, serializedData: workbookContent() },
    dependsOn: [ctx.logAnalyticsWorkspaceId],
  });

  const alerts = logAlerts(thresholds).map((alert) =>
    res('Microsoft.Insights/scheduledQueryRules', `${ctx.namePrefix}-${alert.name}`, {
      location: ctx.location,
      kind: 'LogAlert',
      tags,
      properties: {
        displayName: `keyfront ${alert.name}`,
        description: alert.description,
        severity: alert.severity,
        enabled: true,
        scopes: [ctx.logAnalyticsWorkspaceId],
        evaluationFrequency: alert.evaluationFrequency,
        windowSize: alert.windowSize,
        criteria: {
          allOf: [
            {
              query: alert.query,
              timeAggregation: alert.timeAggregation,
              metricMeasureColumn: alert.measure,
              operator: alert.operator,
              threshold: alert.threshold,
              ...(alert.splitBy ? { dimensions: [{ name: alert.splitBy, operator: 'Include', values: ['*'] }] } : {}),
              failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 },
            },
          ],
        },
        autoMitigate: true,
        // A new workspace has no AppMetrics table until the apps first send metrics, and ARM refuses a
        // rule whose query names a table it cannot resolve unless validation is skipped (2021-08-01:
        // properties.skipQueryValidation, https://learn.microsoft.com/azure/templates/microsoft.insights/2021-08-01/scheduledqueryrules).
        skipQueryValidation: true,
        actions: { actionGroups: [actionGroupId] },
      },
      dependsOn: [ctx.logAnalyticsWorkspaceId, actionGroupId],
    }),
  );

  const edge5xx = res('Microsoft.Insights/metricAlerts', `${ctx.namePrefix}-edge-5xx`, {
    location: 'global',
    tags,
    properties: {
      description: `More than ${thresholds.edge5xxPercent}% of the edge's answers are 5xx (15-minute average): the API or storage origins fail, or the edge cannot reach them.`,
      severity: 1,
      enabled: true,
      scopes: [ctx.frontDoorProfileId],
      evaluationFrequency: 'PT5M',
      windowSize: 'PT15M',
      criteria: {
        'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria',
        allOf: [{ criterionType: 'StaticThresholdCriterion', name: 'Percentage5XX', metricNamespace: 'Microsoft.Cdn/profiles', metricName: 'Percentage5XX', operator: 'GreaterThan', threshold: thresholds.edge5xxPercent, timeAggregation: 'Average' }],
      },
      autoMitigate: true,
      actions: [{ actionGroupId }],
    },
    dependsOn: [ctx.frontDoorProfileId, actionGroupId],
  });

  const frontDoorLogs = res('Microsoft.Insights/diagnosticSettings', 'keyfront-edge-logs', {
    scope: scopeOf('Microsoft.Cdn/profiles', ctx.names.frontDoorProfile),
    properties: {
      workspaceId: ctx.logAnalyticsWorkspaceId,
      logs: FRONT_DOOR_LOG_CATEGORIES.map((category) => ({ category, enabled: true })),
      metrics: [{ category: 'AllMetrics', enabled: true }],
    },
    dependsOn: [ctx.frontDoorProfileId, ctx.logAnalyticsWorkspaceId],
  });

  // Who signed what, when: the publisher's only use of the vault.
  const keyVaultAudit = res('Microsoft.Insights/diagnosticSettings', 'keyfront-vault-audit', {
    scope: scopeOf('Microsoft.KeyVault/vaults', ctx.names.keyVault),
    properties: { workspaceId: ctx.logAnalyticsWorkspaceId, logs: [{ category: 'AuditEvent', enabled: true }] },
    dependsOn: [ctx.keyVaultId, ctx.logAnalyticsWorkspaceId],
  });

  return [actionGroup, workbook, ...alerts, edge5xx, frontDoorLogs, keyVaultAudit];
}

