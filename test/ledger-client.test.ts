import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/config";
import { Unavailable } from "../src/core/failures";
import { outcomeResponse } from "../src/http/answer";
import { tokenRefOf } from "../src/state/keys";
import {
  LEDGER_SHARDS,
  LedgerClient,
  type LedgerNamespace,
  newTokenId,
  revocationKeepUntil,
  shardOfTokenId,
  userShard,
} from "../src/state/ledger/ledger-client";
import { TEST_BINDINGS, TEST_TENANT } from "./test-env";

const nowSeconds = () => Math.floor(Date.now() / 1000);
/** Placement as the test configuration has it; a short deadline, so a hang costs the suite little. */
const PLACEMENT = { locationHint: undefined, deadlineMs: 2_000 } as const;
const SHORT_DEADLINE_MS = 40;
const unlimited = () => ({ maxUses: null, now: nowSeconds() });

type Fault = "throw" | "overloaded" | "retryable" | "hang";

/** A Durable Object error as the runtime raises it: an Error with its flags. */
function ledgerError(fault: Exclude<Fault, "hang">): Error {
  const error = new Error(
    "Durable Object storage operation exceeded timeout which caused object to be reset.",
  );
  if (fault === "overloaded") Object.assign(error, { overloaded: true, retryable: false });
  if (fault === "retryable") Object.assign(error, { retryable: true });
  return error;
}

/**
 * The real LEDGER binding, with every stub's `method` made to fail: fault injection, not
 * a mock. `gets` records the options each stub was asked for.
 */
function faultyLedger(method: string, fault: Fault): LedgerNamespace & { gets: unknown[] } {
  const gets: unknown[] = [];
  const failing = () =>
    fault === "hang" ? new Promise<never>(() => {}) : Promise.reject(ledgerError(fault));
  return {
    gets,
    idFromName: (name: string) => env.LEDGER.idFromName(name),
    get(id, options) {
      gets.push(options);
      const stub = env.LEDGER.get(id, options);
      return new Proxy(stub, {
        get(target, property) {
          if (property === method) return failing;
          // Stub members are RPC callers (even `bind` would be a remote call): call them on the stub.
          return (...args: unknown[]) => Reflect.apply(Reflect.get(target, property), target, args);
        },
      });
    },
  };
}

const newUser = () => ({ tenant: TEST_TENANT, user: `user-${crypto.randomUUID()}` });

/** A token as strict-mode issuance makes it: an id naming the user's shard, recorded there. */
async function issueThrough(client: LedgerClient) {
  const user = newUser();
  const tokenId = newTokenId(await userShard(user));
  const token = { ref: await tokenRefOf(tokenId), ...user, issuedAt: nowSeconds() };
  await client.recordIssued({ ...token, keepUntil: nowSeconds() + 600 });
  return { tokenId, token };
}

describe("ledger keying", () => {
  it("a user's shard is stable, in range, and spreads users over all 256 shards", async () => {
    const counts = new Array(LEDGER_SHARDS).fill(0);
    for (let index = 0; index < 25_600; index += 1) {
      const user = { tenant: TEST_TENANT, user: `user-${index}` };
      const shard = await userShard(user);
      expect(shard).toBeGreaterThanOrEqual(0);
      expect(shard).toBeLessThan(LEDGER_SHARDS);
      counts[shard] += 1;
    }
    expect(await userShard({ tenant: TEST_TENANT, user: "user-7" })).toBe(
      await userShard({ tenant: TEST_TENANT, user: "user-7" }),
    );
    // 100 expected per shard; a hash that clumped would leave some far below.
    expect(Math.min(...counts)).toBeGreaterThan(50);
  });

  it("tenant and user are hashed as a pair: ('1','23') and ('12','3') are different users", async () => {
    const shards = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        Promise.all([
          userShard({ tenant: `1${index}`, user: "23" }),
          userShard({ tenant: `1${index}2`, user: "3" }),
        ]),
      ),
    );
    expect(shards.some(([a, b]) => a !== b)).toBe(true);
  });

  it("a token id is 22 base64url characters of 16 random bytes whose first names the shard", () => {
    const ids = new Set<string>();
    for (let shard = 0; shard < 256; shard += 1) {
      const id = newTokenId(shard);
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(shardOfTokenId(id)).toBe(shard);
      ids.add(id);
    }
    expect(ids.size).toBe(256);
    expect(newTokenId(3)).not.toBe(newTokenId(3));
    expect(() => newTokenId(256)).toThrow(RangeError);
    expect(() => newTokenId(-1)).toThrow(RangeError);
  });

  it("what is not a token id names no shard", () => {
    expect(shardOfTokenId("not base64url!")).toBeUndefined();
    expect(shardOfTokenId("AAAA")).toBeUndefined(); // 3 bytes, not 16
    expect(shardOfTokenId(`${newTokenId(1)}AA`)).toBeUndefined();
  });
});

