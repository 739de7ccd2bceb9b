// Face watchlist: enrolled subjects with their embeddings, and 1:N search by cosine similarity.
// Enrolment from photos lives in enrolment.ts; raising hits is the central service's job.

/** Default minimum cosine similarity for a face to match a subject. */
export const DEFAULT_FACE_THRESHOLD = 0.4;

export interface WatchlistSubject {
  subjectId: string;
  /** Display label for operators. Never logged, because it names a person. */
  label: string;
  /** One embedding per enrolment photo. */
  embeddings: Float32Array[];
}

export interface WatchlistMatch {
  subjectId: string;
  label: string;
  /** Cosine similarity of the query to the subject's closest embedding, in [-1, 1]. */
  score: number;
}

export type WatchlistErrorCode =
  | 'WATCHLIST_INVALID_THRESHOLD'
  | 'WATCHLIST_DUPLICATE_SUBJECT'
  | 'WATCHLIST_EMPTY_SUBJECT'
  | 'WATCHLIST_DIMENSION_MISMATCH'
  | 'WATCHLIST_ZERO_EMBEDDING'
  | 'WATCHLIST_UNKNOWN_LIST';

export class WatchlistError extends Error {
  override readonly name = 'WatchlistError';
  constructor(
    readonly code: WatchlistErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface StoredSubject {
  subjectId: string;
  label: string;
  /** L2-normalised copies of the enrolled embeddings. */
  unitEmbeddings: Float32Array[];
}

/** In-memory 1:N face search; a linear scan, which suits watchlists of up to a few thousand subjects. */
export class Watchlist {
  readonly threshold: number;
  private readonly subjects: StoredSubject[] = [];
  private dimension: number | null = null;

  constructor(subjects: readonly WatchlistSubject[] = [], options: { threshold?: number } = {}) {
    const threshold = options.threshold ?? DEFAULT_FACE_THRESHOLD;
    if (!Number.isFinite(threshold) || threshold < -1 || threshold > 1) {
      throw new WatchlistError('WATCHLIST_INVALID_THRESHOLD', `face threshold should be a cosine similarity in [-1, 1], instead got ${threshold}`);
    }
    this.threshold = threshold;
    for (const subject of subjects) this.add(subject);
  }

  get size(): number {
    return this.subjects.length;
  }

  /** Adds a subject; its embeddings are copied and L2-normalised. */
  add(subject: WatchlistSubject): void {
    if (this.subjects.some((existing) => existing.subjectId === subject.subjectId)) {
      throw new WatchlistError('WATCHLIST_DUPLICATE_SUBJECT', `subject ${subject.subjectId} is already enrolled; give each subject one entry`);
    }
    if (subject.embeddings.length === 0) {
      throw new WatchlistError('WATCHLIST_EMPTY_SUBJECT', `subject ${subject.subjectId} has no embeddings; enrol at least one photo`);
    }
    const unitEmbeddings = subject.embeddings.map((embedding) => {
      this.checkDimension(embedding.length, `subject ${subject.subjectId}`);
      const unit = toUnitVector(embedding);
      if (unit === null) {
        throw new WatchlistError('WATCHLIST_ZERO_EMBEDDING', `subject ${subject.subjectId} has an all-zero embedding; enrol another photo`);
      }
      return unit;
    });
    this.subjects.push({ subjectId: subject.subjectId, label: subject.label, unitEmbeddings });
  }

  /**
   * Returns the most similar subject and its score whatever the threshold, or null when the
   * watchlist is empty or the query is an all-zero vector.
   */
  findBest(embedding: ArrayLike<number>): WatchlistMatch | null {
    if (this.subjects.length === 0) return null;
    this.checkDimension(embedding.length, 'query embedding');
    const query = toUnitVector(embedding);
    if (query === null) return null;

    let best: WatchlistMatch | null = null;
    for (const subject of this.subjects) {
      for (const unit of subject.unitEmbeddings) {
        const score = dot(query, unit);
        if (best === null || score > best.score) best = { subjectId: subject.subjectId, label: subject.label, score };
      }
    }
    return best;
  }

  /** Returns the most similar subject when its score reaches the threshold, otherwise null. */
  match(embedding: ArrayLike<number>): WatchlistMatch | null {
    const best = this.findBest(embedding);
    return best !== null && best.score >= this.threshold ? best : null;
  }

  private checkDimension(length: number, context: string): void {
    if (this.dimension === null) {
      this.dimension = length;
      return;
    }
    if (length !== this.dimension) {
      throw new WatchlistError('WATCHLIST_DIMENSION_MISMATCH', `${context} should have ${this.dimension} dimensions like the enrolled ones, instead got ${length}`);
    }
  }
}

/** Returns an L2-normalised copy, or null for a zero vector. */
export function toUnitVector(vector: ArrayLike<number>): Float32Array | null {
  let sumOfSquares = 0;
  for (let i = 0; i < vector.length; i++) sumOfSquares += vector[i]! * vector[i]!;
  const norm = Math.sqrt(sumOfSquares);
  if (!(norm > 0) || !Number.isFinite(norm)) return null;

  const unit = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) unit[i] = vector[i]! / norm;
  return unit;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}
