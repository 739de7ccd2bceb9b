// A FaceEmbedder that loads the vision cascade on first use and keeps it until closed, so a service
// that rarely enrols pays for the face models only when an operator enrols someone.
import type { Logger } from '../common/log.js';
import { CascadeFaceEmbedder } from './cascade-embedder.js';
import type { EmbeddedFace, FaceEmbedder } from './enrolment.js';

export class LazyCascadeFaceEmbedder implements FaceEmbedder {
  private loading: Promise<CascadeFaceEmbedder> | null = null;

  constructor(
    private readonly modelsDir: string,
    private readonly logger: Logger,
  ) {}

  async embedFacesInFile(filePath: string): Promise<EmbeddedFace[]> {
    return (await this.load()).embedFacesInFile(filePath);
  }

  async embedFacesInImage(encoded: Uint8Array): Promise<EmbeddedFace[]> {
    return (await this.load()).embedFacesInImage(encoded);
  }

  /** Loads the models now, so a missing or invalid model folder fails at start rather than at the first enrolment. */
  async preload(): Promise<void> {
    await this.load();
  }

  async close(): Promise<void> {
    const loading = this.loading;
    this.loading = null;
    if (loading !== null) await (await loading).close();
  }

  private load(): Promise<CascadeFaceEmbedder> {
    this.loading ??= CascadeFaceEmbedder.load(this.modelsDir, { logger: this.logger });
    // A failed load is forgotten, so the next enrolment tries again.
    this.loading.catch(() => {
      this.loading = null;
    });
    return this.loading;
  }
}
