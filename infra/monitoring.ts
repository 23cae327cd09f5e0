/**
 * Telemetry as code: what an operator sees and what wakes them, compiled into the deployment by
 * `monitoringResources(ctx)`. A workbook (uploads, refusals, publish lag and staleness, store and
 * blob latency and errors, edge hit ratio and origin requests), log alerts on the apps' metrics
 * (`logAlerts`: one typed table, each alert with its runbook in its description), a metric alert on
 * the edge's 5xx rate, an action group to route them (a placeholder until the operator adds
 * receivers), and diagnostic settings: Front Door's health probe log and platform metrics, and
 * the Key Vault audit log. Front Door's access and WAF logs are not sent: they carry every
 * client's IP address and user agent.
 *
 * Queries read the workspace tables: `AppMetrics` (the apps' `keyfront.*` instruments, see
 * platform/metrics.ts; `Sum`, `Min`, `Max`, `ItemCount`, dimensions in `Properties`) and
 * `AzureMetrics` (Front Door's platform metrics, without dimensions). Types and apiVersions are
 * rows of infra/api-versions.ts, each read from its template reference page. Every alert is
 * evaluated on the telemetry of its failure in test/telemetry/alerts.test.ts.
 */
import { METRIC } from '../platform/metrics';
import { SETTINGS as PUBLISHER_SETTINGS } from '../publisher/config';
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
  /** Percent of uploads refused in 15 minutes, once at least `minimumUploads` arrived (chaff not counted). */
  uploadRefusedPercent: number;
  minimumUploads: number;
  /** Percent of the uploads that should have been stored and failed (5xx) in 15 minutes, once at least `minimumUploads` arrived. */
  uploadFailedPercent: number;
  /** Low volume: at least this many failed uploads in `allUploadsFailingMinutes` and none stored. */
  allUploadsFailing: number;
  allUploadsFailingMinutes: number;
  /** Register calls: at least `minimumRegisterFailures` failed in 15 minutes and more than this percent of them. */
  registerFailedPercent: number;
  minimumRegisterFailures: number;
  /** Publisher runs a region may miss (failed or busy) before it is stale; the window adds a run's deadline. */
  missedRegionRuns: number;
  /** Store calls: at least `minimumStoreFailures` failed in 15 minutes, and more than this percent of the calls. */
  storeFailedPercent: number;
  minimumStoreFailures: number;
  /** Blob calls (the publisher's, a few per run): at least `minimumBlobFailures` failed in 30 minutes, and more than this percent. */
  blobFailedPercent: number;
  minimumBlobFailures: number;
  /** Signing calls that failed in an hour (a run signs one file at a time; the next run retries). */
  signingFailuresPerHour: number;
  /** Hours a federation peer may go without an import that handled its whole index (its files are hourly; a 404 is retried each run). */
  peerStaleHours: number;
  /** Files of one peer refused in 6 hours (each is never imported): a peer's key or region changed, or its files are tampered with. */
  peerRefusalsPer6Hours: number;
}

export const THRESHOLDS: Readonly<Record<MonitoringContext['profile'], AlertThresholds>> = {
  // Windows of an hour, a 5-minute margin and a 15-minute timer: a key waits at most ~1 h 20 min.
  prod: {
    publishLagSeconds: 2 * 3600, publisherSilentMinutes: 60, purgeFailuresPerHour: 1, edge5xxPercent: 1, uploadRefusedPercent: 50, minimumUploads: 20,
    uploadFailedPercent: 10, allUploadsFailing: 2, allUploadsFailingMinutes: 30, registerFailedPercent: 10, minimumRegisterFailures: 3,
    missedRegionRuns: 2, storeFailedPercent: 5, minimumStoreFailures: 5, blobFailedPercent: 10, minimumBlobFailures: 3, signingFailuresPerHour: 1,
    peerStaleHours: 6, peerRefusalsPer6Hours: 0,
  },
  dev: {
    publishLagSeconds: 3 * 3600, publisherSilentMinutes: 120, purgeFailuresPerHour: 2, edge5xxPercent: 5, uploadRefusedPercent: 80, minimumUploads: 10,
    uploadFailedPercent: 25, allUploadsFailing: 3, allUploadsFailingMinutes: 60, registerFailedPercent: 25, minimumRegisterFailures: 5,
    missedRegionRuns: 3, storeFailedPercent: 20, minimumStoreFailures: 10, blobFailedPercent: 25, minimumBlobFailures: 6, signingFailuresPerHour: 3,
    peerStaleHours: 24, peerRefusalsPer6Hours: 3,
  },
};

