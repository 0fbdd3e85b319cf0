import { call, type Identity, issue, jsonRequest } from "./helpers";

/** Helpers for the web-channel session tests: open, present and decode `ccmessaging-token`. */

export const SESSIONS = "/v1/web-channel/sessions";

/** Issues a token for `identity` and opens a session with it, both through `send`. */
export async function openSession(identity: Identity, channelId = "web-1", send = call) {
  const { token } = await issue(identity, {}, send);
  return send(jsonRequest(SESSIONS, { Token: token, ...identity, channelId }));
}

/** The cookie's value as set (still URL-encoded), from a Set-Cookie header. */
export function cookieValue(response: Response): string {
  const setCookie = response.headers.get("Set-Cookie") ?? "";
  const match = /^ccmessaging-token=([^;]*)/.exec(setCookie);
  if (!match?.[1]) throw new Error(`no ccmessaging-token in ${setCookie}`);
  return match[1];
}

/** The seed's decoding steps, done by hand: URL-decode, Base64-decode, parse. */
export function decodeLikeTheSeed(value: string): Record<string, unknown> {
  return JSON.parse(
    new TextDecoder().decode(Uint8Array.from(atob(decodeURIComponent(value)), (c) => c.charCodeAt(0))),
  );
}

export function encodeLikeTheSeed(object: Record<string, unknown>): string {
  return encodeURIComponent(btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(object)))));
}

export const verify = (headers: Record<string, string>, send = call) =>
  send(new Request("https://edge.test/v1/web-channel/verify", { headers }));

export const withCookie = (value: string) => ({ Cookie: `theme=dark; ccmessaging-token=${value}; other=1` });

export const endSession = (value: string, send = call) =>
  send(new Request(`https://edge.test${SESSIONS}`, { method: "DELETE", headers: withCookie(value) }));

export const me = (value: string, send = call) =>
  send(new Request("https://edge.test/v1/web-channel/me", { headers: withCookie(value) }));
