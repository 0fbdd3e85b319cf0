import { base64url } from "jose";

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export async function sha256(data: string | Uint8Array): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", typeof data === "string" ? utf8(data) : data);
}

/** SHA-256 as unpadded base64url: the form every hashed KV key and rate-limit key takes. */
export async function sha256Base64url(data: string): Promise<string> {
  return base64url.encode(new Uint8Array(await sha256(data)));
}

export function randomBase64url(bytes: number): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Decodes unpadded base64url; undefined for anything else (no exceptions for bad input). */
export function decodeBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    return base64url.decode(text);
  } catch {
    return undefined;
  }
}
