/**
 * Placeholder seam: the telemetry branch owns this file and replaces it with the workbook, alerts,
 * action group and diagnostic settings. Until that merge the deployment compiles with none.
 */
import type { ArmResource, MonitoringContext } from './arm';

export function monitoringResources(ctx: MonitoringContext): ArmResource[] {
  void ctx;
  return [];
}
