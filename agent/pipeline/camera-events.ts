// The event work on one camera's analysed frames, in frame order: tracking, evidence for the best
// reads, the on-car hit hook with its hit event sent at once, and one sighting event per ended track.
import type { Logger } from '../../src/common/log.js';
import type { CarMatch, Evidence, Position } from '../../src/protocol/event.js';
import type { RgbImage } from '../../src/vision/image.js';
import type { BoxXyxyPx } from '../../src/vision/types.js';
import type { FrameAnalysis } from '../inference/frame-analyser.js';
import { CameraTracks, type CameraTracksOptions, type SightingSummary, type TrackedRead } from '../tracking/camera-tracks.js';
import type { Outbox } from '../uplink/outbox.js';
import { encodeEvidence } from './evidence.js';
import type { CandidateRead, HitHook } from './hit-hook.js';
import { commitEvent, faceEvent, plateEvent, sightingBlock, type CapturedView, type FrameStamp } from './sighting-events.js';

export interface AnalysedCameraFrame {
  image: RgbImage;
  /** Frame time used for tracking, ms since the epoch. */
  atMs: number;
  stamp: FrameStamp;
  analysis: FrameAnalysis;
}

export interface CommittedEvent {
  cameraId: string;
  seq: number;
  kind: 'plate' | 'face';
  /** 'hit': a match found on the car, sent at once; 'sighting': the summary of a track. */
  role: 'hit' | 'sighting';
  /** True when the outbox keeps it as a hit: the hit itself and every sighting of a matched track. */
  hit: boolean;
  state: 'open' | 'closed';
  frameReceivedAtMs: number;
  committedAtMs: number;
}

export interface CameraEventsDeps {
  carId: string;
  cameraId: string;
  outbox: Outbox;
  logger: Logger;
  tracking: CameraTracksOptions;
  newTrackId: () => string;
  hitHook: HitHook | null;
  positionAt: (atMs: number) => Position | null | undefined;
  clockOffsetMs: () => number | null;
  nowMs: () => number;
  onCommitted: (event: CommittedEvent) => void;
  /** Counts failures that cost an event its evidence or a read its hit check. */
  onError: (kind: 'evidence' | 'hit-hook') => void;
}

/** Share of a plate's size added around a plate that no vehicle holds, for its context image. */
const LONE_PLATE_CONTEXT_MARGIN = 1.5;
const LONE_FACE_CONTEXT_MARGIN = 1;
/** Plate texts per track that keep a view; a track read as many texts keeps those with the most votes. */
const MAX_PLATE_VIEWS = 4;

export class CameraEvents {
  private readonly tracks: CameraTracks<CapturedView>;
  /** Car matches per open track, so its closing sighting is marked and kept as a hit. */
  private readonly matches = new Map<string, CarMatch>();
  /** Track id and match key of every hit event sent for an open track. */
  private readonly sentHits = new Set<string>();

  constructor(private readonly deps: CameraEventsDeps) {
    this.tracks = new CameraTracks<CapturedView>(deps.tracking, deps.newTrackId);
  }

  /** Tracks one analysed frame, sends its hits, the sightings of the tracks it ended, then the open tracks' reports. */
  async apply(frame: AnalysedCameraFrame): Promise<void> {
    const update = this.tracks.update(frame.atMs, frame.analysis);
    for (const read of update.reads) {
      const view = read.best ? this.captureView(frame, read) : null;
      if (view !== null) this.attachView(read, view);
      const match = await this.checkHit(read, frame.atMs);
      if (match !== null) await this.sendHit(frame, read, match, view);
    }
    for (const sighting of update.sightings) await this.sendSighting(sighting);
    for (const sighting of this.tracks.openReports(frame.atMs)) await this.sendSighting(sighting);
  }

  /** Ends every track and sends their sightings, for a camera that stopped or finished its files. */
  async endAll(): Promise<void> {
    for (const sighting of this.tracks.endAll()) await this.sendSighting(sighting);
  }

  private captureView(frame: AnalysedCameraFrame, read: TrackedRead<CapturedView>): CapturedView {
    const { image } = frame;
    const [box, cropKind] = read.kind === 'plate' ? [read.plate.box, 'plate-crop' as const] : [read.face.box, 'face-crop' as const];
    const holder = read.track.state.subject === 'vehicle' || read.track.state.subject === 'person' ? read.track.box : null;
    const context = holder ?? grow(box, read.kind === 'plate' ? LONE_PLATE_CONTEXT_MARGIN : LONE_FACE_CONTEXT_MARGIN);
    const evidence = Promise.all([encodeEvidence(image, box, cropKind), encodeEvidence(image, context, 'context')]).catch((error: unknown): Evidence[] => {
      this.deps.onError('evidence');
      this.deps.logger.error({ camera: this.deps.cameraId, trackId: read.track.id, err: (error as Error).message }, 'evidence could not be encoded; the event goes without images');
      return [];
    });
    return { stamp: frame.stamp, position: this.deps.positionAt(frame.stamp.receivedAtMs), evidence };
  }

