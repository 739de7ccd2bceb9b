// Helpers for the command-centre tests: a fastify app with the command centre on 127.0.0.1, users
// with real scrypt hashes, and event builders that produce hits against a real store.
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import sharp from 'sharp';
import { hashPassword } from '../../src/central/auth/password.js';
import type { Role } from '../../src/central/auth/roles.js';
import type { HitCandidate } from '../../src/central/hit.js';
import type { CentralStore } from '../../src/central/store/store.js';
import type { CommandCentrePorts } from '../../src/central/web/ports.js';
import { registerCommandCentre, type CommandCentre } from '../../src/central/web/register.js';
import type { PlateEvent } from '../../src/protocol/event.js';

export const PASSWORDS: Readonly<Record<Role, string>> = {
  operator: 'operator password 1',
  supervisor: 'supervisor password 2',
  administrator: 'administrator password 3',
};

export interface RunningCommandCentre {
  app: FastifyInstance;
  centre: CommandCentre;
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
}

/** Starts a fastify app with only the command centre, on a free loopback port. */
export async function startCommandCentre(ports: CommandCentrePorts, clock?: () => number): Promise<RunningCommandCentre> {
  const app = Fastify({ logger: false });
  const centre = await registerCommandCentre(app, { ports, logger: pino({ level: 'silent' }), secureCookies: false, ...(clock === undefined ? {} : { clock }) });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, centre, url };
}

/** Creates one user per role, named after the role plus a suffix, with the passwords above. */
export async function createUsers(store: Pick<CentralStore, 'createUser'>, suffix = ''): Promise<Record<Role, string>> {
  const names = { operator: `op${suffix}`, supervisor: `sup${suffix}`, administrator: `admin${suffix}` };
  for (const role of ['operator', 'supervisor', 'administrator'] as const) {
    await store.createUser({ username: names[role], role, passwordHash: await hashPassword(PASSWORDS[role]), disabled: false, createdAtMs: Date.now() });
  }
  return names;
}

export const evidenceJpegBase64 = (await sharp({ create: { width: 48, height: 16, channels: 3, background: '#2050c0' } }).jpeg().toBuffer()).toString('base64');

export function plateEvent(carId: string, seq: number, text: string, nowMs = Date.now()): PlateEvent {
  return {
    v: 1,
    kind: 'plate',
    carId,
    seq,
    cameraId: 'cam1-front',
    frameReceivedAtMs: nowMs - 300,
    analysedAtMs: nowMs - 150,
    committedAtMs: nowMs - 140,
    clockOffsetMs: 0,
    stages: { queueMs: 10, inferenceMs: 90 },
    evidence: [{ kind: 'plate-crop', jpegBase64: evidenceJpegBase64 }],
    position: { latitude: 30.65731, longitude: 104.06592 },
    plate: {
      text,
      format: 'standard',
      color: 'blue',
      rows: 1,
      confidence: 0.95,
      box: [100, 200, 240, 245],
      corners: [[100, 200], [240, 202], [240, 245], [100, 243]],
    },
  };
}

export function plateCandidate(plate: string, reason = 'stolen vehicle'): HitCandidate {
  return { kind: 'plate', matchKey: `plate:${plate}`, matched: { plate, readPlate: plate, reason, priority: 1 }, matchKind: 'exact', score: 1 };
}
