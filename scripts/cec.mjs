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
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const DEFAULT_PATH = "/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate";

export async function validateAsCec(base, path, { token, userId, userName, tenant }) {
  const response = await fetch(new URL(path, base), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ Token: token, userName, userId, tenantSpaceId: tenant }),
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, retCode: body?.retCode, message: body?.message ?? text.slice(0, 200) };
}

function describe({ status, retCode, message }) {
  const verdict = retCode === 0 ? "VALID" : "REFUSED";
  return `${verdict}: HTTP ${status}, retCode ${retCode ?? "none"} (${message})`;
}

async function e2e(base, path, apiKey, tenant) {
  const identity = { userId: `cec-sim-${Date.now()}`, userName: "CEC Simulator", tenant };
  let surprises = 0;
  const step = (name, ok, detail) => {
    if (!ok) surprises += 1;
    console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
  };
  const api = (method, route, body) =>
    fetch(new URL(route, base), {
      method,
      headers: { Authorization: `Bearer ${apiKey}`, ...(body && { "Content-Type": "application/json" }) },
      body: body && JSON.stringify(body),
    });

  const health = await fetch(new URL("/healthz", base));
  step("healthz answers 200", health.status === 200, `HTTP ${health.status}`);

  const issued = await api("POST", "/v1/tokens", {
    userId: identity.userId,
    userName: identity.userName,
    tenantSpaceId: tenant,
  });
  const issuedBody = await issued.json().catch(() => ({}));
  step(
    "issue a token with the API key",
    issued.status === 201 && typeof issuedBody.token === "string",
    `HTTP ${issued.status}`,
  );
  if (issued.status !== 201) return surprises;
  const { token, tokenId } = issuedBody;

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
  const revoked = await api("DELETE", `/v1/tokens/${tokenId}`);
  step("revoke the token", revoked.status === 204, `HTTP ${revoked.status}`);
  const afterRevoke = await validateAsCec(base, path, { ...identity, token });
  step("revoked token: retCode 6", afterRevoke.retCode === 6, describe(afterRevoke));

  return surprises;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: "string" },
      path: { type: "string", default: DEFAULT_PATH },
      token: { type: "string" },
      "user-id": { type: "string" },
      "user-name": { type: "string" },
      tenant: { type: "string" },
      "api-key": { type: "string" },
      ca: { type: "string" },
    },
  });
  if (values.ca) {
    // fetch reads the extra CA at start-up only; load it for this process explicitly.
    const { setDefaultCACertificates, getCACertificates } = await import("node:tls");
    setDefaultCACertificates?.([...getCACertificates("default"), readFileSync(values.ca, "utf8")]);
  }
  const [command] = positionals;
  if (
    command === "validate" &&
    values.url &&
    values.token &&
    values["user-id"] &&
    values["user-name"] &&
    values.tenant
  ) {
    const result = await validateAsCec(values.url, values.path, {
      token: values.token,
      userId: values["user-id"],
      userName: values["user-name"],
      tenant: values.tenant,
    });
    console.log(describe(result));
    return result.retCode === 0 ? 0 : 1;
  }
  if (command === "e2e" && values.url && values["api-key"] && values.tenant) {
    const surprises = await e2e(values.url, values.path, values["api-key"], values.tenant);
    console.log(surprises === 0 ? "e2e: all checks passed" : `e2e: ${surprises} surprise(s)`);
    return surprises === 0 ? 0 : 1;
  }
  console.error(
    "usage: npm run cec -- validate --url URL --token T --user-id ID --user-name NAME --tenant ID\n" +
      "       npm run cec -- e2e --url URL --api-key KEY --tenant ID   [--path P] [--ca ca.pem]",
  );
  return 2;
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
