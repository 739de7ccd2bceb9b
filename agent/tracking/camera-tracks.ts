// The tracks of one camera: vehicles with their plate reads and people with their faces, so that
// each vehicle or person becomes one sighting. Plates and faces found outside any vehicle or person
// box are tracked on their own. Evidence images are the caller's: it attaches an opaque view per read.
import type { DetectedObject, PlateRead } from '../../src/vision/cascade.js';
import { nms } from '../../src/vision/postprocess/nms.js';
import type { BoxXyxyPx } from '../../src/vision/types.js';
import type { AnalysedFace } from '../inference/frame-analyser.js';
import { BoxTracker, DEFAULT_BOX_TRACKER_OPTIONS, type BoxTrack, type BoxTrackerOptions } from './box-tracker.js';
import { PlateVote, type PlateVoteResult } from './plate-vote.js';

export type TrackSubject = 'vehicle' | 'person' | 'plate' | 'face';

export interface TrackState<V> {
  subject: TrackSubject;
  plates: PlateVote;
  bestFace: AnalysedFace | null;
  faceReads: number;
  /** View of the best read of each plate text, set by the caller. */
  plateViews: Map<string, V>;
  /** View of the best face, set by the caller. */
  faceView: V | null;
  /** Frame time of the last sighting reported while the track was open, ms. */
  reportedAtMs: number | null;
  /** Content of that report: the voted plate text, or the best face's quality. */
  reportedBest: string | number | null;
}

export type SubjectTrack<V> = BoxTrack<TrackState<V>>;

export type TrackedRead<V> =
  | { kind: 'plate'; track: SubjectTrack<V>; plate: PlateRead; /** True when it became its text's best read. */ best: boolean }
  | { kind: 'face'; track: SubjectTrack<V>; face: AnalysedFace; /** True when it became the track's best face. */ best: boolean };

export interface SightingSummary<V> {
  kind: 'plate' | 'face';
  trackId: string;
  subject: TrackSubject;
  state: 'open' | 'closed';
  firstSeenAtMs: number;
  lastSeenAtMs: number;
  frames: number;
  reads: number;
  plate: PlateVoteResult | null;
  face: AnalysedFace | null;
  /** The view of the voted plate text or of the best face, when the caller attached one. */
  view: V | null;
}

export interface TracksUpdate<V> {
  /** Plate reads and faces of this frame, each with the track it joined, in detection order. */
  reads: TrackedRead<V>[];
  /** Sightings of tracks that ended in this frame; open tracks report through openReports(). */
  sightings: SightingSummary<V>[];
}

export interface CameraTracksOptions {
  boxes: BoxTrackerOptions;
  /** A track still open after this long reports an 'open' sighting, and again after each such interval, ms. */
  openReportEveryMs: number;
  /**
   * Minimum interval between early reports, ms. A track reports an 'open' sighting on its first
   * reportable read, and again when its voted plate text changes or its best face gains
   * `faceQualityGain`. The central service can then match a car long before its track ends.
   */
  earlyReportEveryMs: number;
  /** Gain in best-face quality that is worth an early report, 0..1. */
  faceQualityGain: number;
  /**
   * Best-face quality below which a person gives no sighting: profile, tiny or blurred faces, whose
   * embeddings do not match reliably. The hit hook still receives every face.
   */
  minFaceQuality: number;
}

export const DEFAULT_CAMERA_TRACKS_OPTIONS: CameraTracksOptions = {
  boxes: DEFAULT_BOX_TRACKER_OPTIONS,
  openReportEveryMs: 60_000,
  earlyReportEveryMs: 2000,
  faceQualityGain: 0.1,
  minFaceQuality: 0.1,
};

const VEHICLE_LABELS: ReadonlySet<string> = new Set(['car', 'bus', 'truck', 'motorcycle']);
/**
 * IoU above which vehicle boxes of different classes are one vehicle. The detector suppresses
 * overlaps per class only, so one van often comes as a car, a bus and a truck box at once.
 */
const SAME_VEHICLE_IOU = 0.6;
/** Quality a face must gain over the track's best face to replace it. */
const BEST_FACE_MARGIN = 0.02;

