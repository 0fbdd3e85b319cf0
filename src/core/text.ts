/**
 * What no id, name or log line may hold:
 * - control characters: C0 and C1 controls, DEL, the line and paragraph separators, and
 *   unpaired surrogates; each can break a header, forge a log line, drive a terminal or
 *   fail to encode as UTF-8;
 * - invisible formatting characters (Unicode `Cf`): bidirectional overrides and isolates
 *   (U+202A–U+202E, U+2066–U+2069), marks (U+200E, U+200F, U+061C), zero-width spaces
 *   and joiners of words (U+200B, U+2060, U+FEFF), soft hyphens and the like. They are
 *   invisible where a name is shown (CEC's agent console, a log viewer) and can make one
 *   id read as another.
 * - every other character Unicode says to draw as nothing (`Default_Ignorable_Code_Point`),
 *   whatever its category: the Hangul fillers (U+3164, U+115F, U+1160, U+FFA0), the
 *   combining grapheme joiner (U+034F), Khmer's inherent vowels (U+17B4, U+17B5), tag
 *   characters (U+E0000–U+E007F, which can carry hidden ASCII), and the like.
 * Kept: U+200C ZERO WIDTH NON-JOINER and U+200D ZERO WIDTH JOINER, which Persian, Arabic
 * and Indic scripts need to spell names at all, and emoji sequences use; and the
 * variation selectors (U+FE00–U+FE0F, U+E0100–U+E01EF), which choose how a character is
 * drawn (an emoji's colour form, a Japanese name's registered ideograph variant). None of
 * them reorders text or stands for a character of its own.
 */
export const FORBIDDEN_CHARACTER =
  /[\p{Cc}\p{Cs}\u2028\u2029]|(?!\u200c|\u200d|[\ufe00-\ufe0f\u{e0100}-\u{e01ef}])[\p{Cf}\p{Default_Ignorable_Code_Point}]/u;
const FORBIDDEN_CHARACTERS = new RegExp(FORBIDDEN_CHARACTER.source, "gu");

/** Each forbidden character becomes U+FFFD, the replacement character (for log lines). */
export function replaceForbiddenCharacters(text: string): string {
  return FORBIDDEN_CHARACTER.test(text) ? text.replace(FORBIDDEN_CHARACTERS, "\uFFFD") : text;
}
