// Evidence JPEGs for events: the plate or face crop and the vehicle or person in context, each
// capped in pixels and in bytes so that an event with both always fits one MQTT message.
import sharp from 'sharp';
import type { Evidence } from '../../src/protocol/event.js';
import { cropImage, type RgbImage } from '../../src/vision/image.js';
import type { BoxXyxyPx } from '../../src/vision/types.js';

export interface EvidenceLimits {
  /** Longer side of the JPEG, px; larger crops are scaled down. */
  maxSidePx: number;
  /** Size of the JPEG, bytes; quality and then size are lowered until it fits. */
  maxBytes: number;
  /** Margin added around the box on each side, as a share of its width and height. */
  margin: number;
}

/**
 * Caps per evidence kind. The event schema allows 96 KiB of base64 per image (73,728 JPEG bytes)
 * and 256 KiB per event, so two images at these caps leave more than 60 KiB for the rest.
 */
export const EVIDENCE_LIMITS: Record<Evidence['kind'], EvidenceLimits> = {
  'plate-crop': { maxSidePx: 320, maxBytes: 24 * 1024, margin: 0.15 },
  'face-crop': { maxSidePx: 240, maxBytes: 32 * 1024, margin: 0.3 },
  context: { maxSidePx: 640, maxBytes: 64 * 1024, margin: 0.1 },
};

/** JPEG qualities tried in turn, then the same again at smaller sizes. */
const QUALITY_STEPS = [80, 65, 50, 35] as const;
const SIDE_STEPS = [1, 0.7, 0.5, 0.35, 0.25] as const;

export class EvidenceError extends Error {
  override readonly name = 'EvidenceError';
  readonly code = 'EVIDENCE_TOO_LARGE';
}

/** Encodes the part of `image` inside `box`, grown by the kind's margin, as a capped JPEG. */
export async function encodeEvidence(image: RgbImage, box: BoxXyxyPx, kind: Evidence['kind'], limits: EvidenceLimits = EVIDENCE_LIMITS[kind]): Promise<Evidence> {
  const crop = cropImage(image, growBox(box, limits.margin));
  const jpeg = await encodeCappedJpeg(crop, limits.maxSidePx, limits.maxBytes);
  return { kind, jpegBase64: jpeg.toString('base64') };
}

/** Encodes `image` as a JPEG of at most `maxSidePx` and `maxBytes`, lowering quality first and size second. */
export async function encodeCappedJpeg(image: RgbImage, maxSidePx: number, maxBytes: number): Promise<Buffer> {
  const longerSidePx = Math.max(image.width, image.height);
  for (const sideShare of SIDE_STEPS) {
    const sidePx = Math.max(16, Math.round(Math.min(longerSidePx, maxSidePx) * sideShare));
    for (const quality of QUALITY_STEPS) {
      let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
      if (sidePx < longerSidePx) pipeline = pipeline.resize({ width: sidePx, height: sidePx, fit: 'inside' });
      const jpeg = await pipeline.jpeg({ quality }).toBuffer();
      if (jpeg.length <= maxBytes) return jpeg;
    }
  }
  throw new EvidenceError(`evidence of ${image.width}x${image.height} px does not fit in ${maxBytes} bytes even at the smallest size and quality; raise maxBytes`);
}

function growBox(box: BoxXyxyPx, margin: number): BoxXyxyPx {
  const padX = (box[2] - box[0]) * margin;
  const padY = (box[3] - box[1]) * margin;
  return [box[0] - padX, box[1] - padY, box[2] + padX, box[3] + padY];
}
