// Read-only views: fleet status for everyone on duty, event search and the audit log for
// supervisors. A search is written to the audit log, with its reason, before it runs.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { normalisePlateText } from '../../../matching/hotlist.js';
import type { AuditQuery, CarStatus, EventQuery } from '../../store/store.js';
import { writeAudit, type RouteContext } from '../context.js';
import { parseInput } from '../errors.js';
import { currentUser, requirePermission } from '../guard.js';

export const MAX_SEARCH_RESULTS = 500;
export const MAX_AUDIT_PAGE = 500;

const timeMs = z.coerce.number().int().min(0);
const carId = z.string().trim().regex(/^[A-Za-z0-9_-]{1,64}$/, 'should be 1-64 letters, digits, _ or -');

const SearchSchema = z
  .strictObject({
    plate: z.string().trim().min(1).max(33).optional(),
    carId: carId.optional(),
    kind: z.enum(['plate', 'face', 'objects']).optional(),
    fromMs: timeMs.optional(),
    toMs: timeMs.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_SEARCH_RESULTS).default(100),
    reason: z.string().trim().min(1, 'should say why').max(500),
  })
  .refine((query) => query.fromMs === undefined || query.toMs === undefined || query.fromMs <= query.toMs, 'fromMs should not be after toMs');

const AuditQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE).default(100),
  beforeId: z.coerce.number().int().min(1).optional(),
  actor: z.string().max(64).optional(),
  action: z.string().max(64).optional(),
  target: z.string().max(100).optional(),
  fromMs: timeMs.optional(),
  toMs: timeMs.optional(),
});

/** A car's status as the fleet page shows it. */
export interface CarStatusView {
  carId: string;
  online: boolean;
  lastContactAtMs: number;
  camerasUp: number | null;
  camerasTotal: number | null;
  analysedFps: number | null;
  outboxBacklog: number | null;
}

export function registerRecordRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get('/api/fleet', { preHandler: requirePermission(context.sessions, 'hits.view') }, async () => {
    const nowMs = context.clock();
    const cars = await context.ports.store.listFleetStatus();
    return { cars: cars.map((car) => toCarStatusView(car, nowMs, context.carOnlineWindowMs)), atMs: nowMs };
  });

  app.post('/api/events/search', { preHandler: requirePermission(context.sessions, 'events.search') }, async (request) => {
    const actor = currentUser(request).session.username;
    const { reason, ...input } = parseInput(SearchSchema, request.body, 'search');
    const query = toEventQuery(input);
    await writeAudit(context, { actor, action: 'events.search', target: query.plate ?? query.platePrefix ?? query.carId ?? null, reason, details: { query } });
    return { events: await context.ports.store.searchEvents(query) };
  });

  app.get('/api/audit', { preHandler: requirePermission(context.sessions, 'audit.view') }, async (request) => {
    const query: AuditQuery = dropUndefined(parseInput(AuditQuerySchema, request.query, 'audit query'));
    return { entries: await context.ports.store.listAudit(query) };
  });
}

export function toCarStatusView(car: CarStatus, nowMs: number, onlineWindowMs: number): CarStatusView {
  const hasCameras = car.cameras.length > 0;
  return {
    carId: car.carId,
    online: nowMs - car.lastContactAtMs <= onlineWindowMs,
    lastContactAtMs: car.lastContactAtMs,
    camerasUp: hasCameras ? car.cameras.filter((camera) => camera.state === 'up').length : null,
    camerasTotal: hasCameras ? car.cameras.length : null,
    analysedFps: car.analysedFps,
    outboxBacklog: car.outboxBacklog,
  };
}

/** Maps the page's plate field onto the store's query: a trailing '*' selects a prefix search. */
function toEventQuery(input: { plate?: string; carId?: string; kind?: EventQuery['kind']; fromMs?: number; toMs?: number; limit: number }): EventQuery {
  const { plate, ...rest } = input;
  const query: EventQuery = dropUndefined(rest);
  if (plate === undefined) return query;
  if (plate.endsWith('*')) {
    const prefix = normalisePlateText(plate.slice(0, -1));
    if (prefix.length > 0) query.platePrefix = prefix;
  } else {
    query.plate = normalisePlateText(plate);
  }
  return query;
}

/** Removes keys whose value is undefined, so the store treats missing filters as absent. */
function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
