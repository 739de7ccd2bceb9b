// Decoding photos into tightly packed RGB pixels, cropping them, and encoding evidence JPEGs.
// Decoding and encoding go through sharp. Model-specific conversions live in preprocess/.
import { access } from 'node:fs/promises';
import sharp from 'sharp';
import { VisionError } from './errors.js';
import type { BoxXyxyPx } from './types.js';

/** RGB image, HWC layout, one u8 per channel, rows tightly packed (stride = width * 3). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Decodes an image file into RGB, applying its EXIF orientation. */
export async function decodeImageFile(filePath: string): Promise<RgbImage> {
  try {
    await access(filePath);
  } catch (error) {
    throw new VisionError('FILE_NOT_FOUND', `image file not found: ${filePath}`, { cause: error });
  }
  return decodeWithSharp(filePath, filePath);
}

/** Decodes an encoded image (JPEG, PNG, WebP, ...) into RGB, applying its EXIF orientation. */
export async function decodeImageBuffer(encoded: Buffer | Uint8Array): Promise<RgbImage> {
  return decodeWithSharp(Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength), 'buffer');
}

async function decodeWithSharp(input: string | Buffer, sourceName: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(input)
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new Error(`decoder returned ${info.channels} channels, expected 3`);
    }
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new VisionError('IMAGE_INVALID', `cannot decode ${sourceName} as an image: ${reason}`, { cause: error });
  }
}

/** Clamps a box to the image and rounds it outwards to whole pixels: [x, y, width, height]. */
export function boxToPixelRect(image: RgbImage, box: BoxXyxyPx): [number, number, number, number] {
  const x1 = Math.min(Math.max(Math.floor(box[0]), 0), image.width - 1);
  const y1 = Math.min(Math.max(Math.floor(box[1]), 0), image.height - 1);
  const x2 = Math.min(Math.max(Math.ceil(box[2]), x1 + 1), image.width);
  const y2 = Math.min(Math.max(Math.ceil(box[3]), y1 + 1), image.height);
  return [x1, y1, x2 - x1, y2 - y1];
}

/** Copies the pixels inside `box` (clamped to the image, at least 1x1) into a new image. */
export function cropImage(image: RgbImage, box: BoxXyxyPx): RgbImage {
  const [x, y, width, height] = boxToPixelRect(image, box);
  const data = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const sourceStart = ((y + row) * image.width + x) * 3;
    data.set(image.data.subarray(sourceStart, sourceStart + width * 3), row * width * 3);
  }
  return { width, height, data };
}

/**
 * Encodes the image, or the part inside `crop`, as a JPEG. A crop or image whose longer side
 * exceeds `maxSidePx` is scaled down to it, keeping the aspect ratio.
 */
export async function encodeJpeg(
  image: RgbImage,
  crop?: BoxXyxyPx,
  maxSidePx?: number,
  quality = 80,
): Promise<Buffer> {
  const source = crop ? cropImage(image, crop) : image;
  let pipeline = sharp(source.data, { raw: { width: source.width, height: source.height, channels: 3 } });
  if (maxSidePx !== undefined && Math.max(source.width, source.height) > maxSidePx) {
    pipeline = pipeline.resize({ width: maxSidePx, height: maxSidePx, fit: 'inside' });
  }
  return pipeline.jpeg({ quality }).toBuffer();
}
