// Cuts ffmpeg's rawvideo byte stream into frames of a fixed size. A frame that lies inside one
// chunk is returned as a view of that chunk. Only frames that span chunks are copied, once.

export class RawFrameSplitter {
  private partial: Buffer | null = null;
  private partialBytes = 0;

  constructor(readonly frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) {
      throw new RangeError(`frameBytes should be a positive integer, instead got ${frameBytes}`);
    }
  }

  /** Bytes received that do not yet complete a frame. */
  get bufferedBytes(): number {
    return this.partialBytes;
  }

  /**
   * Appends a chunk and calls `onFrame` for every frame it completes, in order. A frame passed
   * to `onFrame` may share memory with `chunk`, so the caller must not reuse the chunk.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let offset = 0;

    if (this.partial !== null) {
      const copied = chunk.copy(this.partial, this.partialBytes, 0, this.frameBytes - this.partialBytes);
      this.partialBytes += copied;
      offset = copied;
      if (this.partialBytes < this.frameBytes) return;
      const frame = this.partial;
      this.partial = null;
      this.partialBytes = 0;
      onFrame(frame);
    }

    while (chunk.length - offset >= this.frameBytes) {
      onFrame(chunk.subarray(offset, offset + this.frameBytes));
      offset += this.frameBytes;
    }

    if (offset < chunk.length) {
      this.partial = Buffer.allocUnsafe(this.frameBytes);
      this.partialBytes = chunk.copy(this.partial, 0, offset);
    }
  }

  /** Drops a partial frame, for example when the producing process restarts. */
  reset(): void {
    this.partial = null;
    this.partialBytes = 0;
  }
}
