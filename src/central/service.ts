// The central ingest loop: receives car events over MQTT, validates and stores each one once,
// matches plates and faces, and raises hits (stored, emitted and published) with a repeat cooldown.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Registry } from 'prom-client';
import type { Logger } from '../common/log.js';
import { parseEvent, type EventRejection, type PatrolEvent } from '../protocol/event.js';
import { ALL_EVENTS_FILTER, HITS_TOPIC, carIdFromTopic } from '../protocol/topics.js';
import type { Hotlist } from '../matching/hotlist.js';
import type { Watchlist } from '../matching/watchlist.js';
import { buildHit, type Hit, type HitCandidate, type HitKind } from './hit.js';
import { matchEvent } from './match-event.js';
import { CentralMetrics } from './metrics.js';
import { RejectionLog } from './rejection-log.js';
import type { CentralStore } from './store.js';

/** Default window in which repeated matches of one entry from one car fold into the first hit. */
export const DEFAULT_HIT_COOLDOWN_MS = 60_000;

export interface CentralServiceDeps {
  /** Connected or connecting MQTT v5 client; the caller owns it and ends it. */
  client: MqttClient;
  store: CentralStore;
  hotlist: Hotlist;
  watchlist: Watchlist;
  logger: Logger;
  /** Central clock in ms since the epoch. */
  clock?: () => number;
  /** Registry for the metrics; a new one is created when absent. */
  registry?: Registry;
  hitCooldownMs?: number;
  newHitId?: () => string;
}

/** A match folded into an earlier hit of the same entry from the same car. */
export interface HitRepeat {
  hitId: string;
  kind: HitKind;
  carId: string;
  cameraId: string;
  seq: number;
  score: number;
  repeatCount: number;
  lastSeenAtMs: number;
}

export interface IngestedEvent {
  carId: string;
  seq: number;
  kind: PatrolEvent['kind'];
  duplicate: boolean;
}

export interface RejectedMessage {
  code: EventRejection['code'];
  topicCarId: string | null;
}

export interface CentralServiceEvents {
  hit: [Hit];
  hitRepeated: [HitRepeat];
  ingested: [IngestedEvent];
  rejected: [RejectedMessage];
}

type IngestOutcome = { duplicate: true } | { duplicate: false; hit: Hit | null; repeat: HitRepeat | null };

export class CentralError extends Error {
  override readonly name = 'CentralError';
  constructor(
    readonly code: 'CENTRAL_SUBSCRIBE_FAILED',
    message: string,
  ) {
    super(message);
  }
}