/** The minutes between two runs of an NCRONTAB schedule that runs every N minutes (seconds fixed, a minutes step, the rest `*`); anything else is refused. */
export function schedulePeriodMinutes(schedule: string): number {
  const fields = schedule.trim().split(/\s+/);
  const step = fields.length === 6 && /^\*(\/(\d+))?$/.exec(fields[1]);
  if (!step || fields.slice(2).some((field) => field !== '*') || !/^\d+$/.test(fields[0])) {
    throw new Error(`the staleness alert derives its window from a schedule like '0 */15 * * * *' (every N minutes); '${schedule}' is not one: give it its window by hand`);
  }
  const minutes = step[2] === undefined ? 1 : Number(step[2]);
  if (minutes < 1 || minutes > 60 || 60 % minutes !== 0) throw new Error(`the schedule '${schedule}' does not divide the hour into runs`);
  return minutes;
}

/** Window sizes a log alert takes (Azure Monitor offers these aggregation granularities). */
const WINDOW_MINUTES = [5, 10, 15, 30, 45, 60, 120, 180, 240, 300, 360, 1440, 2880];

/** A window in ISO 8601 (`PT45M`, `PT2H`, `P1D`). */
function isoMinutes(minutes: number): string {
  if (minutes % 1440 === 0) return `P${minutes / 1440}D`;
  return minutes % 60 === 0 ? `PT${minutes / 60}H` : `PT${minutes}M`;
}

/**
 * How long a region may go without a successful run before it is stale: the publisher's schedule
 * (its default, which the deployment keeps) times the runs it may miss, plus one run's deadline,
 * rounded up to a window a log alert takes.
 */
export function regionStaleMinutes(thresholds: AlertThresholds, schedule = PUBLISHER_SETTINGS.schedule.default, deadlineSeconds = Number(PUBLISHER_SETTINGS.deadlineSeconds.default)): number {
  const needed = thresholds.missedRegionRuns * schedulePeriodMinutes(schedule) + Math.ceil(deadlineSeconds / 60);
  const window = WINDOW_MINUTES.find((minutes) => minutes >= needed);
  if (window === undefined) throw new Error(`a region staleness of ${needed} minutes is longer than any log alert window`);
  return window;
}

function appMetric(name: string): string {
  return `AppMetrics | where Name == '${name}'`;
}

/** A metric attribute as text, for `where` and `by`. */
const property = (name: string) => `tostring(Properties.${name})`;

/** Front Door's platform metrics as its diagnostic setting (`AllMetrics`) sends them to the workspace: totals per minute, no dimensions. */
const frontDoorMetric = (names: string) => `AzureMetrics | where ResourceProvider == 'MICROSOFT.CDN' and MetricName in (${names})`;

/** Average and worst duration per hour of a call histogram, by operation. */
const latencyPanel = (metric: string) => `${appMetric(metric)} | summarize Calls = sum(ItemCount), AverageSeconds = round(sum(Sum) / sum(ItemCount), 3), WorstSeconds = max(Max) by bin(TimeGenerated, 1h), Operation = ${property('operation')}`;

