// Plate number formats of mainland China (GA 36, "Motor vehicle number plates of the PRC", with the
// new-energy series added in 2016-2021), used to reject reads of lettering that is not a plate.

export type PlateFormat =
  | 'civil'
  | 'new-energy'
  | 'trailer'
  | 'learner'
  | 'police'
  | 'embassy'
  | 'consulate'
  | 'hk-macau'
  | 'civil-aviation'
  | 'armed-police'
  | 'military'
  | 'tractor';

/** One-character abbreviations of the 31 mainland provinces, regions and municipalities. */
const PROVINCE = '[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]';
/** Issuing-authority letter: A-Z without I and O, which GA 36 excludes to avoid 1 and 0. */
const AUTHORITY = '[A-HJ-NP-Z]';
/** Serial character: a digit or a letter other than I and O. */
const SERIAL = '[A-HJ-NP-Z0-9]';
/** New-energy marker letters: D and F first, later extended to A-K without I. */
const ENERGY = '[A-HJK]';
/**
 * First letter of a military plate (2012 series): V central commission, K air force, H navy, and
 * B, S, L, J, N, G, C, Z for the former military regions and departments.
 * NOTE: letter codes of later military series are not checked.
 */
const MILITARY_BRANCH = '[VKHBSLJNGCZ]';

/** Patterns checked in order. The first one that matches names the format. */
const FORMAT_PATTERNS: ReadonlyArray<readonly [PlateFormat, RegExp]> = [
  ['civil', new RegExp(`^${PROVINCE}${AUTHORITY}${SERIAL}{5}$`)],
  // Small vehicles: marker then 5 characters (粤B D01366). Large vehicles: 5 digits then marker.
  ['new-energy', new RegExp(`^${PROVINCE}${AUTHORITY}(${ENERGY}${SERIAL}\\d{4}|\\d{5}${ENERGY})$`)],
  ['trailer', new RegExp(`^${PROVINCE}${AUTHORITY}${SERIAL}{4}挂$`)],
  ['learner', new RegExp(`^${PROVINCE}${AUTHORITY}${SERIAL}{4}学$`)],
  ['police', new RegExp(`^${PROVINCE}${AUTHORITY}${SERIAL}{4}警$`)],
  ['consulate', new RegExp(`^${PROVINCE}${AUTHORITY}${SERIAL}{4}领$`)],
  // Cross-border vehicles from Hong Kong and Macau carry Guangdong plates with authority letter Z.
  ['hk-macau', new RegExp(`^粤Z${SERIAL}{4}[港澳]$`)],
  // Embassy: 使, a 3-digit mission code and a 3-digit vehicle number.
  ['embassy', /^使\d{6}$/],
  ['civil-aviation', new RegExp(`^民航${SERIAL}{5}$`)],
  // Armed police: WJ with a 2-digit unit and 5 digits (older series), or WJ, an optional province
  // and 4 digits plus a digit or service letter (2012 series).
  ['armed-police', new RegExp(`^WJ(\\d{7}|${PROVINCE}?\\d{4}[0-9A-HJ-NP-Z])$`)],
  ['military', new RegExp(`^${MILITARY_BRANCH}${AUTHORITY}\\d{5}$`)],
  // Tractor plates (agricultural machinery authorities, NY 345.1, outside GA 36): province,
  // 2-digit area code and 5 digits, usually on two rows.
  ['tractor', new RegExp(`^${PROVINCE}\\d{7}$`)],
];

/** Returns the format that `text` fits, or null when it is not a mainland plate number. */
export function classifyPlate(text: string): PlateFormat | null {
  for (const [format, pattern] of FORMAT_PATTERNS) {
    if (pattern.test(text)) return format;
  }
  return null;
}
