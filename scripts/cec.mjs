#!/usr/bin/env node
// `npm run cec -- ...`: plays CEC's side against any deployment.
//
//   npm run cec -- validate --url <base-url> --token <token> --user-id <id> --user-name <name> --tenant <id>
//     Calls the validate endpoint as CEC does and prints the verdict and what its retCode means.
//   npm run cec -- e2e --url <base-url> --api-key <key> --tenant <id>
//     A scripted check: issue with the API key, validate, tamper, mismatch, revoke. Exits
//     non-zero on any surprise. Prove a deployment with it before handing CEC the URL.
//
// Options: --path <validate path> (default CEC's), --ca <pem> to trust a private CA
// (for example .certs/ca.pem with `npm run dev:https`).
import { checkUrlOption, parseOptions, readCaCertificate, trustForFetch, usageError } from "./cli.mjs";

const USAGE = `usage: npm run cec -- validate --url URL --token T --user-id ID --user-name NAME --tenant ID [--path P] [--ca ca.pem]
       npm run cec -- e2e --url URL --api-key KEY --tenant ID [--path P] [--ca ca.pem]

validate  one validate call as CEC makes it; prints the verdict (HTTP status, retCode, message)
e2e       issue with the API key, validate (retCode 0), tamper (2), another identity (5),
          revoke and validate again (6); prints the HTTP status, retCode and message of
          every unexpected answer and exits 1 on any
--path    the validate path (default /rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate)
--ca      a PEM file of an extra CA to trust (for example .certs/ca.pem with npm run dev:https)

Exit status: 0 as expected, 1 a surprise or failure, 2 usage.`;

const REQUIRED = {
  validate: ["url", "token", "user-id", "user-name", "tenant"],
  e2e: ["url", "api-key", "tenant"],
};

/** Certificate errors from Node's TLS: the fix is usually --ca. */
const TLS_ERRORS =
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO|wrong version number/i;

/** Why a request failed, with what to do about it. */
export function explainFetchError(error, url) {
  const cause = error.cause ?? error;
  const code = cause.code ?? "";
  const detail = `${code ? `${code}: ` : ""}${String(cause.message ?? error.message).split("\n")[0]}`;
  // Plain HTTP to a TLS port: the server answers with TLS bytes (a parse error) or hangs up.
  if (url.startsWith("http://") && (/^HPE_/.test(code) || code === "UND_ERR_SOCKET")) {
    return `${url} did not answer plain HTTP (${detail}): is it HTTPS? Try https://${url.slice("http://".length)}`;
  }
  if (/WRONG_VERSION_NUMBER|wrong version number/i.test(`${code} ${cause.message}`)) {
    return `TLS failure talking to ${url} (${detail}): the server does not speak TLS there; is it http:// rather than https://?`;
  }
  if (TLS_ERRORS.test(`${code} ${cause.message}`)) {
    return `TLS failure talking to ${url} (${detail}): if the server uses a private CA, pass it with --ca <pem> (for example --ca .certs/ca.pem with npm run dev:https)`;
  }
  if (code === "ECONNREFUSED") return `cannot connect to ${url} (${detail}): is the Worker running there?`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `cannot resolve ${url} (${detail})`;
  return `request to ${url} failed (${detail})`;
}

export const DEFAULT_PATH = "/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate";

export async function validateAsCec(base, path, { token, userId, userName, tenant }) {
  const response = await fetch(new URL(path, base), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ Token: token, userName, userId, tenantSpaceId: tenant }),
  });
  const { status, body, message, contentType, firstLine } = await readAnswer(response);
  return { status, retCode: body?.retCode, message, contentType, firstLine };
}

export function describe({ status, retCode, message, contentType, firstLine }) {
  if (typeof retCode !== "number") {
    // Not a verdict: another server, or another path of one.
    return `NOT THIS WORKER: HTTP ${status}, content-type ${contentType}, first line ${JSON.stringify(firstLine)}: is --url the Worker's address, and --path its VALIDATE_PATH?`;
  }
  const verdict = retCode === 0 ? "VALID" : "REFUSED";
  return `${verdict}: HTTP ${status}, retCode ${retCode} (${message})`;
}

/**
 * Status, retCode and message of any answer: what tells a misconfiguration from a bug.
 * An answer that is not JSON is summed up by its content type and first line, never dumped.
 */
export async function readAnswer(response) {
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const contentType = response.headers.get("content-type")?.split(";")[0]?.trim() || "none";
  const line =
    text
      .split(/\r?\n/)
      .find((candidate) => candidate.trim())
      ?.trim() ?? "";
  const firstLine = line.length > 100 ? `${line.slice(0, 100)}…` : line;
  const json = typeof body === "object" && body !== null;
  const message = json ? (body.message ?? "no message") : "";
  return {
    status: response.status,
    body: json ? body : undefined,
    message,
    contentType,
    firstLine,
    summary: json
      ? `HTTP ${response.status}, retCode ${body.retCode ?? "none"} (${message})`
      : `HTTP ${response.status}, not this Worker's answer (content-type ${contentType}, first line ${JSON.stringify(firstLine)})`,
  };
}

