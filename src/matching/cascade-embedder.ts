// FaceEmbedder over the vision cascade: decodes a photo, detects faces and embeds each of them.
// Detection, alignment, quality and the embedding model belong to src/vision.
import type { Logger } from '../common/log.js';
import { Cascade } from '../vision/cascade.js';
import { decodeImageBuffer, decodeImageFile, type RgbImage } from '../vision/image.js';
import type { EmbeddedFace, FaceEmbedder } from './enrolment.js';

export class CascadeFaceEmbedder implements FaceEmbedder {
  /** @param ownsCascade whether close() releases the cascade's model sessions. */
  constructor(
    private readonly cascade: Cascade,
    private readonly ownsCascade = false,
  ) {}

  /** Loads the cascade from modelsDir; close() releases it again. */
  static async load(modelsDir: string, options: { logger?: Logger } = {}): Promise<CascadeFaceEmbedder> {
    return new CascadeFaceEmbedder(await Cascade.load(modelsDir, { logger: options.logger }), true);
  }

  async embedFacesInFile(filePath: string): Promise<EmbeddedFace[]> {
    return this.embedFaces(await decodeImageFile(filePath));
  }

  async embedFacesInImage(encoded: Uint8Array): Promise<EmbeddedFace[]> {
    return this.embedFaces(await decodeImageBuffer(encoded));
  }

  private async embedFaces(image: RgbImage): Promise<EmbeddedFace[]> {
    const analysis = await this.cascade.analyze(image, { objects: false, plates: false, faces: true, embed: true });
    const faces: EmbeddedFace[] = [];
    for (const face of analysis.faces) {
      if (face.embedding !== undefined) faces.push({ embedding: face.embedding, quality: face.quality, box: face.box });
    }
    return faces;
  }

  async close(): Promise<void> {
    if (this.ownsCascade) await this.cascade.close();
  }
}
