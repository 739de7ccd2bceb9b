// Enrolment of watchlist subjects from photos: picks one usable face per photo through a FaceEmbedder.
// Face detection and embedding themselves belong to the vision cascade (see cascade-embedder.ts).
import type { WatchlistSubject } from './watchlist.js';

/** Axis-aligned box in image pixels: [x1, y1, x2, y2]. */
export type BoxXyxyPx = [number, number, number, number];

export interface EmbeddedFace {
  embedding: Float32Array;
  /** Face quality from the detector, in [0, 1]; higher is better. */
  quality: number;
  box: BoxXyxyPx;
}

/** Finds the faces in an image and embeds each of them. */
export interface FaceEmbedder {
  embedFacesInFile(filePath: string): Promise<EmbeddedFace[]>;
  /** Same for an encoded JPEG or PNG in memory, such as an uploaded photo. */
  embedFacesInImage?(encoded: Uint8Array): Promise<EmbeddedFace[]>;
}

export interface EnrolmentRequest {
  subjectId: string;
  label: string;
  photos: readonly string[];
}

/** Default minimum face quality accepted for enrolment. */
export const DEFAULT_MIN_ENROLMENT_QUALITY = 0.5;

export type EnrolmentErrorCode = 'ENROL_NO_PHOTOS' | 'ENROL_PHOTO_FAILED' | 'ENROL_NO_FACE' | 'ENROL_LOW_QUALITY' | 'ENROL_NO_USABLE_PHOTO' | 'ENROL_UNSUPPORTED';

export class EnrolmentError extends Error {
  override readonly name = 'EnrolmentError';
  constructor(
    readonly code: EnrolmentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type FaceSelection = { ok: true; face: EmbeddedFace } | { ok: false; code: 'ENROL_NO_FACE' | 'ENROL_LOW_QUALITY'; reason: string };

/** Picks the largest face whose quality reaches minQuality, or returns the reason why no face is usable. */
export function selectEnrolmentFace(faces: readonly EmbeddedFace[], minQuality: number): FaceSelection {
  if (faces.length === 0) return { ok: false, code: 'ENROL_NO_FACE', reason: 'no face was found' };

  const usable = faces.filter((face) => face.quality >= minQuality);
  if (usable.length === 0) {
    const bestQuality = Math.max(...faces.map((face) => face.quality));
    return {
      ok: false,
      code: 'ENROL_LOW_QUALITY',
      reason: `${faces.length} face(s) found, but the best quality ${bestQuality.toFixed(2)} is below the minimum ${minQuality}`,
    };
  }

  const largest = usable.reduce((best, face) => (boxAreaPx(face.box) > boxAreaPx(best.box) ? face : best));
  return { ok: true, face: largest };
}

/**
 * Enrols one subject: one embedding from each photo. Rejects the whole subject when any photo has
 * no usable face, so a watchlist never silently contains fewer photos than configured.
 */
export async function enrolSubject(
  request: EnrolmentRequest,
  embedder: FaceEmbedder,
  options: { minQuality?: number } = {},
): Promise<WatchlistSubject> {
  const minQuality = options.minQuality ?? DEFAULT_MIN_ENROLMENT_QUALITY;
  if (request.photos.length === 0) {
    throw new EnrolmentError('ENROL_NO_PHOTOS', `subject ${request.subjectId} has no photos; list at least one photo to enrol`);
  }

  const embeddings: Float32Array[] = [];
  for (const photo of request.photos) {
    let faces: EmbeddedFace[];
    try {
      faces = await embedder.embedFacesInFile(photo);
    } catch (error) {
      throw new EnrolmentError('ENROL_PHOTO_FAILED', `subject ${request.subjectId}: could not analyse photo ${photo}: ${(error as Error).message}`, { cause: error });
    }
    const selection = selectEnrolmentFace(faces, minQuality);
    if (!selection.ok) {
      throw new EnrolmentError(selection.code, `subject ${request.subjectId}: photo ${photo} cannot be enrolled because ${selection.reason}; use a sharp, frontal photo`);
    }
    embeddings.push(selection.face.embedding);
  }
  return { subjectId: request.subjectId, label: request.label, embeddings };
}

function boxAreaPx(box: BoxXyxyPx): number {
  return Math.max(0, box[2] - box[0]) * Math.max(0, box[3] - box[1]);
}

/** A photo to enrol from: a file path or encoded image bytes, with a name for the report. */
export type EnrolmentPhoto = { name: string; filePath: string } | { name: string; encoded: Uint8Array };

/** Outcome of enrolment for one photo. */
export type PhotoOutcome =
  | { name: string; ok: true; quality: number }
  | { name: string; ok: false; code: 'ENROL_PHOTO_FAILED' | 'ENROL_NO_FACE' | 'ENROL_LOW_QUALITY'; reason: string };

export interface EnrolmentReport {
  /** One embedding per usable photo, in photo order. */
  embeddings: Float32Array[];
  photos: PhotoOutcome[];
}

/**
 * Enrols from every usable photo and reports why each other photo was rejected. Unlike
 * enrolSubject, a subject with some unusable photos is still enrolled. It is rejected with
 * ENROL_NO_USABLE_PHOTO, naming each photo's reason, only when no photo has a usable face.
 */
export async function enrolFromPhotos(photos: readonly EnrolmentPhoto[], embedder: FaceEmbedder, options: { minQuality?: number } = {}): Promise<EnrolmentReport> {
  const minQuality = options.minQuality ?? DEFAULT_MIN_ENROLMENT_QUALITY;
  if (photos.length === 0) throw new EnrolmentError('ENROL_NO_PHOTOS', 'no photos were given; give at least one photo with a sharp, frontal face');

  const report: EnrolmentReport = { embeddings: [], photos: [] };
  for (const photo of photos) {
    let faces: EmbeddedFace[];
    try {
      faces = await embedPhoto(photo, embedder);
    } catch (error) {
      if (error instanceof EnrolmentError && error.code === 'ENROL_UNSUPPORTED') throw error;
      report.photos.push({ name: photo.name, ok: false, code: 'ENROL_PHOTO_FAILED', reason: `could not be analysed: ${(error as Error).message}` });
      continue;
    }
    const selection = selectEnrolmentFace(faces, minQuality);
    if (!selection.ok) {
      report.photos.push({ name: photo.name, ok: false, code: selection.code, reason: selection.reason });
      continue;
    }
    report.embeddings.push(selection.face.embedding);
    report.photos.push({ name: photo.name, ok: true, quality: selection.face.quality });
  }

  if (report.embeddings.length === 0) {
    const reasons = report.photos.map((outcome) => `${outcome.name}: ${outcome.ok ? 'usable' : outcome.reason}`).join('; ');
    throw new EnrolmentError('ENROL_NO_USABLE_PHOTO', `no photo has a usable face (${reasons}); use sharp, frontal photos`);
  }
  return report;
}

function embedPhoto(photo: EnrolmentPhoto, embedder: FaceEmbedder): Promise<EmbeddedFace[]> {
  if ('filePath' in photo) return embedder.embedFacesInFile(photo.filePath);
  if (embedder.embedFacesInImage === undefined) {
    throw new EnrolmentError('ENROL_UNSUPPORTED', 'this face embedder reads files only; save the photo to a file or use CascadeFaceEmbedder');
  }
  return embedder.embedFacesInImage(photo.encoded);
}