export class CameraTracks<V> {
  private readonly trackers: Record<TrackSubject, BoxTracker<TrackState<V>>>;

  constructor(
    private readonly options: CameraTracksOptions,
    newTrackId: () => string,
  ) {
    const tracker = (subject: TrackSubject) => new BoxTracker<TrackState<V>>(options.boxes, newTrackId, () => newState<V>(subject));
    this.trackers = { vehicle: tracker('vehicle'), person: tracker('person'), plate: tracker('plate'), face: tracker('face') };
  }

  /** Tracks one analysed frame taken at `atMs` (frame time, ms). */
  update(atMs: number, frame: { objects: readonly DetectedObject[]; plates: readonly PlateRead[]; faces: readonly AnalysedFace[] }): TracksUpdate<V> {
    const vehicles = nms(frame.objects.filter((o) => VEHICLE_LABELS.has(o.label)), SAME_VEHICLE_IOU).map((o) => o.box);
    const people = frame.objects.filter((o) => o.label === 'person').map((o) => o.box);
    const vehicleUpdate = this.trackers.vehicle.update(atMs, vehicles);
    const personUpdate = this.trackers.person.update(atMs, people);

    const plateHolders = assignToHolders(frame.plates, (p) => p.box, vehicles, (p) => p.confidence);
    const faceHolders = assignToHolders(frame.faces, (f) => f.box, people, (f) => f.quality);
    const plateUpdate = this.trackers.plate.update(atMs, plateHolders.orphans.map((i) => frame.plates[i]!.box));
    const faceUpdate = this.trackers.face.update(atMs, faceHolders.orphans.map((i) => frame.faces[i]!.box));

    const plateTrack = (index: number) => {
      const holder = plateHolders.holderOf.get(index);
      return holder === undefined ? plateUpdate.tracks[plateHolders.orphans.indexOf(index)]! : vehicleUpdate.tracks[holder]!;
    };
    const faceTrack = (index: number) => {
      const holder = faceHolders.holderOf.get(index);
      return holder === undefined ? faceUpdate.tracks[faceHolders.orphans.indexOf(index)]! : personUpdate.tracks[holder]!;
    };

    const reads: TrackedRead<V>[] = [];
    frame.plates.forEach((plate, index) => {
      const track = plateTrack(index);
      reads.push({ kind: 'plate', track, plate, best: track.state.plates.add(plate) });
    });
    frame.faces.forEach((face, index) => {
      const track = faceTrack(index);
      reads.push({ kind: 'face', track, face, best: offerFace(track.state, face) });
    });

    const ended = [vehicleUpdate, personUpdate, plateUpdate, faceUpdate].flatMap((u) => u.ended);
    return { reads, sightings: this.summariseAll(ended, 'closed') };
  }

  /** Ends every track and returns the sightings of those with reads, for a camera that stopped. */
  endAll(): SightingSummary<V>[] {
    return this.summariseAll(Object.values(this.trackers).flatMap((tracker) => tracker.endAll()), 'closed');
  }

  /** Returns the current summary of an open track, for a hit sent before the track ends. */
  snapshot(track: SubjectTrack<V>): SightingSummary<V> | null {
    return summarise(track, 'open', 0);
  }

  private summariseAll(tracks: readonly SubjectTrack<V>[], state: 'open' | 'closed'): SightingSummary<V>[] {
    return tracks.map((track) => summarise(track, state, this.options.minFaceQuality)).filter((s): s is SightingSummary<V> => s !== null);
  }

  /**
   * Returns the 'open' sightings due in the frame at `atMs`. Call it after attaching the frame's
   * views, so a first report carries the read it is made for.
   */
  openReports(atMs: number): SightingSummary<V>[] {
    const due: SightingSummary<V>[] = [];
    for (const tracker of Object.values(this.trackers)) {
      for (const track of tracker.openTracks) {
        // Only tracks seen in this frame are still going; a missed one may be about to end.
        if (track.missedFrames > 0) continue;
        const [summary] = this.summariseAll([track], 'open');
        if (summary === undefined || !this.reportDue(track.state, summary, atMs)) continue;
        track.state.reportedAtMs = atMs;
        track.state.reportedBest = bestOf(summary);
        due.push(summary);
      }
    }
    return due;
  }

