// Splits an H.264 Annex-B elementary stream into access units (one coded picture each), so a
// benchmark can feed ffmpeg one frame at a time at the clip's own pace.

const NAL_SEI = 6;
const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;

/** Returns the byte offsets of every NAL unit's first byte after its start code. */
function nalStarts(stream: Uint8Array): number[] {
  const starts: number[] = [];
  for (let i = 0; i + 3 < stream.length; i++) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts;
}

function isVcl(type: number): boolean {
  return type >= 1 && type <= 5;
}

/**
 * Splits the stream at each access-unit boundary (ITU-T H.264 section 7.4.1.2.3): a parameter set,
 * SEI or delimiter after a picture, or a slice whose first_mb_in_slice is 0 (its first
 * Exp-Golomb bit is 1).
 */
export function splitAccessUnits(stream: Uint8Array): Uint8Array[] {
  const starts = nalStarts(stream);
  const units: Uint8Array[] = [];
  let unitStart = 0;
  let seenVcl = false;
  for (const start of starts) {
    const header = stream[start]!;
    const type = header & 0x1f;
    const beginsPicture = isVcl(type) && (stream[start + 1]! & 0x80) !== 0;
    const beginsUnit = (seenVcl && (type === NAL_AUD || type === NAL_SPS || type === NAL_PPS || type === NAL_SEI)) || (seenVcl && beginsPicture);
    // The start code may be 3 or 4 bytes; the unit boundary is the first zero of it.
    const codeStart = start >= 4 && stream[start - 4] === 0 ? start - 4 : start - 3;
    if (beginsUnit) {
      units.push(stream.subarray(unitStart, codeStart));
      unitStart = codeStart;
      seenVcl = false;
    }
    if (isVcl(type)) seenVcl = true;
  }
  units.push(stream.subarray(unitStart));
  return units.filter((unit) => unit.length > 0);
}
