// Prometheus metrics of the central service, registered on a registry the caller owns or a new one.
import { Counter, Histogram, Registry } from 'prom-client';

export class CentralMetrics {
  readonly registry: Registry;
  readonly eventsReceived: Counter;
  readonly eventsStored: Counter<'kind'>;
  readonly eventsDuplicate: Counter;
  readonly eventsRejected: Counter<'code'>;
  readonly ingestFailures: Counter;
  readonly hits: Counter<'kind'>;
  readonly hitRepeats: Counter<'kind'>;
  readonly hitPublishFailures: Counter;
  readonly receiptEntriesSent: Counter;
  readonly seqConflicts: Counter;
  readonly receiptFailures: Counter;
  readonly ingestDurationSeconds: Histogram;
  readonly frameToHitSeconds: Histogram<'kind'>;
  readonly statusReceived: Counter;
  readonly facesSuppressed: Counter;
  readonly purgedRows: Counter<'data'>;
  readonly purgeFailures: Counter;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.eventsReceived = new Counter({ name: 'patrol_central_events_received_total', help: 'MQTT event messages received', registers });
    this.eventsStored = new Counter({ name: 'patrol_central_events_stored_total', help: 'Events stored for the first time', labelNames: ['kind'], registers });
    this.eventsDuplicate = new Counter({ name: 'patrol_central_events_duplicate_total', help: 'Events received again with a (car, seq) already stored', registers });
    this.eventsRejected = new Counter({ name: 'patrol_central_events_rejected_total', help: 'Event messages rejected, by rejection code', labelNames: ['code'], registers });
    this.ingestFailures = new Counter({ name: 'patrol_central_ingest_failures_total', help: 'Valid events that could not be matched or stored', registers });
    this.hits = new Counter({ name: 'patrol_central_hits_total', help: 'New hits raised', labelNames: ['kind'], registers });
    this.hitRepeats = new Counter({ name: 'patrol_central_hit_repeats_total', help: 'Matches folded into an earlier hit within the cooldown', labelNames: ['kind'], registers });
    this.hitPublishFailures = new Counter({ name: 'patrol_central_hit_publish_failures_total', help: 'Hits that could not be published to MQTT', registers });
    this.receiptEntriesSent = new Counter({ name: 'patrol_central_receipt_entries_sent_total', help: 'Event sequence numbers receipted to cars, stored or rejected', registers });
    this.seqConflicts = new Counter({ name: 'patrol_central_seq_conflicts_total', help: 'Events that reused a stored (car, seq) with different content, rejected back to the car', registers });
    this.receiptFailures = new Counter({ name: 'patrol_central_receipt_failures_total', help: 'Receipt messages the client could not send', registers });
    this.ingestDurationSeconds = new Histogram({
      name: 'patrol_central_ingest_duration_seconds',
      help: 'Time from receiving an event message to having it validated, matched and committed',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.frameToHitSeconds = new Histogram({
      name: 'patrol_central_frame_to_hit_seconds',
      help: 'Time from the frame read on the car to the hit raised centrally',
      labelNames: ['kind'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    });
    this.statusReceived = new Counter({ name: 'patrol_central_status_received_total', help: 'Car status messages received', registers });
    this.facesSuppressed = new Counter({ name: 'patrol_central_faces_suppressed_total', help: 'Face matches skipped because the face resembles a dismissed one', registers });
    this.purgedRows = new Counter({ name: 'patrol_central_purged_rows_total', help: 'Rows removed or stripped of evidence by retention, by kind of data', labelNames: ['data'], registers });
    this.purgeFailures = new Counter({ name: 'patrol_central_purge_failures_total', help: 'Retention purge runs that failed', registers });
  }
}
