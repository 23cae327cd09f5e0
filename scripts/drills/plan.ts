/**
 * A drill is a plan (data) and an executor: the dry run prints the plan, `--execute` runs it,
 * announcing each step as it starts, then prints the report. The steps are the plan's own
 * functions, so what is printed is what runs.
 */
import type { DrillName, DrillReport, DrillTarget } from './report';

export interface DrillStep {
  title: string;
  /** What the step does, in one or two sentences (printed in the plan). */
  detail: string;
}

export interface DrillPlan {
  drill: DrillName;
  target: DrillTarget;
  summary: string;
  steps: DrillStep[];
  /** What the drill changes (for Azure drills: the resources it touches), printed before the steps. */
  touches: string[];
}

/** Progress of a running drill: step changes and notable events, one line each. */
export interface DrillProgress {
  step(index: number, step: DrillStep): void;
  note(text: string): void;
}

export interface Drill {
  plan: DrillPlan;
  execute(progress: DrillProgress, abortSignal?: AbortSignal): Promise<DrillReport>;
}

export function renderPlan(plan: DrillPlan): string {
  const lines = [`${plan.drill} drill (${plan.target}): ${plan.summary}`];
  if (plan.touches.length > 0) lines.push('touches:', ...plan.touches.map((item) => `  - ${item}`));
  lines.push('steps:', ...plan.steps.map((step, index) => `  ${index + 1}. ${step.title}: ${step.detail}`));
  return `${lines.join('\n')}\n`;
}

/** Progress written as lines with the elapsed time (a drill's steps are few and long; a bar would say less). */
export function lineProgress(write: (text: string) => void, now: () => number = Date.now): DrillProgress {
  const start = now();
  const stamp = () => `[${((now() - start) / 1000).toFixed(1).padStart(6)} s]`;
  return {
    step(index, step) {
      write(`${stamp()} step ${index + 1}: ${step.title}\n`);
    },
    note(text) {
      write(`${stamp()}   ${text}\n`);
    },
  };
}
