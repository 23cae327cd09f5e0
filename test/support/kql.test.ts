import { KqlError, runKql, Timespan, type KqlRow } from './kql';

const NOW = new Date('2026-11-30T12:00:00Z');
const at = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * 60_000);

const metrics: KqlRow[] = [
  { TimeGenerated: at(1), Name: 'keyfront.uploads', Sum: 3, ItemCount: 1, Max: 3, Properties: { result: 'stored', code: 'ok' } },
  { TimeGenerated: at(2), Name: 'keyfront.uploads', Sum: 2, ItemCount: 1, Max: 2, Properties: { result: 'failed', code: 'store_unavailable' } },
  { TimeGenerated: at(70), Name: 'keyfront.uploads', Sum: 5, ItemCount: 1, Max: 5, Properties: { result: 'chaff', code: 'ok' } },
  { TimeGenerated: at(3), Name: 'keyfront.publish.runs', Sum: 1, ItemCount: 1, Max: 1, Properties: { region: '440', status: 'failed' } },
];

describe('the KQL evaluator', () => {
  it('filters, summarizes by an expression, extends and orders descending by default', () => {
    const rows = runKql("AppMetrics | where Name == 'keyfront.uploads' and TimeGenerated > ago(1h) | summarize Uploads = sum(Sum), Failed = sumif(Sum, tostring(Properties.result) == 'failed') by Result = tostring(Properties.result) | extend Share = round(100.0 * Failed / Uploads, 1) | order by Uploads", { AppMetrics: metrics }, NOW);
    expect(rows).toEqual([
      { Result: 'stored', Uploads: 3, Failed: 0, Share: 0 },
      { Result: 'failed', Uploads: 2, Failed: 2, Share: 100 },
    ]);
  });

  it('answers one row for a summarize without by, even over no rows', () => {
    expect(runKql("AppMetrics | where Name == 'nothing' | summarize Runs = count(), Total = sum(Sum), Worst = max(Max)", { AppMetrics: metrics }, NOW)).toEqual([{ Runs: 0, Total: 0, Worst: null }]);
  });

  it('does datetime and timespan arithmetic, bins times and reads in, !in and has', () => {
    const rows = runKql("AppMetrics | where tostring(Properties.result) !in ('chaff') and Name has 'uploads' | extend Age = (now() - TimeGenerated) / 1m, Hour = bin(TimeGenerated, 1h), Back = unixtime_seconds_todatetime(0) | project Age, Hour, Back", { AppMetrics: metrics }, NOW);
    expect(rows).toEqual([
      { Age: 1, Hour: new Date('2026-11-30T11:00:00Z'), Back: new Date(0) },
      { Age: 2, Hour: new Date('2026-11-30T11:00:00Z'), Back: new Date(0) },
    ]);
    // `has` matches whole terms: "upload" is not a term of "keyfront.uploads".
    expect(runKql("AppMetrics | where Name has 'upload' | summarize n = count()", { AppMetrics: metrics }, NOW)).toEqual([{ n: 0 }]);
    expect(runKql('AppMetrics | where Sum in (2, 5) | summarize n = count()', { AppMetrics: metrics }, NOW)).toEqual([{ n: 2 }]);
    expect(runKql('AppMetrics | extend T = 90m | project T', { AppMetrics: metrics.slice(0, 1) }, NOW)).toEqual([{ T: new Timespan(5_400_000) }]);
  });

  it('refuses what it does not know, by name, and a column that does not exist', () => {
    expect(() => runKql('AppMetrics | join (AppTraces) on OperationId', { AppMetrics: metrics }, NOW)).toThrow(new KqlError("the tabular operator 'join' is not supported here (test/support/kql.ts)"));
    expect(() => runKql('AppMetrics | extend x = percentile(Sum, 95)', { AppMetrics: metrics }, NOW)).toThrow('percentile() is not supported');
    expect(() => runKql('AppMetrics | where Nmae == 1', { AppMetrics: metrics }, NOW)).toThrow("no column 'Nmae'");
    expect(() => runKql('AppLogs | where true', { AppMetrics: metrics }, NOW)).toThrow("no table 'AppLogs'");
  });
});
