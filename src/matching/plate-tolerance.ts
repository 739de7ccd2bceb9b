// Keys for matching plate reads that contain the usual OCR confusions or an unreadable province
// character. The hotlist indexes entries under these keys; exact matching stays in hotlist.ts.

/**
 * Characters a plate reader confuses, folded to one representative each. O joins 0, D and Q because
 * readers emit it for the same glyphs even though mainland plates never use the letter.
 */
const CONFUSION_CLASSES: readonly string[] = ['0DQO', '8B', '1I', '5S', '2Z'];

const FOLDED = new Map<string, string>(CONFUSION_CLASSES.flatMap((group) => [...group].map((char) => [char, group[0]!] as [string, string])));

/** Marker the reader and the fixtures use for a character that cannot be read. */
export const UNREADABLE_CHAR = '?';

/** Replaces each confusable character by its class representative; input should be normalised text. */
export function foldConfusions(normalisedText: string): string {
  let folded = '';
  for (const char of normalisedText) folded += FOLDED.get(char) ?? char;
  return folded;
}

/** True for a CJK ideograph, such as the province abbreviation that starts a mainland plate. */
export function isCjk(char: string | undefined): boolean {
  return char !== undefined && /\p{Script=Han}/u.test(char);
}

/** Shortest rest of a plate matched without its province, so a fragment such as "A1" never matches. */
export const MIN_PROVINCE_FREE_LENGTH = 5;

/** Key of an entry without its province character, or null when the entry does not start with one. */
export function provinceFreeKey(normalisedPlate: string): string | null {
  const [first, ...rest] = normalisedPlate;
  if (!isCjk(first) || rest.length < MIN_PROVINCE_FREE_LENGTH) return null;
  return foldConfusions(rest.join(''));
}

/**
 * Province-free keys a read could match when its province character was not read: the rest after an
 * unreadable or non-CJK first character, and the whole read when the province was dropped altogether.
 * Returns nothing for a read that starts with a CJK character, because that province was read.
 */
export function provinceFreeCandidates(normalisedRead: string): string[] {
  const [first, ...rest] = normalisedRead;
  if (first === undefined || isCjk(first)) return [];
  const candidates: string[] = [];
  if (rest.length >= MIN_PROVINCE_FREE_LENGTH) candidates.push(foldConfusions(rest.join('')));
  if (first !== UNREADABLE_CHAR && /[A-Z]/.test(first) && normalisedRead.length >= MIN_PROVINCE_FREE_LENGTH) candidates.push(foldConfusions(normalisedRead));
  return candidates;
}