describe("LedgerClient", () => {
  const client = new LedgerClient(env.LEDGER, PLACEMENT);

  it("records, uses and revokes a token in the object its user's shard names", async () => {
    const { tokenId, token } = await issueThrough(client);
    expect(await client.useToken(token, unlimited())).toBe("ok");
    const shard = await client.shardOf(token);
    const rows = await runInDurableObject(
      env.LEDGER.get(env.LEDGER.idFromName(`shard-${shard}`)),
      (_, state) =>
        state.storage.sql
          .exec<{ uses: number }>("SELECT uses FROM tokens WHERE ref = ?", token.ref)
          .toArray(),
    );
    expect(rows).toEqual([{ uses: 1 }]);

    // DELETE /v1/tokens/{tokenId} knows only the id: it finds the same object.
    const now = nowSeconds();
    await client.revokeToken(tokenId, { now, keepUntil: revocationKeepUntil(now) });
    expect(await client.useToken(token, unlimited())).toBe("revoked");
  });

  it("revoking what is not a token id calls nothing and succeeds", async () => {
    const refusing = new LedgerClient(faultyLedger("revokeToken", "throw"), PLACEMENT);
    const now = nowSeconds();
    await expect(refusing.revokeToken("not-a-token-id", { now, keepUntil: now + 60 })).resolves.toBe(
      "revoked",
    );
  });

  it("opens, checks and ends a session; revokes a user", async () => {
    const { token } = await issueThrough(client);
    const session = {
      key: `key-${crypto.randomUUID()}`,
      sid: "sid-1",
      tenant: token.tenant,
      user: token.user,
      keepUntil: nowSeconds() + 600,
    };
    expect(await client.openSession(session, token, unlimited())).toBe("ok");
    const presented = { ...session, tokenRef: token.ref, createTime: Date.now() - 2_000 };
    expect(await client.checkSession(presented)).toBe("ok");
    await client.endSession({
      ...session,
      now: Date.now(),
      tokenRef: token.ref,
      keepUntil: nowSeconds() + 600,
    });
    expect(await client.checkSession(presented)).toBe("ended");
    const now = nowSeconds();
    expect(await client.revokeUser(token, { now, keepUntil: revocationKeepUntil(now) })).toBe(now);
    expect(await client.checkSession(presented)).toBe("userRevoked");
  });

  it("50 concurrent validations of a single-use token through the client: exactly one ok", async () => {
    const { token } = await issueThrough(client);
    const verdicts = await Promise.all(
      Array.from({ length: 50 }, () => client.useToken(token, { maxUses: 1, now: nowSeconds() })),
    );
    expect(verdicts.filter((verdict) => verdict === "ok")).toHaveLength(1);
  });

  it("LEDGER_LOCATION_HINT is passed when the stub is got; without it, no options", async () => {
    const config = await parseConfig({
      ...TEST_BINDINGS,
      CONSISTENCY: "strict",
      LEDGER_LOCATION_HINT: "weur",
    });
    const hinted = faultyLedger("none", "throw");
    const { token } = await issueThrough(LedgerClient.fromConfig(hinted, config));
    expect(hinted.gets).toEqual([{ locationHint: "weur" }]);
    const plain = faultyLedger("none", "throw");
    await new LedgerClient(plain, PLACEMENT).useToken(token, unlimited());
    expect(plain.gets).toEqual([undefined]);
  });
});

describe("ledger failures are sorted by what they are", () => {
  it.each<[Fault, string]>([
    ["overloaded", "overloaded"],
    ["retryable", "unreachable (retryable)"],
    ["hang", "timed out"],
  ])(
    "a call that fails transiently (%s) is Unavailable: 503, retCode 4, Retry-After",
    async (fault, failure) => {
      const { token } = await issueThrough(new LedgerClient(env.LEDGER, PLACEMENT));
      const broken = new LedgerClient(faultyLedger("useToken", fault), {
        ...PLACEMENT,
        deadlineMs: SHORT_DEADLINE_MS,
      });
      const started = Date.now();
      const error = await broken.useToken(token, unlimited()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Unavailable);
      expect(error).toMatchObject({
        dependency: "ledger",
        operation: "use token",
        failure,
        outcome: "serviceUnavailable",
      });
      // The runtime's message stays out of the log fields.
      expect(JSON.stringify(error)).not.toContain("storage operation");
      if (fault === "hang") expect(Date.now() - started).toBeGreaterThanOrEqual(SHORT_DEADLINE_MS - 5);
      const response = outcomeResponse((error as Unavailable).outcome);
      expect(response.status).toBe(503);
      expect(response.headers.get("Retry-After")).toBe("1");
      expect(await response.json()).toEqual({
        retCode: 4,
        message: "system error: service temporarily unavailable, retry later",
      });
    },
  );

  it("an error the runtime does not mark transient is not dressed up as an outage", async () => {
    const { token } = await issueThrough(new LedgerClient(env.LEDGER, PLACEMENT));
    const broken = new LedgerClient(faultyLedger("useToken", "throw"), PLACEMENT);
    const error = await broken.useToken(token, unlimited()).catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(Unavailable);
    expect(error).toMatchObject({ message: expect.stringContaining("storage operation") });
  });

  it.each(["recordIssued", "revokeToken", "revokeUser", "openSession", "checkSession", "endSession"])(
    "%s failing transiently is Unavailable too, never an answer",
    async (method) => {
      const broken = new LedgerClient(faultyLedger(method, "overloaded"), PLACEMENT);
      const user = newUser();
      const token = { ref: "ref", ...user, issuedAt: nowSeconds() };
      const session = { key: "key", sid: "sid", ...user, keepUntil: nowSeconds() + 60 };
      const now = nowSeconds();
      const calls: Record<string, () => Promise<unknown>> = {
        recordIssued: () => broken.recordIssued({ ...token, keepUntil: now + 60 }),
        revokeToken: () => broken.revokeToken(newTokenId(1), { now, keepUntil: now + 60 }),
        revokeUser: () => broken.revokeUser(user, { now, keepUntil: now + 60 }),
        openSession: () => broken.openSession(session, token, unlimited()),
        checkSession: () => broken.checkSession({ ...session, tokenRef: "ref", createTime: Date.now() }),
        endSession: () =>
          broken.endSession({ ...session, now: Date.now(), tokenRef: "ref", keepUntil: nowSeconds() + 60 }),
      };
      await expect(calls[method]?.()).rejects.toBeInstanceOf(Unavailable);
    },
  );
});
