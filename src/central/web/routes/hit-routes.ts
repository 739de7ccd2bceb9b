// Hits for the live view and the operator's decision on each. The service writes the decision and
// its audit entry and announces it, which updates the live view of every logged-in user.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { RouteContext } from '../context.js';
import { parseInput } from '../errors.js';
import { currentUser, requirePermission } from '../guard.js';
import { toHitView } from '../hit-view.js';

export const MAX_RECENT_HITS = 200;

const RecentHitsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_RECENT_HITS).default(50),
  decision: z.enum(['open', 'confirmed', 'dismissed']).optional(),
});

const DecisionSchema = z.strictObject({
  decision: z.enum(['confirmed', 'dismissed']),
  reason: z.string().trim().min(1, 'should say why').max(500),
});

const hitId = z.string().min(1).max(100);

export function registerHitRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get('/api/hits', { preHandler: requirePermission(context.sessions, 'hits.view') }, async (request) => {
    const { limit, decision } = parseInput(RecentHitsQuerySchema, request.query, 'hit query');
    const hits = await context.ports.store.searchHits(decision === undefined ? { limit } : { limit, decision });
    return { hits: hits.map(toHitView) };
  });

  app.post<{ Params: { hitId: string } }>('/api/hits/:hitId/decision', { preHandler: requirePermission(context.sessions, 'hits.decide') }, async (request) => {
    const actor = currentUser(request).session.username;
    const id = parseInput(hitId, request.params.hitId, 'hit id');
    const { decision, reason } = parseInput(DecisionSchema, request.body, 'decision');

    const { decisions } = context.ports;
    const hit = decision === 'confirmed' ? await decisions.confirmHit(id, actor, reason) : await decisions.dismissHit(id, actor, reason);
    context.logger.info({ hitId: id, decision, actor }, 'hit decided');
    return { hit: toHitView(hit) };
  });
}