  /** Decides whether an open track reports now: first read, a better read, or the long-track interval. */
  private reportDue(state: TrackState<V>, summary: SightingSummary<V>, atMs: number): boolean {
    if (state.reportedAtMs === null) return true;
    const sinceMs = atMs - state.reportedAtMs;
    if (sinceMs >= this.options.openReportEveryMs) return true;
    if (sinceMs < this.options.earlyReportEveryMs) return false;
    const best = bestOf(summary);
    if (typeof best === 'string') return best !== state.reportedBest;
    return best - ((state.reportedBest as number | null) ?? 0) >= this.options.faceQualityGain;
  }
}

/** Returns what an early report is compared by: the voted plate text, or the best face's quality. */
function bestOf<V>(summary: SightingSummary<V>): string | number {
  return summary.kind === 'plate' ? summary.plate!.text : summary.face!.quality;
}

function newState<V>(subject: TrackSubject): TrackState<V> {
  return { subject, plates: new PlateVote(), bestFace: null, faceReads: 0, plateViews: new Map(), faceView: null, reportedAtMs: null, reportedBest: null };
}

function offerFace<V>(state: TrackState<V>, face: AnalysedFace): boolean {
  state.faceReads += 1;
  if (state.bestFace !== null && face.quality < state.bestFace.quality + BEST_FACE_MARGIN) return false;
  state.bestFace = face;
  return true;
}

/**
 * Puts each item (plate or face) into the smallest holder box (vehicle or person) that contains
 * its centre, one item per holder, best items first. Items without a holder are orphans.
 */
function assignToHolders<T>(items: readonly T[], boxOf: (item: T) => BoxXyxyPx, holders: readonly BoxXyxyPx[], rank: (item: T) => number): { holderOf: Map<number, number>; orphans: number[] } {
  const order = items.map((_, index) => index).sort((a, b) => rank(items[b]!) - rank(items[a]!) || a - b);
  const holderOf = new Map<number, number>();
  const used = new Set<number>();
  for (const index of order) {
    const [x1, y1, x2, y2] = boxOf(items[index]!);
    const cx = (x1 + x2) / 2;
    const cy = (y1 + y2) / 2;
    let chosen = -1;
    holders.forEach((holder, h) => {
      if (used.has(h) || cx < holder[0] || cx > holder[2] || cy < holder[1] || cy > holder[3]) return;
      if (chosen < 0 || area(holder) < area(holders[chosen]!)) chosen = h;
    });
    if (chosen < 0) continue;
    used.add(chosen);
    holderOf.set(index, chosen);
  }
  const orphans = items.map((_, index) => index).filter((index) => !holderOf.has(index));
  return { holderOf, orphans };
}

function summarise<V>(track: SubjectTrack<V>, state: 'open' | 'closed', minFaceQuality: number): SightingSummary<V> | null {
  const { subject } = track.state;
  const base = { trackId: track.id, subject, state, firstSeenAtMs: track.firstSeenAtMs, lastSeenAtMs: track.lastSeenAtMs, frames: track.frames };
  if (subject === 'vehicle' || subject === 'plate') {
    const plate = track.state.plates.result();
    if (plate === null) return null;
    // A voted text whose view was given up for texts with more votes at the time falls back to
    // another view of the same plate.
    const view = track.state.plateViews.get(plate.text) ?? track.state.plateViews.values().next().value ?? null;
    return { ...base, kind: 'plate', reads: plate.reads, plate, face: null, view };
  }
  const face = track.state.bestFace;
  if (face === null || face.quality < minFaceQuality) return null;
  return { ...base, kind: 'face', reads: track.state.faceReads, plate: null, face, view: track.state.faceView };
}

function area(box: BoxXyxyPx): number {
  return (box[2] - box[0]) * (box[3] - box[1]);
}
