/**
 * One Analytics Engine data point per request, when the optional METRICS binding is
 * configured (README, "Metrics"). Column order is the query contract:
 * blob1 route, blob2 outcome, blob3 tenant, blob4 method, blob5 caller class;
 * double1 retCode (-1 when none), double2 HTTP status, double3 latency ms; index1 tenant.
 */
export interface MetricPoint {
  route: string;
  outcome: string;
  tenant: string | undefined;
  method: string;
  caller: string;
  retCode: number | undefined;
  status: number;
  latencyMs: number;
}

export function writeMetric(dataset: AnalyticsEngineDataset | undefined, point: MetricPoint) {
  if (!dataset) return;
  try {
    dataset.writeDataPoint({
      blobs: [point.route, point.outcome, point.tenant ?? "", point.method, point.caller],
      doubles: [point.retCode ?? -1, point.status, point.latencyMs],
      indexes: [point.tenant ?? "none"],
    });
  } catch {
    // Metrics never fail a request; the request log line still carries everything.
  }
}
