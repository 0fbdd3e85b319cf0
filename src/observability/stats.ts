/**
 * Counters kept in this isolate's memory since it started: what `GET /v1/stats` answers.
 * Cheap and exact for this isolate, but only for it: Cloudflare runs many isolates in
 * many locations, each with its own counters, and an isolate may be recycled at any time.
 * The global picture is in Workers Logs and the Analytics Engine dataset (README).
 */
/**
 * Taken at the first request, not at module scope: while a module is evaluated the
 * Workers clock reads zero, and the isolate would claim to have started in 1970.
 */
let startedAt: string | undefined;
let requests = 0;
const byRoute = new Map<string, Map<string, number>>();
const byRetCode = new Map<string, number>();
const securityEvents = new Map<string, number>();

const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

const markStarted = () => {
  startedAt ??= new Date().toISOString();
  return startedAt;
};

export function countRequest(route: string, status: number, retCode: number | undefined) {
  markStarted();
  requests += 1;
  let statuses = byRoute.get(route);
  if (!statuses) {
    statuses = new Map();
    byRoute.set(route, statuses);
  }
  bump(statuses, String(status));
  if (retCode !== undefined) bump(byRetCode, String(retCode));
}

export function countSecurityEvent(kind: string) {
  bump(securityEvents, kind);
}

export function statsSnapshot() {
  return {
    scope: "this isolate only, since it started",
    // The stats request itself may be the first: it is counted only once answered.
    isolateStartedAt: markStarted(),
    requests,
    byRoute: Object.fromEntries(
      [...byRoute].map(([route, statuses]) => [route, Object.fromEntries(statuses)]),
    ),
    byRetCode: Object.fromEntries(byRetCode),
    securityEvents: Object.fromEntries(securityEvents),
  };
}
