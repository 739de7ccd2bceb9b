// The central ingest loop. It receives car events and status messages over MQTT, through a shared
// subscription when several instances split the fleet. It stores each valid event once, matches plates
// and faces, raises hits (stored, emitted and published) and records operator decisions on them.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Registry } from 'prom-client';
import type { Logger } from '../common/log.js';
import { parseEvent, type EventRejection, type PatrolEvent } from '../protocol/event.js';
import { payloadDigest, rejectedSeqOf } from '../protocol/receipts.js';
import { parseCarStatus } from '../protocol/status.js';
import { ALL_EVENTS_FILTER, ALL_STATUS_FILTER, HITS_TOPIC, carIdFromStatusTopic, carIdFromTopic, sharedFilter } from '../protocol/topics.js';
import { ClockOffsets } from './clock-offsets.js';
import { decideHit } from './decisions.js';
import type { Hit } from './hit.js';
import type { ListManager } from './lists/list-manager.js';
import { matchEvent } from './match-event.js';
import { CentralMetrics } from './metrics.js';
import { ReceiptSender } from './receipts.js';
import { RejectionLog } from './rejection-log.js';
import type { CentralStore, HitRepeat, RecordEventOutcome, StoredHit } from './store/store.js';

export type { HitRepeat } from './store/store.js';

/** Default window in which repeated matches of one entry from one car fold into the first hit. */
export const DEFAULT_HIT_COOLDOWN_MS = 60_000;

/** Attempts to store one event before it is given up (each retry waits twice as long, from 50 ms). */
const STORE_ATTEMPTS = 4;

export interface CentralServiceDeps {
  /** Connected or connecting MQTT client for ingest and for publishing hits; the caller owns it and ends it. */
  client: MqttClient;
  /**
   * More connections that only ingest, in the same shared-subscription group. mqtt.js handles one
   * message per connection at a time, so these let the store commit several events concurrently.
   */
  ingestClients?: MqttClient[];
  store: CentralStore;
  lists: ListManager;
  logger: Logger;
  /** Central clock in ms since the epoch. */
  clock?: () => number;
  /** Registry for the metrics; a new one is created when absent. */
  registry?: Registry;
  hitCooldownMs?: number;
  newHitId?: () => string;
  /** Shared subscription group, so instances with the same group split the traffic; null subscribes to everything. */
  shareGroup?: string | null;
  /** Wait in ms before the pending receipts for the cars are sent (see receipts.ts). */
  receiptFlushMs?: number;
}

export interface IngestedEvent {
  carId: string;
  seq: number;
  kind: PatrolEvent['kind'];
  duplicate: boolean;
}

export type RejectionCode = EventRejection['code'] | 'STATUS_TOO_LARGE' | 'STATUS_NOT_JSON' | 'STATUS_INVALID' | 'STATUS_TOPIC_MISMATCH';

export interface RejectedMessage {
  code: RejectionCode;
  topicCarId: string | null;
}

