/**
 * For `bench/log-line-cost.mjs` only (never deployed): each way of building the request
 * log line and handing it to `console`, and each piece of the request log's other
 * per-request work, run `n` times in a loop inside workerd, so that a cost of a few
 * microseconds can be measured without the noise of whole requests.
 */
import { replaceForbiddenCharacters } from "../src/core/text";
import { describeCaller } from "../src/observability/address-class";
import { logAsJsonText, logEvent } from "../src/observability/log";
import { pseudonymise } from "../src/observability/pseudonym";
import { clientRequestIdOf, requestIdFor } from "../src/observability/request-log";
import { reportSecurityEvents } from "../src/observability/security-events";
import { countRequest } from "../src/observability/stats";

// Bundled with wrangler.toml, whose LEDGER binding names this class: the entry must export it.
export { TokenLedger } from "../src/state/ledger/token-ledger";

/** The fields of a successful validation's line, as `observe` passes them. */
const fields = () => ({
  requestId: crypto.randomUUID(),
  clientRequestId: undefined,
  method: "POST",
  route: "/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate",
  status: 200,
  retCode: 0,
  outcome: "ok",
  reason: "validate success",
  tenant: "202007159031",
  channel: undefined,
  user: "AbCdEfGhIjKlMnOpQrStUv",
  kid: "bench",
  apiKey: undefined,
  caller: "public-ipv4",
  asn: 395747,
  colo: "DFW",
  latencyMs: 3,
});

/** The object without Object.entries' arrays. */
function objectForIn(fieldsGiven: Record<string, unknown>) {
  const line: Record<string, unknown> = { level: "info", event: "request" };
  for (const name in fieldsGiven) {
    const value = fieldsGiven[name];
    if (value !== undefined)
      line[name] = typeof value === "string" ? replaceForbiddenCharacters(value) : value;
  }
  return line;
}

/** The JSON text concatenated by hand, one JSON.stringify per value. */
function textByHand(fieldsGiven: Record<string, unknown>) {
  let line = '{"level":"info","event":"request"';
  for (const name in fieldsGiven) {
    const value = fieldsGiven[name];
    if (value === undefined) continue;
    line += `,"${name}":${JSON.stringify(typeof value === "string" ? replaceForbiddenCharacters(value) : value)}`;
  }
  return `${line}}`;
}

let sink: unknown;
let request: Request;
let pseudonymKey: CryptoKey | undefined;

export const VARIANTS: Record<string, () => unknown> = {
  // The request log's other per-request work.
  "describeCaller (address class, asn, colo)": () => {
    sink = describeCaller(request);
  },
  "request ids (fresh UUID, client id check)": () => {
    sink = [requestIdFor(request), clientRequestIdOf(request)];
  },
  "pseudonym, cached": () => pseudonymise(pseudonymKey as CryptoKey, "202007159031", "10010001"),
  "isolate counters": () => countRequest("/x", 200, 0),
  "security events of an ok decision": () =>
    reportSecurityEvents({
      requestId: "r",
      route: "/x",
      outcome: "ok",
      reason: "validate success",
      tenant: "t",
      user: "u",
      caller: "public-ipv4",
      limiter: undefined,
      securityEvent: undefined,
    }),
  // Building the line, not logging it.
  "fields only": () => {
    sink = fields();
  },
  "build: object (Object.entries, as logEvent)": () => {
    const line: Record<string, unknown> = { level: "info", event: "request" };
    for (const [name, value] of Object.entries(fields())) {
      if (value !== undefined)
        line[name] = typeof value === "string" ? replaceForbiddenCharacters(value) : value;
    }
    sink = line;
  },
  "build: object (for...in)": () => {
    sink = objectForIn(fields());
  },
  "build: JSON text (JSON.stringify of the object)": () => {
    sink = JSON.stringify(objectForIn(fields()));
  },
  "build: JSON text (by hand)": () => {
    sink = textByHand(fields());
  },
  // Building and handing to console.
  "logEvent, object (deployed)": () => {
    logAsJsonText(false);
    logEvent("info", "request", fields());
  },
  "logEvent, JSON text (local)": () => {
    logAsJsonText(true);
    logEvent("info", "request", fields());
  },
  "console.log(object, for...in)": () => console.log(objectForIn(fields())),
  "console.log(JSON text by hand)": () => console.log(textByHand(fields())),
  'console.log("request", object)': () => console.log("request", objectForIn(fields())),
};

export default {
  async fetch(incoming: Request) {
    const url = new URL(incoming.url);
    const variant = VARIANTS[url.searchParams.get("variant") ?? ""];
    if (!variant) return Response.json(Object.keys(VARIANTS));
    request = incoming;
    pseudonymKey ??= await crypto.subtle.importKey(
      "raw",
      new Uint8Array(32),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const times = Number(url.searchParams.get("n") ?? 1000);
    for (let i = 0; i < times; i++) await variant();
    return new Response(typeof sink);
  },
} satisfies ExportedHandler;
