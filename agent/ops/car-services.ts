// Starts what the agent needs besides cameras and inference: the broker connection, the clock offset
// measurement, the GPS position and the signed lists with the on-car matcher, and stops them again.
// The agent receives them as plain functions (hitHook, positionAt, clockOffsetMs).
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Logger } from '../../src/common/log.js';
import type { CarMatch, Position } from '../../src/protocol/event.js';
import { ClockSync } from '../clock/clock-sync.js';
import type { AgentConfig } from '../config.js';
import { GpsdClient } from '../gps/gpsd-client.js';
import { CarLists } from '../lists/car-lists.js';
import { CarMatcher, type MatchableRead } from '../lists/car-matcher.js';
import { subscribeToLists } from '../lists/list-subscription.js';
import { loadTrustedKeys } from '../lists/trusted-keys.js';
import type { AgentMetrics } from '../metrics.js';
import { connectBroker } from '../uplink/connect.js';

export interface CarServices {
  client: MqttClient;
  /** On-car matching, or undefined when no trusted list keys are configured. */
  hitHook?: { onCandidate(read: MatchableRead): CarMatch | null };
  /** Position at a car-clock time: a fix, null without one; undefined when no GPS is configured. */
  positionAt?: (atMs: number) => Position | null;
  clockOffsetMs: () => number | null;
  lists: CarLists | null;
  gps: GpsdClient | null;
  /** Stops the clock requests, GPS and list updates; the agent ends the broker connection. */
  stop(): void;
}

export interface CarServicesDeps {
  config: AgentConfig;
  logger: Logger;
  metrics: AgentMetrics;
  /** Client to use instead of connecting to config.broker (tests). */
  client?: MqttClient;
}

/** Starts the services; throws SecretError or ListError when a secret or a list key cannot be read. */
export function startCarServices(deps: CarServicesDeps): CarServices {
  const { config, logger, metrics } = deps;
  const lists = config.lists === undefined ? null : openLists(config, logger);
  const client = deps.client ?? connectBroker(config);
  const stops: Array<() => void> = [];

  const clock = new ClockSync({
    client,
    carId: config.carId,
    logger: logger.child({ part: 'clock' }),
    intervalMs: config.clock.syncIntervalSec * 1000,
    replyTimeoutMs: config.clock.replyTimeoutMs,
    onSample: (_sample, chosen) => {
      metrics.clockOffsetMs.set(chosen.offsetMs);
      metrics.clockRoundTripMs.set(chosen.roundTripMs);
    },
  });
  clock.start();
  stops.push(() => clock.stop());

  const gps = config.gps?.enabled ? startGps(config.gps, logger, metrics) : null;
  if (gps !== null) stops.push(() => gps.stop());

  let hitHook: CarServices['hitHook'];
  if (lists !== null) {
    stops.push(subscribeToLists({ client, lists, logger: logger.child({ part: 'lists' }), onOutcome: (outcome) => recordListOutcome(outcome, lists, metrics) }));
    // The pipeline counts the hits it sends (agent_car_hits_total), so the matcher only logs them.
    hitHook = new CarMatcher({ lists, logger: logger.child({ part: 'matcher' }) });
    for (const [list, version] of Object.entries(lists.versions())) metrics.listVersion.set({ list }, version);
  } else {
    logger.warn('lists.trustedKeyFiles is not set; the car raises no hits itself and relies on the central service');
  }

  return {
    client,
    hitHook,
    positionAt: gps === null ? undefined : (atMs) => gps.positionAt(atMs),
    clockOffsetMs: () => clock.offsetMs(),
    lists,
    gps,
    stop: () => {
      for (const stop of stops.reverse()) stop();
    },
  };
}

function openLists(config: AgentConfig, logger: Logger): CarLists {
  const lists = new CarLists({ dir: path.join(config.dataDir, 'lists'), trustedKeys: loadTrustedKeys(config.lists!.trustedKeyFiles), logger: logger.child({ part: 'lists' }) });
  lists.load();
  return lists;
}

function startGps(gpsConfig: NonNullable<AgentConfig['gps']>, logger: Logger, metrics: AgentMetrics): GpsdClient {
  const gps = new GpsdClient({
    host: gpsConfig.host,
    port: gpsConfig.port,
    maxFixAgeMs: gpsConfig.maxFixAgeMs,
    logger: logger.child({ part: 'gps' }),
    onFixChange: (hasFix) => metrics.gpsFix.set(hasFix ? 1 : 0),
  });
  metrics.gpsFix.set(0);
  gps.start();
  return gps;
}

function recordListOutcome(outcome: ReturnType<CarLists['receive']>, lists: CarLists, metrics: AgentMetrics): void {
  if (outcome.status === 'rejected') metrics.listRejections.inc({ code: outcome.error.code });
  if (outcome.status === 'applied') metrics.listVersion.set({ list: outcome.list }, lists.versions()[outcome.list]);
}
