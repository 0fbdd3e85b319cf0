import { utf8 } from "../crypto/encoding";

/** RFC 3986 unreserved characters: the only bytes that travel as themselves. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * Percent-encodes the UTF-8 bytes of `value` (RFC 3986, section 2.1), leaving only the
 * unreserved characters as they are: any string becomes a valid header value, and any
 * RFC 3986 decoder (`decodeURIComponent`, `urllib.parse.unquote`, nginx's `$arg_` rules)
 * gives it back. Plain ids such as `202007159031` or `user-42` are unchanged.
 *
 * @example percentEncodeUtf8("канал 1") // "%D0%BA%D0%B0%D0%BD%D0%B0%D0%BB%201"
 */
export function percentEncodeUtf8(value: string): string {
  let encoded = "";
  for (const byte of utf8(value)) {
    const char = String.fromCharCode(byte);
    encoded += UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded;
}
