// Administration of the plate hotlist and the face watchlist. The list administration writes every
// change to the audit log with the administrator's reason; enrolment photos arrive as base64 in JSON.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { RouteContext } from '../context.js';
import { parseInput, WebError } from '../errors.js';
import { currentUser, requirePermission } from '../guard.js';
import type { ListAdmin } from '../ports.js';

/** Enrolment photos per request and their decoded size; a few phone photos fit comfortably. */
export const MAX_ENROL_PHOTOS = 5;
export const MAX_ENROL_PHOTO_BYTES = 4 * 1024 * 1024;
/** Body limit of the enrolment route: base64 grows the photos by a third. */
const ENROL_BODY_LIMIT_BYTES = Math.ceil((MAX_ENROL_PHOTOS * MAX_ENROL_PHOTO_BYTES * 4) / 3) + 64 * 1024;
const IMPORT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

const changeReason = z.string().trim().min(1, 'should say why').max(500);
const plate = z.string().trim().min(1).max(32);
const subjectId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'should be 1-64 letters, digits, _ or -');

const HotlistEntrySchema = z.strictObject({
  plate,
  reason: z.string().trim().min(1).max(200),
  priority: z.number().int().min(1).max(5),
  expiresAtMs: z.number().int().min(0).nullable().default(null),
  changeReason,
});
const HotlistRemoveSchema = z.strictObject({ plate, changeReason });
const HotlistImportSchema = z.strictObject({ csv: z.string().min(1).max(IMPORT_BODY_LIMIT_BYTES), changeReason });
const EnrolSchema = z.strictObject({
  subjectId,
  label: z.string().trim().min(1).max(200),
  photosBase64: z.array(z.string().min(1).max(Math.ceil((MAX_ENROL_PHOTO_BYTES * 4) / 3) + 4)).min(1).max(MAX_ENROL_PHOTOS),
  changeReason,
});
const SubjectRemoveSchema = z.strictObject({ subjectId, changeReason });

export function registerListRoutes(app: FastifyInstance, context: RouteContext): void {
  const guard = requirePermission(context.sessions, 'lists.manage');
  const lists = (): ListAdmin => {
    if (context.ports.lists === undefined) throw new WebError('LISTS_UNAVAILABLE', 501, 'this service was started without list administration');
    return context.ports.lists;
  };

  app.get('/api/hotlist', { preHandler: guard }, async () => ({ entries: await lists().listHotlist() }));

  app.post('/api/hotlist', { preHandler: guard }, async (request) => {
    const by = currentUser(request).session.username;
    const { changeReason, ...entry } = parseInput(HotlistEntrySchema, request.body, 'hotlist entry');
    await lists().upsertHotlistEntry(entry, { by, reason: changeReason });
    return { ok: true };
  });

  app.post('/api/hotlist/remove', { preHandler: guard }, async (request) => {
    const by = currentUser(request).session.username;
    const body = parseInput(HotlistRemoveSchema, request.body, 'hotlist removal');
    await lists().removeHotlistEntry(body.plate, { by, reason: body.changeReason });
    return { ok: true };
  });

  app.post('/api/hotlist/import', { preHandler: guard, bodyLimit: IMPORT_BODY_LIMIT_BYTES + 64 * 1024 }, async (request) => {
    const by = currentUser(request).session.username;
    const body = parseInput(HotlistImportSchema, request.body, 'hotlist import');
    const report = await lists().importHotlistCsv(body.csv, { by, reason: body.changeReason });
    return { report };
  });

  app.get('/api/watchlist', { preHandler: guard }, async () => ({ subjects: await lists().listWatchlist() }));

  app.post('/api/watchlist/enrol', { preHandler: guard, bodyLimit: ENROL_BODY_LIMIT_BYTES }, async (request) => {
    const by = currentUser(request).session.username;
    const body = parseInput(EnrolSchema, request.body, 'enrolment');
    const photos = body.photosBase64.map((text) => Buffer.from(text, 'base64'));
    return lists().enrolSubject({ subjectId: body.subjectId, label: body.label, photos }, { by, reason: body.changeReason });
  });

  app.post('/api/watchlist/remove', { preHandler: guard }, async (request) => {
    const by = currentUser(request).session.username;
    const body = parseInput(SubjectRemoveSchema, request.body, 'watchlist removal');
    await lists().removeSubject(body.subjectId, { by, reason: body.changeReason });
    return { ok: true };
  });
}