  /** Keeps the view on the track: one for the best face, one per plate text for the texts with the most votes. */
  private attachView(read: TrackedRead<CapturedView>, view: CapturedView): void {
    const state = read.track.state;
    if (read.kind === 'face') {
      state.faceView = view;
      return;
    }
    const views = state.plateViews;
    if (!views.has(read.plate.text) && views.size >= MAX_PLATE_VIEWS) {
      const sums = new Map(state.plates.result()!.counts.map((count) => [count.text, count.confidenceSum]));
      const weakest = [...views.keys()].reduce((a, b) => (sums.get(b)! < sums.get(a)! ? b : a));
      if (sums.get(weakest)! >= sums.get(read.plate.text)!) return;
      views.delete(weakest);
    }
    views.set(read.plate.text, view);
  }

  private async checkHit(read: TrackedRead<CapturedView>, frameAtMs: number): Promise<CarMatch | null> {
    const hook = this.deps.hitHook;
    if (hook === null) return null;
    const base = { cameraId: this.deps.cameraId, trackId: read.track.id, frameAtMs };
    const candidate: CandidateRead = read.kind === 'plate' ? { ...base, kind: 'plate', plate: read.plate } : { ...base, kind: 'face', face: read.face };
    try {
      return await hook.onCandidate(candidate);
    } catch (error) {
      this.deps.onError('hit-hook');
      this.deps.logger.error({ camera: this.deps.cameraId, trackId: read.track.id, kind: read.kind, err: (error as Error).message }, 'on-car matching failed for a read; it is sent with the sighting only');
      return null;
    }
  }

  /** Sends a hit event at once with this frame's read and evidence, once per track and match key. */
  private async sendHit(frame: AnalysedCameraFrame, read: TrackedRead<CapturedView>, match: CarMatch, view: CapturedView | null): Promise<void> {
    const trackId = read.track.id;
    if (!this.matches.has(trackId)) this.matches.set(trackId, match);
    const key = `${trackId}\u0000${match.matchKey}`;
    if (this.sentHits.has(key)) return;
    this.sentHits.add(key);

    const snapshot = this.tracks.snapshot(read.track);
    if (snapshot === null) return;
    const hitView = view ?? this.captureView(frame, read);
    const source = this.eventSource();
    const draft =
      read.kind === 'plate'
        ? await plateEvent(source, read.plate, read.plate, hitView, sightingBlock(snapshot), match)
        : await faceEvent(source, read.face, hitView, sightingBlock(snapshot), match);
    this.commit(draft, 'hit', true, 'open', hitView);
  }

  private async sendSighting(summary: SightingSummary<CapturedView>): Promise<void> {
    const match = this.matches.get(summary.trackId) ?? null;
    // A track whose hit event went out already was reported by that event.
    if (summary.state === 'open' && match !== null) return;
    if (summary.state === 'closed') this.forgetTrack(summary.trackId);
    const view = summary.view;
    if (view === null) {
      this.deps.logger.warn({ camera: this.deps.cameraId, trackId: summary.trackId }, 'sighting has no captured view; not sent');
      return;
    }
    const source = this.eventSource();
    const block = sightingBlock(summary);
    const draft =
      summary.kind === 'plate'
        ? await plateEvent(source, summary.plate!.bestRead, summary.plate!, view, block, match)
        : await faceEvent(source, summary.face!, view, block, match);
    this.commit(draft, 'sighting', match !== null, summary.state, view);
  }

  private commit(draft: Parameters<typeof commitEvent>[1], role: CommittedEvent['role'], hit: boolean, state: 'open' | 'closed', view: CapturedView): void {
    const seq = commitEvent(this.deps.outbox, draft, hit);
    this.deps.onCommitted({
      cameraId: this.deps.cameraId,
      seq,
      kind: draft.kind === 'face' ? 'face' : 'plate',
      role,
      hit,
      state,
      frameReceivedAtMs: view.stamp.receivedAtMs,
      committedAtMs: this.deps.nowMs(),
    });
  }

  private forgetTrack(trackId: string): void {
    this.matches.delete(trackId);
    for (const key of this.sentHits) if (key.startsWith(`${trackId}\u0000`)) this.sentHits.delete(key);
  }

  private eventSource() {
    return { carId: this.deps.carId, cameraId: this.deps.cameraId, clockOffsetMs: this.deps.clockOffsetMs() };
  }
}

function grow(box: BoxXyxyPx, margin: number): BoxXyxyPx {
  const padX = (box[2] - box[0]) * margin;
  const padY = (box[3] - box[1]) * margin;
  return [box[0] - padX, box[1] - padY, box[2] + padX, box[3] + padY];
}