export class CentralService extends EventEmitter<CentralServiceEvents> {
  readonly metrics: CentralMetrics;
  private readonly clock: () => number;
  private readonly hitCooldownMs: number;
  private readonly newHitId: () => string;
  private readonly rejectionLog: RejectionLog;
  private readonly onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
    this.ingest(topic, payload, packet.retain);
  };

  constructor(private readonly deps: CentralServiceDeps) {
    super();
    this.clock = deps.clock ?? Date.now;
    this.hitCooldownMs = deps.hitCooldownMs ?? DEFAULT_HIT_COOLDOWN_MS;
    this.newHitId = deps.newHitId ?? randomUUID;
    this.metrics = new CentralMetrics(deps.registry);
    this.rejectionLog = new RejectionLog(deps.logger, this.clock);
  }

  /**
   * Starts consuming: attaches the message handler, then subscribes to every car's events with
   * QoS 1. Safe to call before the client has connected, because mqtt.js queues the subscription.
   */
  async start(): Promise<void> {
    this.deps.client.on('message', this.onMessage);
    const granted = await this.deps.client.subscribeAsync(ALL_EVENTS_FILTER, { qos: 1 });
    const failed = granted.find((grant) => grant.qos !== 1);
    if (failed !== undefined) {
      this.deps.client.off('message', this.onMessage);
      throw new CentralError('CENTRAL_SUBSCRIBE_FAILED', `broker granted ${failed.qos} for ${ALL_EVENTS_FILTER}, expected QoS 1; check the broker's ACL for this client`);
    }
    this.deps.logger.info({ filter: ALL_EVENTS_FILTER, cooldownMs: this.hitCooldownMs, watchlistThreshold: this.deps.watchlist.threshold }, 'central service started');
  }

  /**
   * Stops consuming. Disconnect the client first, because mqtt.js acknowledges messages that arrive
   * without a listener, and they would be lost. The broker session keeps events sent after that.
   */
  stop(): void {
    this.deps.client.off('message', this.onMessage);
    this.deps.logger.info('central service stopped');
  }

  /**
   * Handles one MQTT message. It runs synchronously, and mqtt.js 5 sends the QoS 1 PUBACK only after
   * the 'message' listeners return, so an event is committed before the car's delivery is acknowledged.
   */
  ingest(topic: string, payload: Uint8Array, retained = false): void {
    const receivedAtMs = this.clock();
    this.metrics.eventsReceived.inc();

    const event = this.validate(topic, payload, retained);
    if (event === null) return;

    let outcome: IngestOutcome;
    try {
      outcome = this.storeAndMatch(event, receivedAtMs);
    } catch (error) {
      // NOTE: the broker still receives the PUBACK, so this event is lost; the counter and the
      // error line are how an operator learns about it.
      this.metrics.ingestFailures.inc();
      this.deps.logger.error({ err: error, carId: event.carId, seq: event.seq, kind: event.kind }, 'event could not be stored or matched');
      return;
    }
    this.metrics.ingestDurationSeconds.observe((this.clock() - receivedAtMs) / 1000);

    this.report(event, outcome);
  }

  private validate(topic: string, payload: Uint8Array, retained: boolean): PatrolEvent | null {
    const topicCarId = carIdFromTopic(topic);
    if (topicCarId === null) {
      this.reject({ code: 'EVENT_TOPIC_MISMATCH', message: 'topic should be patrol/v1/cars/<carId>/events with a non-empty car id' }, null);
      return null;
    }
    if (retained) {
      // A retained event would be replayed to every new subscriber; cars must not publish them.
      this.reject({ code: 'EVENT_INVALID', message: 'event messages should not be retained' }, topicCarId);
      return null;
    }
    const result = parseEvent(payload, topicCarId);
    if (!result.ok) {
      this.reject(result.rejection, topicCarId);
      return null;
    }
    return result.event;
  }

  private reject(rejection: EventRejection, topicCarId: string | null): void {
    this.metrics.eventsRejected.inc({ code: rejection.code });
    this.rejectionLog.record(rejection.code, topicCarId, rejection.message);
    this.emit('rejected', { code: rejection.code, topicCarId });
  }

  /** Stores the event and, for a match, a new hit or a repeat of a recent one, in one transaction. */
  private storeAndMatch(event: PatrolEvent, receivedAtMs: number): IngestOutcome {
    const candidate = matchEvent(event, this.deps.hotlist, this.deps.watchlist);
    const hitAtMs = this.clock();

    return this.deps.store.transaction((): IngestOutcome => {
      if (!this.deps.store.insertEvent(event, receivedAtMs)) return { duplicate: true };
      if (candidate === null) return { duplicate: false, hit: null, repeat: null };

      const earlier = this.deps.store.findRecentHit(event.carId, candidate.matchKey, hitAtMs - this.hitCooldownMs);
      if (earlier !== null) {
        const repeatCount = this.deps.store.recordRepeat(earlier.hitId, hitAtMs, event.seq);
        return { duplicate: false, hit: null, repeat: toRepeat(earlier.hitId, event, candidate, repeatCount, hitAtMs) };
      }

      const hit = buildHit(this.newHitId(), event, candidate, { centralReceivedAtMs: receivedAtMs, hitAtMs });
      this.deps.store.insertHit(hit, candidate.matchKey);
      return { duplicate: false, hit, repeat: null };
    });
  }

  private report(event: PatrolEvent, outcome: IngestOutcome): void {
    if (outcome.duplicate) {
      this.metrics.eventsDuplicate.inc();
      this.deps.logger.debug({ carId: event.carId, seq: event.seq }, 'duplicate event ignored');
    } else {
      this.metrics.eventsStored.inc({ kind: event.kind });
    }
    this.emit('ingested', { carId: event.carId, seq: event.seq, kind: event.kind, duplicate: outcome.duplicate });
    if (outcome.duplicate) return;

    if (outcome.repeat !== null) {
      this.metrics.hitRepeats.inc({ kind: outcome.repeat.kind });
      this.deps.logger.debug({ hitId: outcome.repeat.hitId, carId: event.carId, seq: event.seq, repeatCount: outcome.repeat.repeatCount }, 'match folded into earlier hit');
      this.emit('hitRepeated', outcome.repeat);
    }
    if (outcome.hit !== null) this.raise(outcome.hit);
  }

  private raise(hit: Hit): void {
    this.metrics.hits.inc({ kind: hit.kind });
    this.metrics.frameToHitSeconds.observe({ kind: hit.kind }, hit.latency.frameToHitMs / 1000);
    this.deps.logger.info(
      { hitId: hit.hitId, kind: hit.kind, carId: hit.carId, cameraId: hit.cameraId, seq: hit.seq, score: hit.score, frameToHitMs: hit.latency.frameToHitMs },
      'hit raised',
    );
    this.emit('hit', hit);

    // NOTE: mqtt.js keeps an unacknowledged QoS 1 publish in memory only, so a hit raised just before
    // a crash is stored but may never reach HITS_TOPIC.
    this.deps.client.publish(HITS_TOPIC, JSON.stringify(hit), { qos: 1 }, (error) => {
      if (error === undefined || error === null) return;
      this.metrics.hitPublishFailures.inc();
      this.deps.logger.error({ err: error, hitId: hit.hitId }, 'hit could not be published');
    });
  }
}

function toRepeat(hitId: string, event: PatrolEvent, candidate: HitCandidate, repeatCount: number, seenAtMs: number): HitRepeat {
  return {
    hitId,
    kind: candidate.kind,
    carId: event.carId,
    cameraId: event.cameraId,
    seq: event.seq,
    score: candidate.score,
    repeatCount,
    lastSeenAtMs: seenAtMs,
  };
}