/** The workbook's panels: a title and a KQL query over the workspace each. */
export const WORKBOOK_PANELS: ReadonlyArray<{ title: string; query: string; visualization: 'timechart' | 'barchart' | 'table' }> = [
  { title: 'Uploads by result', visualization: 'timechart', query: `${appMetric(METRIC.uploads.name)} | summarize Uploads = sum(Sum) by bin(TimeGenerated, 1h), Result = ${property('result')}` },
  { title: 'Refused uploads by code', visualization: 'barchart', query: `${appMetric(METRIC.uploads.name)} | where ${property('result')} in ('refused', 'failed') | summarize Uploads = sum(Sum) by Code = ${property('code')} | order by Uploads desc` },
  { title: 'Certificate failures by reason', visualization: 'barchart', query: `${appMetric(METRIC.certificateFailures.name)} | summarize Failures = sum(Sum) by Reason = ${property('reason')} | order by Failures desc` },
  // Report mode's purpose: how many uploads would enforce refuse, and why, before an operator turns it on (README "Device attestation").
  { title: 'Device attestations by mode, platform and code', visualization: 'table', query: `${appMetric(METRIC.attestations.name)} | summarize Uploads = sum(Sum) by Mode = ${property('mode')}, Platform = ${property('platform')}, Code = ${property('code')} | order by Uploads desc` },
  { title: 'Register calls by result', visualization: 'timechart', query: `${appMetric(METRIC.register.name)} | summarize Calls = sum(Sum) by bin(TimeGenerated, 1h), Result = ${property('result')}` },
  { title: 'Publish lag (seconds, worst per hour)', visualization: 'timechart', query: `${appMetric(METRIC.publishLag.name)} | summarize LagSeconds = max(Max) by bin(TimeGenerated, 1h), Region = ${property('region')}` },
  { title: "Minutes since each region's last successful run", visualization: 'table', query: `${appMetric(METRIC.publishSuccessTime.name)} | summarize LastSuccess = max(Max) by Region = ${property('region')} | extend MinutesSince = round((now() - unixtime_seconds_todatetime(LastSuccess)) / 1m, 1) | order by MinutesSince desc` },
  { title: 'Region runs by status', visualization: 'timechart', query: `${appMetric(METRIC.publishRuns.name)} | summarize Runs = sum(Sum) by bin(TimeGenerated, 1h), Region = ${property('region')}, Status = ${property('status')}` },
  { title: 'Published files and keys', visualization: 'timechart', query: `AppMetrics | where Name in ('${METRIC.publishFiles.name}', '${METRIC.publishKeys.name}') | summarize Total = sum(Sum) by bin(TimeGenerated, 1h), Name` },
  { title: 'Purges and their failures', visualization: 'timechart', query: `AppMetrics | where Name in ('${METRIC.purgeAttempts.name}', '${METRIC.purgeFailures.name}') | summarize Total = sum(Sum) by bin(TimeGenerated, 1h), Name` },
  { title: "Federation: hours since each peer's last complete import", visualization: 'table', query: `${appMetric(METRIC.federationSuccessTime.name)} | summarize LastSuccess = max(Max) by Peer = ${property('peer')} | extend HoursSince = round((now() - unixtime_seconds_todatetime(LastSuccess)) / 1h, 1) | order by HoursSince desc` },
  { title: "Federation: peers' files by result and code", visualization: 'table', query: `${appMetric(METRIC.federationFiles.name)} | summarize Files = sum(Sum) by Peer = ${property('peer')}, Result = ${property('result')}, Code = ${property('code')} | order by Files desc` },
  { title: 'Store (Cosmos DB) latency by operation', visualization: 'table', query: latencyPanel(METRIC.storeDuration.name) },
  { title: 'Blob storage latency by operation', visualization: 'table', query: latencyPanel(METRIC.blobDuration.name) },
  { title: 'Store, blob and signing errors', visualization: 'table', query: `AppMetrics | where Name in ('${METRIC.storeErrors.name}', '${METRIC.blobErrors.name}', '${METRIC.signingFailures.name}') | summarize Errors = sum(Sum) by Name, Operation = ${property('operation')}, Error = ${property('error')}` },
  // From Front Door's platform metrics (AzureMetrics), not its access log: the access log carries each client's IP address, which keyfront never keeps.
  // Requests the edge refused (4xx: WAF blocks, rate limits, wrong methods and paths) never reach an origin; counted as
  // hits they would flatter the cache, so the ratio is over the requests answered otherwise. Per minute, the 4xx count is
  // RequestCount x Percentage4XX (the metrics carry no status dimension in the workspace).
  {
    title: 'Edge hit ratio (percent of requests not refused by the edge that it answered from the cache)',
    visualization: 'timechart',
    query: `${frontDoorMetric("'RequestCount', 'OriginRequestCount', 'Percentage4XX'")} | summarize Requests = sumif(Total, MetricName == 'RequestCount'), OriginRequests = sumif(Total, MetricName == 'OriginRequestCount'), Percent4xx = maxif(Average, MetricName == 'Percentage4XX') by TimeGenerated | extend Refused = Requests * Percent4xx / 100.0 | summarize Requests = sum(Requests), Refused = sum(Refused), OriginRequests = sum(OriginRequests) by bin(TimeGenerated, 1h) | extend Served = Requests - Refused | extend HitRatioPercent = round(100.0 * (Served - OriginRequests) / Served, 3) | project TimeGenerated, HitRatioPercent`,
  },
  { title: 'Origin requests', visualization: 'timechart', query: `${frontDoorMetric("'OriginRequestCount'")} | summarize OriginRequests = sum(Total) by bin(TimeGenerated, 1h)` },
  { title: 'Edge answers: percent 4xx and 5xx, and WAF blocks', visualization: 'timechart', query: `${frontDoorMetric("'Percentage4XX', 'Percentage5XX', 'WebApplicationFirewallRequestCount'")} | summarize Value = avg(Average) by bin(TimeGenerated, 1h), MetricName` },
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

/**
 * A log alert (scheduled query rule, 2021-08-01) over the workspace. Azure runs `query` over the
 * last `windowSize` every `evaluationFrequency`, aggregates `measure` per value of `splitBy` with
 * `timeAggregation`, and fires for each that compares with `threshold` as `operator` says.
 */
export interface LogAlert {
  name: string;
  /** The runbook: what it means, where to look, what to do. The rule's description, shown in the alert. */
  description: string;
  severity: 0 | 1 | 2 | 3 | 4;
  query: string;
  /** The column the threshold compares, and how rows are combined. */
  measure: string;
  timeAggregation: 'Maximum' | 'Total';
  operator: 'GreaterThan' | 'GreaterThanOrEqual' | 'LessThan';
  threshold: number;
  /** ISO 8601 durations. */
  windowSize: string;
  evaluationFrequency: string;
  /** One alert per value of this column (a region, an app). */
  splitBy?: string;
}

/** In Logs: the app's JSON lines (platform/log.ts), which the host records from stdout into AppTraces; found by their content. */
const APP_LINES = 'AppTraces';

/**
 * Every log alert, one entry each, in the order an operator meets them. A new alert is one entry
 * here plus its row in test/telemetry/alerts.test.ts, which feeds it the telemetry of its failure.
 */
export function logAlerts(thresholds: AlertThresholds): LogAlert[] {
  const staleMinutes = regionStaleMinutes(thresholds);
  const uploads = appMetric(METRIC.uploads.name);
  const result = property('result');
  return [
    {
      name: 'upload-failures',
      description: `Uploads fail: more than ${thresholds.uploadFailedPercent}% of the uploads that should have been stored answered 5xx in 15 minutes (at least ${thresholds.minimumUploads}; refusals and chaff not counted). Phones retry, but keys are lost if it lasts. Look at the workbook's "Refused uploads by code" (store_unavailable: Cosmos DB throttling or down; internal_error: a bug of a release), "Store (Cosmos DB) latency" and "Store, blob and signing errors"; in Logs: ${APP_LINES} | where Message has '"function":"publish"' and Message has '"status":5'. A release just before: swap back (README "Releases").`,
      severity: 1,
      query: `${uploads} | summarize Failed = sumif(Sum, ${result} == 'failed'), Stored = sumif(Sum, ${result} == 'stored') | where Failed + Stored >= ${thresholds.minimumUploads} | extend FailedPercent = 100.0 * Failed / (Failed + Stored)`,
      measure: 'FailedPercent',
      timeAggregation: 'Maximum',
      operator: 'GreaterThan',
      threshold: thresholds.uploadFailedPercent,
      windowSize: 'PT15M',
      evaluationFrequency: 'PT5M',
    },
    {
      name: 'uploads-all-failing',
      description: `Every upload fails: at least ${thresholds.allUploadsFailing} uploads answered 5xx in ${thresholds.allUploadsFailingMinutes} minutes and none was stored, however few arrived (the rate alert needs volume). The same places to look as upload-failures; also the API app's start-up errors: AppTraces | where SeverityLevel >= 3.`,
      severity: 1,
      query: `${uploads} | summarize Failed = sumif(Sum, ${result} == 'failed'), Stored = sumif(Sum, ${result} == 'stored') | where Stored == 0`,
      measure: 'Failed',
      timeAggregation: 'Total',
      operator: 'GreaterThanOrEqual',
      threshold: thresholds.allUploadsFailing,
      windowSize: isoMinutes(thresholds.allUploadsFailingMinutes),
      evaluationFrequency: 'PT5M',
    },
    {
      name: 'upload-refusal-spike',
      description: `More than ${thresholds.uploadRefusedPercent}% of uploads refused in 15 minutes (at least ${thresholds.minimumUploads}, chaff not counted): a broken app release, rotated health-authority keys, or an attack. The workbook's "Refused uploads by code" and "Certificate failures by reason" say which.`,
      severity: 2,
      query: `${uploads} | summarize Refused = sumif(Sum, ${result} == 'refused'), Uploads = sumif(Sum, ${result} != 'chaff') | where Uploads >= ${thresholds.minimumUploads} | extend RefusedPercent = 100.0 * Refused / Uploads`,
      measure: 'RefusedPercent',
      timeAggregation: 'Maximum',
      operator: 'GreaterThan',
      threshold: thresholds.uploadRefusedPercent,
      windowSize: 'PT15M',
      evaluationFrequency: 'PT5M',
    },
    {
      name: 'register-failures',
      description: `Register calls fail: at least ${thresholds.minimumRegisterFailures} answered 5xx in 15 minutes, more than ${thresholds.registerFailedPercent}% of them. Without a secret no phone can upload. Look at the register keys (Key Vault secret register-keys, README "A first deployment") and the API's errors: ${APP_LINES} | where Message has '"function":"register"' and Message has '"level":"error"'.`,
      severity: 1,
      query: `${appMetric(METRIC.register.name)} | summarize Failed = sumif(Sum, ${result} == 'failed'), Issued = sumif(Sum, ${result} == 'issued') | where Failed >= ${thresholds.minimumRegisterFailures} | extend FailedPercent = 100.0 * Failed / (Failed + Issued)`,
      measure: 'FailedPercent',
      timeAggregation: 'Maximum',
      operator: 'GreaterThan',
      threshold: thresholds.registerFailedPercent,
      windowSize: 'PT15M',
      evaluationFrequency: 'PT5M',
    },
    {
      name: 'region-stale',
      description: `A region publishes nothing: it ran in the last ${staleMinutes} minutes (${thresholds.missedRegionRuns} runs of the schedule and a run's deadline) but never successfully: every run failed or found it busy. Its phones get no new keys. The run's line says why: ${APP_LINES} | where Message has '"message":"publisher run"' (each region's status and error). Failed: the store, blob storage or Key Vault (their alerts and the workbook's error panel). Busy for ever: another instance holds the region's lock; it is released when its lease (60 s at most) runs out, so a lasting one means another publisher keeps running, e.g. a staging slot with its timer on.`,
      severity: 1,
      query: `${appMetric(METRIC.publishRuns.name)} | summarize Runs = sum(Sum), Done = sumif(Sum, ${property('status')} == 'done') by Region = ${property('region')} | where Done == 0`,
      measure: 'Runs',
      timeAggregation: 'Total',
      operator: 'GreaterThan',
      threshold: 0,
      windowSize: isoMinutes(staleMinutes),
      evaluationFrequency: 'PT15M',
      splitBy: 'Region',
    },
    {
      name: 'publish-lag',
      description: `Keys wait too long: the newest published key's embargo ended more than ${thresholds.publishLagSeconds / 3600} h before its file was listed. Look at the region's runs (the workbook's "Region runs by status" and "Minutes since each region's last successful run"), the run's duration and deadline warnings in its line, and the store's latency (${METRIC.storeDuration.name}).`,
      severity: 1,
      query: `${appMetric(METRIC.publishLag.name)} | summarize LagSeconds = max(Max) by Region = ${property('region')}`,
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
      description: `No publisher run completed in ${thresholds.publisherSilentMinutes} minutes: the timer does not fire, the app does not start (AppTraces | where SeverityLevel >= 3), or every region fails (region-stale fires too).`,
      severity: 1,
      query: `${appMetric(METRIC.publishRuns.name)} | where ${property('status')} == 'done' | summarize Runs = count()`,
      measure: 'Runs',
      timeAggregation: 'Total',
      operator: 'LessThan',
      threshold: 1,
      windowSize: isoMinutes(thresholds.publisherSilentMinutes),
      evaluationFrequency: 'PT15M',
    },
    {
      name: 'purge-failures',
      description: `Index purges keep failing: more than ${thresholds.purgeFailuresPerHour} in an hour for a region, so phones see new files only when the edge cache expires (an hour). Check the publisher identity's CDN Profile Contributor role on the profile and the Front Door API; the run's line has the purge result per region.`,
      severity: 2,
      query: `${appMetric(METRIC.purgeFailures.name)} | summarize Failures = sum(Sum) by Region = ${property('region')}`,
      measure: 'Failures',
      timeAggregation: 'Total',
      operator: 'GreaterThan',
      threshold: thresholds.purgeFailuresPerHour,
      windowSize: 'PT1H',
      evaluationFrequency: 'PT15M',
      splitBy: 'Region',
    },
    {
      name: 'store-errors',
      description: `Cosmos DB calls fail: at least ${thresholds.minimumStoreFailures} in 15 minutes and more than ${thresholds.storeFailedPercent}% of the calls, by app. The workbook's "Store, blob and signing errors" names the operation and error (429: throughput, raise the autoscale maximum; 403: the app's data-plane role; 503 or timeouts: the account's region, Cosmos DB service health).`,
      severity: 2,
      query: `${appMetric(METRIC.storeDuration.name)} | summarize Calls = sum(ItemCount), Failed = sumif(ItemCount, ${result} == 'failed') by App = AppRoleName | where Failed >= ${thresholds.minimumStoreFailures} | extend FailedPercent = 100.0 * Failed / Calls`,
      measure: 'FailedPercent',
      timeAggregation: 'Maximum',
      operator: 'GreaterThan',
      threshold: thresholds.storeFailedPercent,
      windowSize: 'PT15M',
      evaluationFrequency: 'PT5M',
      splitBy: 'App',
    },
    {
      name: 'blob-errors',
      description: `Blob storage calls of the publisher fail: at least ${thresholds.minimumBlobFailures} in 30 minutes and more than ${thresholds.blobFailedPercent}% of the calls (a storage account out of reach fails each run at its first call). The workbook's "Store, blob and signing errors" names the operation and error (403: the publisher's Storage Blob Data Contributor role; 409/412: a lease or a create-only write, another publisher; 5xx: the account's region, storage service health).`,
      severity: 2,
      query: `${appMetric(METRIC.blobDuration.name)} | summarize Calls = sum(ItemCount), Failed = sumif(ItemCount, ${result} == 'failed') by App = AppRoleName | where Failed >= ${thresholds.minimumBlobFailures} | extend FailedPercent = 100.0 * Failed / Calls`,
      measure: 'FailedPercent',
      timeAggregation: 'Maximum',
      operator: 'GreaterThan',
      threshold: thresholds.blobFailedPercent,
      windowSize: 'PT30M',
      evaluationFrequency: 'PT5M',
      splitBy: 'App',
    },
    {
      name: 'signing-failures',
      description: `Signing with the Key Vault key fails: more than ${thresholds.signingFailuresPerHour} failed calls in an hour. No new file is published until it works. The vault's audit log says why (AzureDiagnostics | where ResourceProvider == 'MICROSOFT.KEYVAULT' and OperationName == 'KeySign' and httpStatusCode_d >= 400): 403 the publisher's Key Vault Crypto User role, a disabled or expired key version (KEYFRONT_KEY_VAULT_KEY_ID), 429 throttling.`,
      severity: 1,
      query: `${appMetric(METRIC.signingFailures.name)} | summarize Failures = sum(Sum)`,
      measure: 'Failures',
      timeAggregation: 'Total',
      operator: 'GreaterThan',
      threshold: thresholds.signingFailuresPerHour,
      windowSize: 'PT1H',
      evaluationFrequency: 'PT15M',
    },
    {
      name: 'peer-stale',
      description: `A federation peer's keys stopped arriving: its imports ran in the last ${thresholds.peerStaleHours} h but none handled its whole index. The import's line says why (${APP_LINES} | where Message has '"message":"federation import"'): behind with file_missing (the peer's index names a file it does not serve: ask the peer; it is retried each run), peer_timeout or peer_unreachable (the peer or the way to it; KEYFRONT_PEER_TIMEOUT_MS), html_answer (a login or error page in front of the peer), index_invalid or index_missing (the indexUrl or indexFormat of KEYFRONT_FEDERATION_PEERS), busy for ever (another instance imports it). The workbook's "Federation" panels show each peer's last complete import. README "Federation".`,
      severity: 2,
      query: `${appMetric(METRIC.federationRuns.name)} | summarize Runs = sum(Sum), Done = sumif(Sum, ${property('status')} == 'done') by Peer = ${property('peer')} | where Done == 0`,
      measure: 'Runs',
      timeAggregation: 'Total',
      operator: 'GreaterThan',
      threshold: 0,
      windowSize: isoMinutes(thresholds.peerStaleHours * 60),
      evaluationFrequency: 'PT1H',
      splitBy: 'Peer',
    },
    {
      name: 'peer-refusals',
      description: `A federation peer's files are refused (never imported): more than ${thresholds.peerRefusalsPer6Hours} in 6 hours. The code says which rule (the workbook's "Federation: peers' files by result and code"): signature_invalid (the peer rotated its key, or the file was changed on the way: confirm the peer's key through a channel it controls before changing publicKey, keyId or keyVersion), wrong_region (sourceRegion), rolling_start_too_old or rolling_start_in_future (the peer's clock or rules), file_too_large. README "Federation".`,
      severity: 2,
      query: `${appMetric(METRIC.federationFiles.name)} | where ${property('result')} == 'refused' | summarize Refused = sum(Sum) by Peer = ${property('peer')}`,
      measure: 'Refused',
      timeAggregation: 'Total',
      operator: 'GreaterThan',
      threshold: thresholds.peerRefusalsPer6Hours,
      windowSize: 'PT6H',
      evaluationFrequency: 'PT1H',
      splitBy: 'Peer',
    },
  ];
}

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

