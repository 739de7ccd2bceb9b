// Follows boxes of one kind across the frames of one camera and gives each object a track id.
// Association is greedy: first by IoU with the track's predicted box, then, for detections that
// overlap too little (fast objects at a low analysis rate), by distance between box centres.
import { iouXyxy } from '../../src/vision/postprocess/nms.js';
import type { BoxXyxyPx } from '../../src/vision/types.js';

export interface BoxTrackerOptions {
  /** Minimum IoU between a detection and a track's predicted box to continue the track. */
  minIou: number;
  /** Maximum centre distance for the second pass, as a share of the predicted box's diagonal. */
  maxCentreShift: number;
  /** A track ends once it was missed in this many analysed frames in a row... */
  lostAfterFrames: number;
  /** ...and this much frame time passed since it was last seen, ms. */
  lostAfterMs: number;
  /**
   * A track not seen for this long ends before the next frame is associated, however few frames
   * that was, so an object after a pause in the frames (a camera outage, the next replay file)
   * starts a new track, ms.
   */
  maxGapMs: number;
}

export const DEFAULT_BOX_TRACKER_OPTIONS: BoxTrackerOptions = {
  minIou: 0.3,
  maxCentreShift: 0.6,
  lostAfterFrames: 3,
  lostAfterMs: 1500,
  maxGapMs: 10_000,
};

export interface BoxTrack<S> {
  readonly id: string;
  box: BoxXyxyPx;
  firstSeenAtMs: number;
  lastSeenAtMs: number;
  /** Analysed frames in which the object was detected. */
  frames: number;
  /** Analysed frames in a row without it, since it was last seen. */
  missedFrames: number;
  /** Centre velocity in px per ms, smoothed over the last frames. */
  velocityPxPerMs: [number, number];
  readonly state: S;
}

export interface BoxTrackerUpdate<S> {
  /** The track each detection joined or started, in the order of the detections. */
  tracks: BoxTrack<S>[];
  /** Tracks that ended in this frame. */
  ended: BoxTrack<S>[];
}

/** Weight of the newest displacement in the smoothed velocity. */
const VELOCITY_SMOOTHING = 0.5;

export class BoxTracker<S> {
  private readonly live = new Map<string, BoxTrack<S>>();

  constructor(
    private readonly options: BoxTrackerOptions,
    private readonly newId: () => string,
    private readonly newState: () => S,
  ) {}

  get openTracks(): readonly BoxTrack<S>[] {
    return [...this.live.values()];
  }

  /** Assigns the detections of one frame at `atMs` (frame time) to tracks and ends the tracks lost for good. */
  update(atMs: number, boxes: readonly BoxXyxyPx[]): BoxTrackerUpdate<S> {
    const ended: BoxTrack<S>[] = [];
    for (const track of this.live.values()) {
      if (atMs - track.lastSeenAtMs <= this.options.maxGapMs) continue;
      this.live.delete(track.id);
      ended.push(track);
    }
    const tracks = [...this.live.values()];
    const predicted = tracks.map((track) => predictBox(track, atMs));
    const assignment = this.associate(tracks, predicted, boxes);

    const assigned: BoxTrack<S>[] = boxes.map((box, index) => {
      const track = assignment.get(index);
      if (track) {
        continueTrack(track, box, atMs);
        return track;
      }
      return this.startTrack(box, atMs);
    });

    const seen = new Set(assigned);
    for (const track of tracks) {
      if (seen.has(track)) continue;
      track.missedFrames += 1;
      if (track.missedFrames >= this.options.lostAfterFrames && atMs - track.lastSeenAtMs >= this.options.lostAfterMs) {
        this.live.delete(track.id);
        ended.push(track);
      }
    }
    return { tracks: assigned, ended };
  }

  /** Ends every open track, for example when the camera stops. */
  endAll(): BoxTrack<S>[] {
    const ended = [...this.live.values()];
    this.live.clear();
    return ended;
  }

  private associate(tracks: BoxTrack<S>[], predicted: BoxXyxyPx[], boxes: readonly BoxXyxyPx[]): Map<number, BoxTrack<S>> {
    const assignment = new Map<number, BoxTrack<S>>();
    const assignedTracks = new Set<number>();
    const byOverlap: Array<[number, number, number]> = [];
    const byDistance: Array<[number, number, number]> = [];
    tracks.forEach((_, t) => {
      boxes.forEach((box, d) => {
        const iou = iouXyxy(predicted[t]!, box);
        if (iou >= this.options.minIou) byOverlap.push([-iou, t, d]);
        const shift = centreDistance(predicted[t]!, box) / diagonal(predicted[t]!);
        if (shift <= this.options.maxCentreShift && similarSize(predicted[t]!, box)) byDistance.push([shift, t, d]);
      });
    });
    // Sorting by cost, then by track and detection index, keeps the result independent of timing.
    for (const pairs of [byOverlap, byDistance]) {
      pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
      for (const [, t, d] of pairs) {
        if (assignedTracks.has(t) || assignment.has(d)) continue;
        assignedTracks.add(t);
        assignment.set(d, tracks[t]!);
      }
    }
    return assignment;
  }

  private startTrack(box: BoxXyxyPx, atMs: number): BoxTrack<S> {
    const track: BoxTrack<S> = {
      id: this.newId(),
      box,
      firstSeenAtMs: atMs,
      lastSeenAtMs: atMs,
      frames: 1,
      missedFrames: 0,
      velocityPxPerMs: [0, 0],
      state: this.newState(),
    };
    this.live.set(track.id, track);
    return track;
  }
}

function continueTrack<S>(track: BoxTrack<S>, box: BoxXyxyPx, atMs: number): void {
  const elapsedMs = atMs - track.lastSeenAtMs;
  if (elapsedMs > 0) {
    const [oldX, oldY] = centre(track.box);
    const [newX, newY] = centre(box);
    const k = VELOCITY_SMOOTHING;
    track.velocityPxPerMs = [
      k * ((newX - oldX) / elapsedMs) + (1 - k) * track.velocityPxPerMs[0],
      k * ((newY - oldY) / elapsedMs) + (1 - k) * track.velocityPxPerMs[1],
    ];
  }
  track.box = box;
  track.lastSeenAtMs = atMs;
  track.frames += 1;
  track.missedFrames = 0;
}

/** Moves the track's last box by its velocity to where the object should be at `atMs`. */
function predictBox<S>(track: BoxTrack<S>, atMs: number): BoxXyxyPx {
  const elapsedMs = atMs - track.lastSeenAtMs;
  const dx = track.velocityPxPerMs[0] * elapsedMs;
  const dy = track.velocityPxPerMs[1] * elapsedMs;
  return [track.box[0] + dx, track.box[1] + dy, track.box[2] + dx, track.box[3] + dy];
}

function centre(box: BoxXyxyPx): [number, number] {
  return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
}

function centreDistance(a: BoxXyxyPx, b: BoxXyxyPx): number {
  const [ax, ay] = centre(a);
  const [bx, by] = centre(b);
  return Math.hypot(ax - bx, ay - by);
}

function diagonal(box: BoxXyxyPx): number {
  return Math.max(1, Math.hypot(box[2] - box[0], box[3] - box[1]));
}

/** True when the areas differ by less than a factor of 4, so a far object does not take over a near one's track. */
function similarSize(a: BoxXyxyPx, b: BoxXyxyPx): boolean {
  const areaA = Math.max(1, (a[2] - a[0]) * (a[3] - a[1]));
  const areaB = Math.max(1, (b[2] - b[0]) * (b[3] - b[1]));
  return Math.max(areaA, areaB) / Math.min(areaA, areaB) < 4;
}
