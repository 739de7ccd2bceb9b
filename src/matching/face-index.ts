// 1:N face search over several face lists, each with its own cosine threshold, with negatives: faces
// an operator dismissed for a subject, so the same stranger does not raise the same false hit again.
// Embeddings sit in one contiguous matrix so a search is a single pass over memory.
import { WatchlistError, toUnitVector } from './watchlist.js';

export interface FaceIndexList {
  listId: string;
  /** Minimum cosine similarity for a subject of this list to match. */
  threshold: number;
}

export interface FaceIndexSubject {
  subjectId: string;
  listId: string;
  /** Display label for operators. Never logged, because it names a person. */
  label: string;
  embeddings: readonly Float32Array[];
}

export interface FaceIndexNegative {
  subjectId: string;
  embedding: ArrayLike<number>;
}

export interface FaceMatch {
  subjectId: string;
  listId: string;
  label: string;
  /** Cosine similarity of the query to the subject's closest embedding. */
  score: number;
  threshold: number;
}

export interface FaceSearchResult {
  /** Best subject at or above its list's threshold that no negative suppressed, or null. */
  match: FaceMatch | null;
  /** Subjects above their threshold that were skipped because the query resembles one of their negatives. */
  suppressed: FaceMatch[];
}

export const DEFAULT_FACE_LIST_ID = 'default';

export class FaceIndex {
  readonly dimension: number | null;
  private readonly subjects: FaceIndexSubject[];
  private readonly thresholds: Float32Array;
  /** Row-major unit embeddings, `dimension` floats per row. */
  private readonly matrix: Float32Array;
  /** Index into `subjects` of each matrix row. */
  private readonly rowSubject: Int32Array;
  private readonly negativesBySubject = new Map<number, Float32Array[]>();

  constructor(options: { lists: readonly FaceIndexList[]; subjects: readonly FaceIndexSubject[]; negatives?: readonly FaceIndexNegative[] }) {
    const thresholdByList = new Map(options.lists.map((list) => [list.listId, checkThreshold(list)]));
    this.subjects = [...options.subjects];
    this.thresholds = new Float32Array(this.subjects.length);
    this.dimension = this.subjects.find((subject) => subject.embeddings.length > 0)?.embeddings[0]?.length ?? null;

    const rowCount = this.subjects.reduce((sum, subject) => sum + subject.embeddings.length, 0);
    this.matrix = new Float32Array(rowCount * (this.dimension ?? 0));
    this.rowSubject = new Int32Array(rowCount);
    const indexById = new Map<string, number>();
    let row = 0;
    this.subjects.forEach((subject, index) => {
      const threshold = thresholdByList.get(subject.listId);
      if (threshold === undefined) throw new WatchlistError('WATCHLIST_UNKNOWN_LIST', `subject ${subject.subjectId} belongs to face list ${subject.listId}, which does not exist; create the list first`);
      if (indexById.has(subject.subjectId)) throw new WatchlistError('WATCHLIST_DUPLICATE_SUBJECT', `subject ${subject.subjectId} is enrolled twice; give each subject one entry`);
      if (subject.embeddings.length === 0) throw new WatchlistError('WATCHLIST_EMPTY_SUBJECT', `subject ${subject.subjectId} has no embeddings; enrol at least one photo`);
      indexById.set(subject.subjectId, index);
      this.thresholds[index] = threshold;
      for (const embedding of subject.embeddings) {
        this.matrix.set(this.unit(embedding, `subject ${subject.subjectId}`), row * this.dimension!);
        this.rowSubject[row++] = index;
      }
    });

    for (const negative of options.negatives ?? []) {
      const index = indexById.get(negative.subjectId);
      // Negatives of removed subjects are dropped with them; any left over are ignored.
      if (index === undefined) continue;
      const list = this.negativesBySubject.get(index) ?? [];
      list.push(this.unit(negative.embedding, `negative of subject ${negative.subjectId}`));
      this.negativesBySubject.set(index, list);
    }
  }

  /** Number of subjects. */
  get size(): number {
    return this.subjects.length;
  }

  get embeddingCount(): number {
    return this.rowSubject.length;
  }

  /** Finds the best matching subject for a face embedding; see FaceSearchResult. */
  search(embedding: ArrayLike<number>): FaceSearchResult {
    if (this.subjects.length === 0) return { match: null, suppressed: [] };
    const query = toUnitVector(embedding);
    if (query === null) return { match: null, suppressed: [] };
    this.checkDimension(query.length, 'query embedding');

    const bestBySubject = this.bestScores(query);
    const above: number[] = [];
    bestBySubject.forEach((score, index) => {
      if (score >= this.thresholds[index]!) above.push(index);
    });
    above.sort((a, b) => bestBySubject[b]! - bestBySubject[a]!);

    const suppressed: FaceMatch[] = [];
    for (const index of above) {
      const candidate = this.toMatch(index, bestBySubject[index]!);
      if (!this.resemblesNegative(index, query, candidate)) return { match: candidate, suppressed };
      suppressed.push(candidate);
    }
    return { match: null, suppressed };
  }

  /** Highest cosine per subject, one pass over the matrix. */
  private bestScores(query: Float32Array): Float32Array {
    const dimension = query.length;
    const best = new Float32Array(this.subjects.length).fill(-Infinity);
    const matrix = this.matrix;
    for (let row = 0; row < this.rowSubject.length; row++) {
      const offset = row * dimension;
      let dot = 0;
      for (let i = 0; i < dimension; i++) dot += query[i]! * matrix[offset + i]!;
      const subject = this.rowSubject[row]!;
      if (dot > best[subject]!) best[subject] = dot;
    }
    return best;
  }

  /**
   * Returns whether a negative suppresses the match: the query is at least as close to that dismissed
   * face as to the subject, and close enough to it to count as the same person under the list's threshold.
   */
  private resemblesNegative(index: number, query: Float32Array, candidate: FaceMatch): boolean {
    for (const negative of this.negativesBySubject.get(index) ?? []) {
      let similarity = 0;
      for (let i = 0; i < query.length; i++) similarity += query[i]! * negative[i]!;
      if (similarity >= candidate.threshold && similarity >= candidate.score) return true;
    }
    return false;
  }

  private toMatch(index: number, score: number): FaceMatch {
    const subject = this.subjects[index]!;
    return { subjectId: subject.subjectId, listId: subject.listId, label: subject.label, score, threshold: this.thresholds[index]! };
  }

  private unit(embedding: ArrayLike<number>, context: string): Float32Array {
    this.checkDimension(embedding.length, context);
    const unit = toUnitVector(embedding);
    if (unit === null) throw new WatchlistError('WATCHLIST_ZERO_EMBEDDING', `${context} has an all-zero embedding; enrol another photo`);
    return unit;
  }

  private checkDimension(length: number, context: string): void {
    if (this.dimension !== null && length !== this.dimension) {
      throw new WatchlistError('WATCHLIST_DIMENSION_MISMATCH', `${context} should have ${this.dimension} dimensions like the enrolled ones, instead got ${length}`);
    }
  }
}

function checkThreshold(list: FaceIndexList): number {
  if (!Number.isFinite(list.threshold) || list.threshold < -1 || list.threshold > 1) {
    throw new WatchlistError('WATCHLIST_INVALID_THRESHOLD', `face list ${list.listId}: threshold should be a cosine similarity in [-1, 1], instead got ${list.threshold}`);
  }
  return list.threshold;
}
