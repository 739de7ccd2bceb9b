// Fair frame scheduling across cameras. Live cameras keep only their newest unanalysed frame:
// when inference cannot keep up, older frames are dropped and counted instead of queued, so latency
// stays bounded whatever the load. Replayed files wait instead (back-pressure), in a short queue,
// so no frame is lost. Cameras take turns in both cases.

export interface QueuedFrame {
  cameraId: string;
  receivedAtMs: number;
}

/** Frames a replayed camera may have waiting before `offer` makes it wait. */
const DEFAULT_MAX_QUEUED_PER_CAMERA = 2;

export class FrameScheduler<F extends QueuedFrame> {
  private readonly pending = new Map<string, F[]>();
  private readonly turnOrder: string[] = [];
  private nextTurn = 0;
  /** Callers of next() waiting for a frame, one per inference slot. */
  private readonly takers: Array<() => void> = [];
  private readonly roomWaiters = new Map<string, Array<() => void>>();
  private closed = false;
  readonly droppedByCamera = new Map<string, number>();
  /** Frames handed out per camera, and each handed-out frame's place in that count. */
  private readonly handedOut = new Map<string, number>();
  private readonly sequences = new WeakMap<F, number>();

  constructor(private readonly maxQueuedPerCamera = DEFAULT_MAX_QUEUED_PER_CAMERA) {
    if (!Number.isInteger(maxQueuedPerCamera) || maxQueuedPerCamera < 1) {
      throw new RangeError(`maxQueuedPerCamera should be a positive integer, instead got ${maxQueuedPerCamera}`);
    }
  }

  /**
   * Queues a live frame as its camera's only waiting frame. Returns true when it replaced an older
   * unanalysed frame of the same camera, which is then dropped and counted.
   */
  submit(frame: F): boolean {
    if (this.closed) return false;
    const queue = this.queueOf(frame.cameraId);
    const dropped = queue.length;
    if (dropped > 0) this.droppedByCamera.set(frame.cameraId, (this.droppedByCamera.get(frame.cameraId) ?? 0) + dropped);
    queue.splice(0, queue.length, frame);
    this.takers.shift()?.();
    return dropped > 0;
  }

  /**
   * Queues a frame that must not be dropped. Resolves once it is queued, which waits while the
   * camera already has `maxQueuedPerCamera` frames waiting. After close() it resolves at once and
   * the frame is not analysed.
   */
  async offer(frame: F): Promise<void> {
    const queue = this.queueOf(frame.cameraId);
    while (!this.closed && queue.length >= this.maxQueuedPerCamera) {
      await new Promise<void>((resolve) => {
        const waiters = this.roomWaiters.get(frame.cameraId) ?? [];
        waiters.push(resolve);
        this.roomWaiters.set(frame.cameraId, waiters);
      });
    }
    if (this.closed) return;
    queue.push(frame);
    this.takers.shift()?.();
  }

  /** Waits for the next frame in round-robin order; resolves null once closed. */
  async next(): Promise<F | null> {
    for (;;) {
      const frame = this.take();
      if (frame) return frame;
      if (this.closed) return null;
      await new Promise<void>((resolve) => this.takers.push(resolve));
    }
  }

  /**
   * Returns the place of a handed-out frame among its camera's handed-out frames, from 0. It is set
   * when the frame leaves the queue, so it follows frame order even when several callers of next()
   * resume in another order.
   */
  sequenceOf(frame: F): number {
    const sequence = this.sequences.get(frame);
    if (sequence === undefined) throw new RangeError(`frame of camera ${frame.cameraId} was not handed out by this scheduler`);
    return sequence;
  }

  /** Frames waiting per camera, for metrics. */
  depth(cameraId: string): number {
    return this.pending.get(cameraId)?.length ?? 0;
  }

  /** Stops handing out frames; frames still waiting are discarded and every waiting offer resolves. */
  close(): void {
    this.closed = true;
    this.pending.clear();
    for (const resolve of this.takers.splice(0)) resolve();
    for (const waiters of this.roomWaiters.values()) for (const resolve of waiters) resolve();
    this.roomWaiters.clear();
  }

  private queueOf(cameraId: string): F[] {
    let queue = this.pending.get(cameraId);
    if (queue === undefined) {
      queue = [];
      this.pending.set(cameraId, queue);
      this.turnOrder.push(cameraId);
    }
    return queue;
  }

  private take(): F | null {
    for (let i = 0; i < this.turnOrder.length; i++) {
      const cameraId = this.turnOrder[(this.nextTurn + i) % this.turnOrder.length]!;
      const frame = this.pending.get(cameraId)?.shift();
      if (frame) {
        const sequence = this.handedOut.get(cameraId) ?? 0;
        this.handedOut.set(cameraId, sequence + 1);
        this.sequences.set(frame, sequence);
        this.nextTurn = (this.nextTurn + i + 1) % this.turnOrder.length;
        this.roomWaiters.get(cameraId)?.shift()?.();
        return frame;
      }
    }
    return null;
  }
}
