import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { KV_MEMO_SECONDS } from "../src/core/constants";
import { LocationMemo, memoCacheName } from "../src/state/kv/location-memo";
import { faultyKv, NO_KV_MEMO } from "./faults";
import { bearer, callWith, issue, jsonRequest, newIdentity, validate, validateRequest } from "./helpers";
import { cookieValue, endSession, openSession, SESSIONS, verify, withCookie } from "./sessions";

/**
 * The location memo (issue 23): what a Cloudflare location read from KV, or wrote, is not
 * read again for KV_MEMO_SECONDS. It must cut the billed reads of a chat without ever
 * turning a refusal or an unavailable store into a success, and an end made at a location
 * must be seen there at once, by every isolate.
 */

/** The real local KV, counting the reads and writes made through it. */
function countingKv() {
  const counts = { get: 0, put: 0 };
  const kv = new Proxy(env.TOKENS, {
    get(target, property) {
      const member = Reflect.get(target, property);
      if (typeof member !== "function") return member;
      return (...args: unknown[]) => {
        if (property === "get" || property === "put") counts[property] += 1;
        return Reflect.apply(member, target, args);
      };
    },
  });
  return { kv, counts };
}

beforeEach(() => {
  for (const level of ["log", "warn", "error"] as const)
    vi.spyOn(console, level).mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

describe("a chat's KV reads", () => {
  it("one chat (issue, 2 validations, a session opened, 10 verifications, logout) reads KV at most 12 times", async () => {
    const { kv, counts } = countingKv();
    const send = (request: Request) => callWith({ TOKENS: kv }, request);
    const identity = newIdentity();
    const { token } = await issue(identity, {}, send);
    for (const _ of [1, 2]) expect((await validate(token, identity, send)).body.retCode).toBe(0);
    const opened = await send(jsonRequest(SESSIONS, { Token: token, ...identity, channelId: "web-1" }));
    const value = cookieValue(opened);
    for (let i = 0; i < 10; i++) expect((await verify(withCookie(value), send)).status).toBe(204);
    expect((await endSession(value, send)).status).toBe(204);
    expect(counts.get).toBeLessThanOrEqual(12);
    expect(counts.put).toBe(3); // the issued record, the session, the logout: none saved by the memo
  });

  it("without the memo (KV_MEMO_SECONDS=0) the same chat reads KV every time", async () => {
    const { kv, counts } = countingKv();
    const send = (request: Request) => callWith({ TOKENS: kv, ...NO_KV_MEMO }, request);
    const identity = newIdentity();
    const { token } = await issue(identity, {}, send);
    await validate(token, identity, send);
    const value = cookieValue(
      await send(jsonRequest(SESSIONS, { Token: token, ...identity, channelId: "web-1" })),
    );
    await verify(withCookie(value), send);
    expect(counts.get).toBe(2 + 2 + 3);
  });
});

describe("what the memo never does", () => {
  it("an end made at this location is seen at once by every isolate of it", async () => {
    // Two configurations are two isolates' worth of state; the location's cache is shared.
    const isolateA = (request: Request) => callWith({ TOKEN_TTL_SECONDS: "301" }, request);
    const isolateB = (request: Request) => callWith({ TOKEN_TTL_SECONDS: "302" }, request);
    const identity = newIdentity();
    const { token, tokenId } = await issue(identity, {}, isolateA);
    expect((await validate(token, identity, isolateA)).body.retCode).toBe(0); // remembered "issued"
    const revoked = await isolateB(
      new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: bearer() }),
    );
    expect(revoked.status).toBe(204);
    expect((await validate(token, identity, isolateA)).body.retCode).toBe(6);

    const session = cookieValue(await openSession(newIdentity(), "web-1", isolateA));
    expect((await verify(withCookie(session), isolateA)).status).toBe(204); // remembered "live"
    expect((await endSession(session, isolateB)).status).toBe(204);
    expect((await verify(withCookie(session), isolateA)).status).toBe(401);
  });

  it("a read in flight when an end is written here never hides the end once it lands", async () => {
    // Issued elsewhere (nothing remembered here), so this location's validation reads KV.
    const identity = newIdentity();
    const { token, tokenId } = await issue(identity, {}, (request) => callWith(NO_KV_MEMO, request));
    let readDone: () => void = () => {};
    const readHasAnswered = new Promise<void>((resolve) => {
      readDone = resolve;
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // KV answers this validation's token read ("issued"), which then waits at the gate.
    const slowKv = new Proxy(env.TOKENS, {
      get(target, property) {
        const member = Reflect.get(target, property);
        if (property !== "get") return typeof member === "function" ? member.bind(target) : member;
        return async (key: string, options: unknown) => {
          const value = await target.get(key, options as KVNamespaceGetOptions<"json">);
          if (key.startsWith("token:")) {
            readDone();
            await gate;
          }
          return value;
        };
      },
    });
    const inFlight = callWith({ TOKENS: slowKv }, validateRequest(token, identity));
    await readHasAnswered;
    const revoked = await callWith(
      {},
      new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: bearer() }),
    );
    expect(revoked.status).toBe(204);
    release();
    expect(((await (await inFlight).json()) as { retCode: number }).retCode).toBe(0); // it began before the end
    // The in-flight read has now remembered "issued"; what was written here wins.
    expect((await validate(token, identity)).body.retCode).toBe(6);
  });

  it("a failed read is not remembered: the next request reads KV again", async () => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    const failing = await callWith(
      { TOKENS: faultyKv(["get"], "unavailable") },
      validateRequest(token, identity),
    );
    expect(failing.status).toBe(503);
    expect((await validate(token, identity)).body.retCode).toBe(0);
  });

  it("a memo that fails is a miss, never an answer", async () => {
    const broken = new LocationMemo(KV_MEMO_SECONDS, () => Promise.reject(new Error("cache unavailable")), 2);
    expect(await broken.recall("token:x")).toBeUndefined();
    await expect(broken.rememberRead("token:x", null)).resolves.toBeUndefined();
    await expect(broken.rememberWritten("token:x", { state: "issued" })).resolves.toBeUndefined();
    // An entry this class did not put (no `value`) is a miss, never a "not found".
    const strange = { match: async () => new Response("{}") } as unknown as Cache;
    expect(await new LocationMemo(KV_MEMO_SECONDS, async () => strange, 2).recall("token:x")).toBeUndefined();
  });

  /** A cache that records what is put and deleted; `failPuts` makes every put fail. */
  function recordingCache({ failPuts = false } = {}) {
    const puts: { url: string; cacheControl: string | null }[] = [];
    const deletes: string[] = [];
    const cache = {
      put: async (url: string, response: Response) => {
        if (failPuts) throw new Error("cache put failed");
        puts.push({ url, cacheControl: response.headers.get("Cache-Control") });
      },
      match: async () => undefined,
      delete: async (url: string) => deletes.push(url) > 0,
    } as unknown as Cache;
    return { cache, puts, deletes };
  }

  it("keeps a read entry KV_MEMO_SECONDS, a written one longer by the store deadline, under its own made-up origin", async () => {
    const { cache, puts } = recordingCache();
    // A 2 s store deadline: a read in flight when the write was made ends within it, and
    // whatever it remembers expires before the written entry does.
    const memo = new LocationMemo(KV_MEMO_SECONDS, async () => cache, 2);
    await memo.rememberRead("token:abc", null);
    await memo.rememberWritten("token:abc", { state: "revoked" });
    expect(puts).toEqual([
      {
        url: "https://kv-memo.cec-edge-token.internal/read/token:abc",
        cacheControl: `max-age=${KV_MEMO_SECONDS}`,
      },
      {
        url: "https://kv-memo.cec-edge-token.internal/written/token:abc",
        cacheControl: `max-age=${KV_MEMO_SECONDS + 2}`,
      },
    ]);
    expect(KV_MEMO_SECONDS).toBeLessThanOrEqual(30);
  });

  it("a write it cannot remember removes both of the key's entries, so no older one answers", async () => {
    const { cache, deletes } = recordingCache({ failPuts: true });
    vi.spyOn(console, "log").mockImplementation(() => {});
    await new LocationMemo(KV_MEMO_SECONDS, async () => cache, 2).rememberWritten("token:abc", {
      state: "revoked",
    });
    expect(deletes.sort()).toEqual([
      "https://kv-memo.cec-edge-token.internal/read/token:abc",
      "https://kv-memo.cec-edge-token.internal/written/token:abc",
    ]);
  });

  it("each deployment has a memo of its own: the Cache API is shared by a zone's Workers", async () => {
    const production = await memoCacheName("production", ["k-2026-a", "k-2026-b"]);
    expect(await memoCacheName("production", ["k-2026-b", "k-2026-a"])).toBe(production);
    expect(await memoCacheName("staging", ["k-2026-a", "k-2026-b"])).not.toBe(production);
    expect(await memoCacheName("production", ["k-2026-c"])).not.toBe(production);
  });
});
