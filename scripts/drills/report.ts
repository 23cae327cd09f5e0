/**
 * What a drill reports: the figures of the issue (`rpoSeconds`, `rtoSeconds`, `failedSyncs`,
 * `lostUploads`, `danglingIndexEntries`, `duplicateKeys`) with the drill's own details, printed as
 * a table for a person and written as JSON for a pipeline. A drill passes when the last four are 0.
 */
export type DrillName = 'storage' | 'cosmos' | 'origin';
export type DrillTarget = 'local' | 'azure';

export interface DrillFigures {
  /** Data written before the failure that the survivor lacked at the cut, as an age in seconds (0: nothing lost). */
  rpoSeconds: number;
  /** Seconds from the failure until service was whole again (reads and writes). */
  rtoSeconds: number;
  /** Phone syncs that failed after all their retries. */
  failedSyncs: number;
  /** Uploads the API accepted whose keys were not published by the end (or not stored). */
  lostUploads: number;
  /** Index entries naming a file that was not there, seen at any check during or after the drill. */
  danglingIndexEntries: number;
  /** Keys published in more than one file (each extra copy counts). */
  duplicateKeys: number;
}

export interface DrillReport extends DrillFigures {
  drill: DrillName;
  target: DrillTarget;
  startedAt: string;
  durationSeconds: number;
  /** Further figures, named for the README's explanation (e.g. `readRtoSeconds`, `uploadsAccepted`). */
  details: Record<string, number | string | boolean>;
  passed: boolean;
}

/** The four figures that must be 0 for a drill to pass. */
export const MUST_BE_ZERO = ['failedSyncs', 'lostUploads', 'danglingIndexEntries', 'duplicateKeys'] as const;

export function drillPassed(figures: DrillFigures): boolean {
  return MUST_BE_ZERO.every((name) => figures[name] === 0);
}

const round = (value: number) => Math.round(value * 100) / 100;

/** The report as a two-column table, the figures first. */
export function renderReport(report: DrillReport): string {
  const rows: Array<[string, string]> = [
    ['drill', `${report.drill} (${report.target})`],
    ['started', report.startedAt],
    ['duration', `${round(report.durationSeconds)} s`],
    ['rpoSeconds', String(round(report.rpoSeconds))],
    ['rtoSeconds', String(round(report.rtoSeconds))],
    // Azure drills act on the control plane only: phones' figures are not measured there.
    ...MUST_BE_ZERO.map((name): [string, string] => [name, Number.isNaN(report[name]) ? 'not measured' : `${report[name]}${report[name] === 0 ? '' : '   <- must be 0'}`]),
    ...Object.entries(report.details).map(([name, value]): [string, string] => [name, typeof value === 'number' ? String(round(value)) : String(value)]),
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`);
  const measured = MUST_BE_ZERO.filter((name) => !Number.isNaN(report[name]));
  const verdict = report.passed ? (measured.length > 0 ? 'nothing lost, nothing dangling, nothing twice' : 'the resource is in the state the drill wanted') : measured.some((name) => report[name] !== 0) ? `${measured.filter((name) => report[name] !== 0).join(', ')} not 0` : 'see the figures above';
  return `${lines.join('\n')}\n${report.passed ? 'PASSED' : 'FAILED'}: ${report.drill} drill (${report.target}), ${verdict}\n`;
}