export interface CentralServiceEvents {
  hit: [Hit];
  hitRepeated: [HitRepeat];
  hitDecided: [StoredHit];
  ingested: [IngestedEvent];
  rejected: [RejectedMessage];
  status: [{ carId: string }];
}

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
  private readonly clockOffsets: ClockOffsets;
  private readonly filters: string[];
  private readonly clients: MqttClient[];
  private readonly previousHandlers = new Map<MqttClient, MqttClient['handleMessage']>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly receipts: ReceiptSender;

  constructor(private readonly deps: CentralServiceDeps) {
    super();
    this.clock = deps.clock ?? Date.now;
    this.hitCooldownMs = deps.hitCooldownMs ?? DEFAULT_HIT_COOLDOWN_MS;
    this.newHitId = deps.newHitId ?? randomUUID;
    this.metrics = new CentralMetrics(deps.registry);
    this.rejectionLog = new RejectionLog(deps.logger, this.clock);
    this.clockOffsets = new ClockOffsets(deps.store);
    this.clients = [deps.client, ...(deps.ingestClients ?? [])];
    const group = deps.shareGroup ?? null;
    this.filters = [ALL_EVENTS_FILTER, ALL_STATUS_FILTER].map((filter) => (group === null ? filter : sharedFilter(group, filter)));
    this.receipts = new ReceiptSender({
      client: deps.client,
      logger: deps.logger,
      ...(deps.receiptFlushMs === undefined ? {} : { flushMs: deps.receiptFlushMs }),
      onSent: (entries) => this.metrics.receiptEntriesSent.inc(entries),
      onFailed: () => this.metrics.receiptFailures.inc(),
    });
  }

  /**
   * Starts consuming: takes over the client's message handler, then subscribes with QoS 1. Safe to
   * call before the client has connected, because mqtt.js queues the subscription.
   */
  async start(): Promise<void> {
    for (const client of this.clients) this.takeOverMessages(client);
    const grants = await Promise.all(this.clients.map((client) => client.subscribeAsync(this.filters, { qos: 1 })));
    const failed = grants.flat().find((grant) => grant.qos !== 1);
    if (failed !== undefined) {
      this.restoreHandlers();
      throw new CentralError('CENTRAL_SUBSCRIBE_FAILED', `broker granted QoS ${failed.qos} for ${failed.topic}, expected 1; check the broker's ACL for this client`);
    }
    this.deps.logger.info({ filters: this.filters, connections: this.clients.length, cooldownMs: this.hitCooldownMs, store: this.deps.store.backend }, 'central service started');
  }

  /**
   * mqtt.js sends the QoS 1 PUBACK only when handleMessage calls back, and reads the connection's next
   * message after that, so an event is committed before the car's delivery is acknowledged.
   */
  private takeOverMessages(client: MqttClient): void {
    this.previousHandlers.set(client, client.handleMessage);
    client.handleMessage = (packet, callback) => {
      const handled = this.handlePacket(packet);
      this.inFlight.add(handled);
      handled.then(() => {
        this.inFlight.delete(handled);
        callback();
      });
    };
  }

  /**
   * Stops consuming and waits for the messages being handled. Disconnect the client first: messages
   * that arrive afterwards would be acknowledged without being stored. The broker session keeps them.
   */
  async stop(): Promise<void> {
    this.restoreHandlers();
    await Promise.all(this.inFlight);
    this.receipts.stop();
    this.deps.logger.info('central service stopped');
  }

  private restoreHandlers(): void {
    for (const [client, handler] of this.previousHandlers) client.handleMessage = handler;
    this.previousHandlers.clear();
  }

  /** Confirms a hit; see decisions.ts for the rules and errors. */
  async confirmHit(hitId: string, by: string, reason: string): Promise<StoredHit> {
    const decided = await decideHit(this.decisionDeps(), hitId, 'confirmed', by, reason);
    this.emit('hitDecided', decided);
    return decided;
  }

  /** Dismisses a hit; a dismissed face hit keeps the face as a negative of the subject. */
  async dismissHit(hitId: string, by: string, reason: string): Promise<StoredHit> {
    const decided = await decideHit(this.decisionDeps(), hitId, 'dismissed', by, reason);
    this.emit('hitDecided', decided);
    return decided;
  }

  private decisionDeps() {
    return { store: this.deps.store, lists: this.deps.lists, logger: this.deps.logger, clock: this.clock };
  }

  /** Handles one message on a subscribed topic; never rejects, so one bad message cannot stop the loop. */
  private async handlePacket(packet: IPublishPacket): Promise<void> {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    try {
      if (carIdFromStatusTopic(packet.topic) !== null) await this.ingestStatus(packet.topic, payload, packet.retain);
      else await this.ingest(packet.topic, payload, packet.retain);
    } catch (error) {
      this.deps.logger.error({ err: error }, 'message handling failed unexpectedly');
    }
  }

  /** Validates, stores and matches one event message; resolves when it is committed or rejected. */
  async ingest(topic: string, payload: Uint8Array, retained = false): Promise<void> {
    const receivedAtMs = this.clock();
    this.metrics.eventsReceived.inc();

    const event = this.validate(topic, payload, retained);
    if (event === null) return;

    let outcome: RecordEventOutcome;
    try {
      outcome = await this.storeWithRetry(event, receivedAtMs);
    } catch (error) {
      // No receipt goes to the car, so the car sends the event again after its receipt timeout.
      this.metrics.ingestFailures.inc();
      this.deps.logger.error({ err: error, carId: event.carId, seq: event.seq, kind: event.kind, attempts: STORE_ATTEMPTS }, 'event could not be stored or matched');
      return;
    }
    this.metrics.ingestDurationSeconds.observe((this.clock() - receivedAtMs) / 1000);
    if (outcome.duplicate && (await this.conflictsWithStored(event))) {
      // The car reused a sequence number for a different event (its outbox was lost and restarted
      // its numbers). A 'stored' receipt would make the car delete an event that is not stored.
      this.metrics.seqConflicts.inc();
      this.deps.logger.error({ carId: event.carId, seq: event.seq }, 'event reuses a stored sequence number with different content; the car keeps it in quarantine');
      this.receipts.rejected(event.carId, { seq: event.seq, code: 'EVENT_SEQ_CONFLICT', digest: payloadDigest(payload) });
      return;
    }
    this.receipts.stored(event.carId, event.seq);

    this.report(event, outcome);
  }

  /** True when the stored event with this car and sequence number is a different event, not a resend. */
  private async conflictsWithStored(event: PatrolEvent): Promise<boolean> {
    let stored: PatrolEvent | null;
    try {
      stored = await this.deps.store.getEvent(event.carId, event.seq);
    } catch (error) {
      // Without the stored copy a resend cannot be distinguished from a conflict, so it is treated as
      // the resend it almost always is.
      this.deps.logger.warn({ err: error, carId: event.carId, seq: event.seq }, 'duplicate check failed; treated as a resend');
      return false;
    }
    // A resend carries the same commit time, kind and camera; a reused number almost never does.
    return stored !== null && (stored.committedAtMs !== event.committedAtMs || stored.kind !== event.kind || stored.cameraId !== event.cameraId);
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
      // Tell the car, so it sets the event aside instead of resending it for ever. Only the car
      // itself may publish on its topic (see deploy/mosquitto/patrol.acl).
      const seq = rejectedSeqOf(payload);
      if (seq !== null) this.receipts.rejected(topicCarId, { seq, code: result.rejection.code, digest: payloadDigest(payload) });
      return null;
    }
    return result.event;
  }

  private reject(rejection: { code: RejectionCode; message: string }, topicCarId: string | null): void {
    this.metrics.eventsRejected.inc({ code: rejection.code });
    this.rejectionLog.record(rejection.code, topicCarId, rejection.message);
    this.emit('rejected', { code: rejection.code, topicCarId });
  }

  /** Matches the event and stores it with its hit or repeat in one transaction, retrying transient store errors. */
  private async storeWithRetry(event: PatrolEvent, receivedAtMs: number): Promise<RecordEventOutcome> {
    const clockOffsetMs = await this.clockOffsets.resolve(event.carId, event.clockOffsetMs);
    const hitAtMs = this.clock();
    const { candidate, suppressed } = matchEvent(event, this.deps.lists.hotlist, this.deps.lists.faceIndex, hitAtMs);
    if (suppressed.length > 0) {
      this.metrics.facesSuppressed.inc(suppressed.length);
      this.deps.logger.debug({ carId: event.carId, seq: event.seq, suppressed: suppressed.length }, 'face match suppressed by a dismissed face');
    }

    const input = { event, receivedAtMs, clockOffsetMs, candidate, hitAtMs, cooldownMs: this.hitCooldownMs, newHitId: this.newHitId() };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.store.recordEvent(input);
      } catch (error) {
        if (attempt >= STORE_ATTEMPTS) throw error;
        this.deps.logger.warn({ err: error, carId: event.carId, seq: event.seq, attempt }, 'storing an event failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** (attempt - 1)));
      }
    }
  }

  private report(event: PatrolEvent, outcome: RecordEventOutcome): void {
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
      { hitId: hit.hitId, kind: hit.kind, matchKind: hit.matchKind, carId: hit.carId, cameraId: hit.cameraId, seq: hit.seq, score: hit.score, frameToHitMs: hit.latency.frameToHitMs },
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

  /** Validates and stores one status message; status messages are not deduplicated, the latest wins. */
  async ingestStatus(topic: string, payload: Uint8Array, retained = false): Promise<void> {
    this.metrics.statusReceived.inc();
    const topicCarId = carIdFromStatusTopic(topic);
    const result = parseCarStatus(payload, topicCarId);
    if (!result.ok) {
      this.reject(result.rejection, topicCarId);
      return;
    }
    if (retained) {
      // A retained status replayed at subscribe time is old news: it must not count as contact.
      this.reject({ code: 'STATUS_INVALID', message: 'status messages should not be retained' }, topicCarId);
      return;
    }
    const status = result.status;
    this.clockOffsets.remember(status.carId, status.clockOffsetMs);
    try {
      await this.deps.store.recordCarStatus(status, this.clock());
    } catch (error) {
      this.metrics.ingestFailures.inc();
      this.deps.logger.error({ err: error, carId: status.carId }, 'car status could not be stored');
      return;
    }
    this.emit('status', { carId: status.carId });
  }
}
