/**
 * C0 and C1 controls, DEL, the line and paragraph separators, and unpaired surrogates:
 * none belongs in an id, a name or a log line, and each can break a header, forge a log
 * line, drive a terminal or fail to encode as UTF-8.
 */
export const CONTROL_CHARACTER = /[\p{Cc}\p{Cs}\u2028\u2029]/u;
const CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTER.source, "gu");

/** Each control character becomes U+FFFD, the replacement character. */
export function replaceControlCharacters(text: string): string {
  return CONTROL_CHARACTER.test(text) ? text.replace(CONTROL_CHARACTERS, "\uFFFD") : text;
}
