/**
 * One evaluation of a log alert rule as Azure Monitor makes it ("Create a log search alert rule":
 * the query runs over the rule's window ending now; with a measure column, the rows are grouped by
 * the split dimensions and the measure aggregated per group with the rule's time aggregation; each
 * group whose value compares with the threshold as the operator says fires), on workspace rows.
 * It reads the rule from the compiled template, so what is tested is what is deployed.
 */
import type { ArmResource } from '../../infra/arm';
import { runKql, type KqlRow, type KqlValue } from './kql';
import type { WorkspaceTables } from './workspace-rows';

export interface Firing {
  /** The split dimensions' values (empty without a split). */
  dimensions: Record<string, string>;
  value: number;
}

export interface AlertEvaluation {
  /** The query's rows over the window. */
  rows: KqlRow[];
  firing: Firing[];
}

interface Criterion {
  query: string;
  timeAggregation: 'Count' | 'Average' | 'Minimum' | 'Maximum' | 'Total';
  metricMeasureColumn?: string;
  operator: 'Equals' | 'GreaterThan' | 'GreaterThanOrEqual' | 'LessThan' | 'LessThanOrEqual';
  threshold: number;
  dimensions?: Array<{ name: string; operator: 'Include'; values: string[] }>;
}

/** `PT15M`, `PT1H`, `P1D` in ms. */
export function isoDurationMs(text: string): number {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(text);
  if (!match || text === 'P' || text === 'PT') throw new Error(`not an ISO 8601 duration of days, hours and minutes: ${text}`);
  return ((Number(match[1] ?? 0) * 24 + Number(match[2] ?? 0)) * 60 + Number(match[3] ?? 0)) * 60_000;
}

function aggregate(values: number[], how: Criterion['timeAggregation']): number {
  switch (how) {
    case 'Count':
      return values.length;
    case 'Total':
      return values.reduce((sum, value) => sum + value, 0);
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    default:
      return values.reduce((sum, value) => sum + value, 0) / values.length;
  }
}

function compares(value: number, operator: Criterion['operator'], threshold: number): boolean {
  switch (operator) {
    case 'Equals':
      return value === threshold;
    case 'GreaterThan':
      return value > threshold;
    case 'GreaterThanOrEqual':
      return value >= threshold;
    case 'LessThan':
      return value < threshold;
    default:
      return value <= threshold;
  }
}

function asNumber(value: KqlValue): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Evaluates `rule` (a `Microsoft.Insights/scheduledQueryRules` resource) on `tables` at `now`. */
export function evaluateLogAlert(rule: ArmResource, tables: WorkspaceTables, now: Date): AlertEvaluation {
  const properties = rule.properties as { windowSize: string; criteria: { allOf: Criterion[] } };
  const [criterion] = properties.criteria.allOf;
  const from = now.getTime() - isoDurationMs(properties.windowSize);
  const inWindow = Object.fromEntries(Object.entries(tables).map(([name, rows]) => [name, rows.filter((row) => (row.TimeGenerated as Date).getTime() > from && (row.TimeGenerated as Date).getTime() <= now.getTime())]));
  const rows = runKql(criterion.query, inWindow, now);
  const split = (criterion.dimensions ?? []).map((dimension) => dimension.name);
  const groups = new Map<string, { dimensions: Record<string, string>; values: number[] }>();
  for (const row of rows) {
    const dimensions = Object.fromEntries(split.map((name) => [name, String(row[name] ?? '')]));
    const id = JSON.stringify(dimensions);
    const group = groups.get(id) ?? { dimensions, values: [] };
    if (criterion.metricMeasureColumn === undefined) group.values.push(1);
    else {
      const value = asNumber(row[criterion.metricMeasureColumn]);
      if (value !== null) group.values.push(value);
    }
    groups.set(id, group);
  }
  const firing: Firing[] = [];
  for (const group of groups.values()) {
    if (group.values.length === 0) continue;
    const value = aggregate(group.values, criterion.timeAggregation);
    if (compares(value, criterion.operator, criterion.threshold)) firing.push({ dimensions: group.dimensions, value });
  }
  return { rows, firing };
}