/** A step's line: `ok   name: detail` or `FAIL name: detail`. */
export const stepLine = ({ name, ok, detail }) =>
  `${ok ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`;

/**
 * CEC's round trip: healthz, issue with the API key, validate (retCode 0), tamper (2),
 * another identity (5), revoke and validate again (6). Each step `{ name, ok, detail }` is
 * handed to `report` as it ends (details never hold the key or a token). Returns them all,
 * and whether it went to the end (it stops when no token was issued). A request that
 * cannot be made at all throws (fetch's TypeError).
 */
export async function roundTrip(base, path, apiKey, tenant, report = () => {}) {
  const identity = { userId: `cec-sim-${Date.now()}`, userName: "CEC Simulator", tenant };
  const steps = [];
  const step = (name, ok, detail) => {
    steps.push({ name, ok, detail });
    report(steps.at(-1));
  };
  const api = (method, route, body) =>
    fetch(new URL(route, base), {
      method,
      headers: { Authorization: `Bearer ${apiKey}`, ...(body && { "Content-Type": "application/json" }) },
      body: body && JSON.stringify(body),
    });

  const health = await readAnswer(await fetch(new URL("/healthz", base)));
  const healthy = health.status === 200 && health.body?.status === "ok";
  step("healthz answers 200", healthy, healthy ? "" : health.summary);

  const issued = await readAnswer(
    await api("POST", "/v1/tokens", {
      userId: identity.userId,
      userName: identity.userName,
      tenantSpaceId: tenant,
    }),
  );
  const issuedOk = issued.status === 201 && typeof issued.body?.token === "string";
  step("issue a token with the API key", issuedOk, issuedOk ? "HTTP 201" : issued.summary);
  if (!issuedOk) return { steps, finished: false };
  const { token, tokenId } = issued.body;

  const valid = await validateAsCec(base, path, { ...identity, token });
  step("validate: retCode 0", valid.retCode === 0, describe(valid));

  const [header, payload, signature] = token.split(".");
  const flipped = `${header}.${payload}.${signature[0] === "A" ? "B" : "A"}${signature.slice(1)}`;
  const tampered = await validateAsCec(base, path, { ...identity, token: flipped });
  step("tampered signature: retCode 2", tampered.retCode === 2, describe(tampered));

  const mismatch = await validateAsCec(base, path, {
    ...identity,
    userId: `${identity.userId}-other`,
    token,
  });
  step("another user's identity: retCode 5", mismatch.retCode === 5, describe(mismatch));

  // Workers KV takes at most one write per second to a key: the record was just written.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const revoked = await readAnswer(await api("DELETE", `/v1/tokens/${tokenId}`));
  step("revoke the token", revoked.status === 204, revoked.status === 204 ? "HTTP 204" : revoked.summary);
  const afterRevoke = await validateAsCec(base, path, { ...identity, token });
  step("revoked token: retCode 6", afterRevoke.retCode === 6, describe(afterRevoke));

  return { steps, finished: true };
}

async function main() {
  const { values, positionals } = parseOptions(
    "cec",
    USAGE,
    process.argv.slice(2),
    {
      url: { type: "string" },
      path: { type: "string", default: DEFAULT_PATH },
      token: { type: "string" },
      "user-id": { type: "string" },
      "user-name": { type: "string" },
      tenant: { type: "string" },
      "api-key": { type: "string" },
      ca: { type: "string" },
    },
    { allowPositionals: true },
  );
  const [command, ...extra] = positionals;
  if (!command) usageError("cec", USAGE, "missing a command: validate or e2e");
  if (!(command in REQUIRED)) usageError("cec", USAGE, `unknown command '${command}'`);
  if (extra.length > 0) usageError("cec", USAGE, `unexpected argument '${extra[0]}'`);
  const missing = REQUIRED[command].filter((name) => !values[name]);
  if (missing.length > 0) {
    usageError("cec", USAGE, `${command} needs ${missing.map((name) => `--${name}`).join(", ")}`);
  }
  checkUrlOption("cec", USAGE, values.url, {
    hint: (url) => `write http://${url} (npm run dev) or https://${url}`,
  });
  if (values.ca) await trustForFetch(readCaCertificate("cec", USAGE, values.ca));
  try {
    if (command === "validate") {
      const result = await validateAsCec(values.url, values.path, {
        token: values.token,
        userId: values["user-id"],
        userName: values["user-name"],
        tenant: values.tenant,
      });
      console.log(describe(result));
      return result.retCode === 0 ? 0 : 1;
    }
    const { steps } = await roundTrip(values.url, values.path, values["api-key"], values.tenant, (step) =>
      console.log(stepLine(step)),
    );
    const surprises = steps.filter((step) => !step.ok).length;
    console.log(surprises === 0 ? "e2e: all checks passed" : `e2e: ${surprises} surprise(s)`);
    return surprises === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof TypeError && error.message === "fetch failed") {
      console.error(`cec: ${explainFetchError(error, values.url)}`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`cec: ${error.cause?.message ?? error.message}`);
      process.exit(1);
    },
  );
}
