// The plate text of a tracked vehicle, voted over the reads of all its frames: each read votes
// for its text with its confidence, so a misread in one blurred frame loses to steady reads.
import type { PlateRead } from '../../src/vision/cascade.js';

export interface PlateVoteCount {
  text: string;
  reads: number;
  confidenceSum: number;
}

export interface PlateVoteResult {
  text: string;
  /**
   * Confidence of the voted text, 0..1: the summed confidence of its reads divided by the number
   * of all reads. One read gives its own confidence; disagreeing reads lower it.
   */
  confidence: number;
  /** The clearest read of the voted text (highest confidence, ignoring gains below a small margin). */
  bestRead: PlateRead;
  /** All texts read, by descending confidence sum, ties by first read. */
  counts: PlateVoteCount[];
  reads: number;
}

interface TextTally extends PlateVoteCount {
  firstReadIndex: number;
  bestRead: PlateRead;
}

/**
 * Confidence a read must gain over its text's best read to replace it, so evidence is not encoded
 * again for a frame that is hardly clearer.
 */
const BEST_READ_MARGIN = 0.01;

export class PlateVote {
  private readonly tallies = new Map<string, TextTally>();
  private totalReads = 0;

  get reads(): number {
    return this.totalReads;
  }

  /** Adds one read; returns true when it became the best read of its text (the first read always does). */
  add(read: PlateRead): boolean {
    this.totalReads += 1;
    const tally = this.tallies.get(read.text);
    if (tally === undefined) {
      this.tallies.set(read.text, { text: read.text, reads: 1, confidenceSum: read.confidence, firstReadIndex: this.totalReads, bestRead: read });
      return true;
    }
    tally.reads += 1;
    tally.confidenceSum += read.confidence;
    if (read.confidence < tally.bestRead.confidence + BEST_READ_MARGIN) return false;
    tally.bestRead = read;
    return true;
  }

  /** Returns the vote, or null before the first read. */
  result(): PlateVoteResult | null {
    if (this.totalReads === 0) return null;
    const ranked = [...this.tallies.values()].sort((a, b) => b.confidenceSum - a.confidenceSum || a.firstReadIndex - b.firstReadIndex);
    const winner = ranked[0]!;
    return {
      text: winner.text,
      confidence: winner.confidenceSum / this.totalReads,
      bestRead: winner.bestRead,
      counts: ranked.map(({ text, reads, confidenceSum }) => ({ text, reads, confidenceSum })),
      reads: this.totalReads,
    };
  }
}
