// Fair frame scheduling across cameras: each camera keeps only its newest unanalysed frame, and
// cameras take turns. When inference cannot keep up, older frames are dropped and counted instead
// of queued, so latency stays bounded whatever the load.

export interface QueuedFrame {
  cameraId: string;
  receivedAtMs: number;
}

export class FrameScheduler<F extends QueuedFrame> {
  private readonly pending = new Map<string, F>();
  private readonly turnOrder: string[] = [];
  private nextTurn = 0;
  private wake: (() => void) | null = null;
  private closed = false;
  readonly droppedByCamera = new Map<string, number>();

  /**
   * Queues a frame. Returns true when it replaced an older unanalysed frame of the same camera,
   * which is then dropped.
   */
  submit(frame: F): boolean {
    if (this.closed) return false;
    if (!this.turnOrder.includes(frame.cameraId)) this.turnOrder.push(frame.cameraId);
    const replaced = this.pending.has(frame.cameraId);
    if (replaced) this.droppedByCamera.set(frame.cameraId, (this.droppedByCamera.get(frame.cameraId) ?? 0) + 1);
    this.pending.set(frame.cameraId, frame);
    this.wake?.();
    return replaced;
  }

  /** Waits for the next frame in round-robin order; resolves null once closed. */
  async next(): Promise<F | null> {
    for (;;) {
      const frame = this.take();
      if (frame) return frame;
      if (this.closed) return null;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = null;
    }
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  private take(): F | null {
    for (let i = 0; i < this.turnOrder.length; i++) {
      const cameraId = this.turnOrder[(this.nextTurn + i) % this.turnOrder.length]!;
      const frame = this.pending.get(cameraId);
      if (frame) {
        this.pending.delete(cameraId);
        this.nextTurn = (this.nextTurn + i + 1) % this.turnOrder.length;
        return frame;
      }
    }
    return null;
  }
}
