import type { MiddlewareHandler } from "hono";
import { OUTCOMES } from "../core/outcomes";
import type { AppEnv } from "../http/app-env";
import { describeCaller } from "./address-class";
import type { Audit } from "./audit";
import { logEvent } from "./log";
import { writeMetric } from "./metrics";
import { pseudonymise } from "./pseudonym";
import { reportSecurityEvents } from "./security-events";
import { countRequest } from "./stats";

/** An incoming X-Request-Id is reused only when it looks like an id, not a payload. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * This request's id: Cloudflare's cf-ray when present (the id Cloudflare's own logs
 * carry), otherwise a fresh UUID. Never the client's: a client could make many requests
 * share one id, or borrow another's.
 */
export function requestIdFor(request: Request): string {
  const ray = request.headers.get("cf-ray");
  return ray && REQUEST_ID_PATTERN.test(ray) ? ray : crypto.randomUUID();
}

/** The client's own X-Request-Id, kept as its own log field when it looks like an id. */
export function clientRequestIdOf(request: Request): string | undefined {
  const incoming = request.headers.get("X-Request-Id");
  return incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : undefined;
}

export interface ObserveOptions {
  /** TENANT_SPACE_IDS: a tenant is logged only once known to be served. */
  readonly servedTenants: ReadonlySet<string>;
  /** LOG_USER_IDS: `hashed` logs a keyed hash of (tenant, user id), `raw` the id. */
  readonly userIds: "hashed" | "raw";
  readonly pseudonymKey: CryptoKey;
}

/** One finished request or RPC call, as the log line, the security events and the metrics have it. */
export interface FinishedCall {
  readonly requestId: string;
  readonly clientRequestId?: string | undefined;
  /** The HTTP method, or `RPC` for a call over a service binding. */
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly audit: Audit;
  /** The caller's address class, or `service-binding`. */
  readonly caller: string;
  readonly asn?: number | undefined;
  readonly colo?: string | undefined;
  readonly latencyMs: number;
}

/**
 * Writes what a finished call decided: one structured log line, the security events it
 * carries, a metrics data point and the isolate's counters. The HTTP routes (`observe`)
 * and the RPC entrypoint (src/rpc) both end here, so their lines are alike.
 */
export async function recordCall(
  options: ObserveOptions,
  metrics: AnalyticsEngineDataset | undefined,
  call: FinishedCall,
) {
  const { audit, status, route, caller } = call;
  const outcome = audit.outcome ?? (status < 400 ? "ok" : undefined);
  const retCode = audit.outcome ? OUTCOMES[audit.outcome].retCode : undefined;
  // An unserved tenant is whatever the caller sent: logged only once known to be served.
  const tenant =
    audit.tenant !== undefined && options.servedTenants.has(audit.tenant) ? audit.tenant : undefined;
  const user =
    audit.userId === undefined
      ? undefined
      : options.userIds === "raw"
        ? audit.userId
        : await pseudonymise(options.pseudonymKey, audit.tenant, audit.userId);

  logEvent(status >= 500 ? "error" : "info", "request", {
    requestId: call.requestId,
    clientRequestId: call.clientRequestId,
    method: call.method,
    route,
    status,
    retCode,
    outcome,
    reason: audit.reason,
    tenant,
    channel: audit.channelId,
    user,
    kid: audit.kid,
    apiKey: audit.apiKey,
    binding: audit.binding,
    caller,
    asn: call.asn,
    colo: call.colo,
    latencyMs: call.latencyMs,
  });
  reportSecurityEvents({
    requestId: call.requestId,
    route,
    outcome,
    reason: audit.reason,
    tenant,
    user,
    caller,
    apiKey: audit.apiKey,
    binding: audit.binding,
    limiter: audit.limiter,
    securityEvent: audit.securityEvent,
  });
  countRequest(route, status, retCode);
  writeMetric(metrics, {
    route,
    outcome: outcome ?? "none",
    tenant,
    method: call.method,
    caller,
    retCode,
    status,
    latencyMs: call.latencyMs,
  });
}

/**
 * First in the chain: gives the request its id (returned as X-Request-Id), and when the
 * answer is ready records it (recordCall).
 */
export function observe(options: ObserveOptions): MiddlewareHandler<AppEnv> {
  return async function observe(c, next) {
    const started = Date.now();
    const requestId = requestIdFor(c.req.raw);
    c.set("requestId", requestId);
    c.set("audit", {});
    await next();
    // Set on the response in place: c.header() would copy a finished Response first.
    c.res.headers.set("X-Request-Id", requestId);
    const matched = c.req.routePath;
    await recordCall(options, c.env.METRICS, {
      requestId,
      clientRequestId: clientRequestIdOf(c.req.raw),
      method: c.req.method,
      route: matched === "/*" || matched === "*" ? "unmatched" : matched,
      status: c.res.status,
      audit: c.var.audit,
      ...describeCaller(c.req.raw),
      latencyMs: Date.now() - started,
    });
  };
}
