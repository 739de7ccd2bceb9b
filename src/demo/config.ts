// The demo's bundled configuration (config/demo.json): which fixture becomes which camera, the
// hotlist and watchlist, and the hits a correct run must produce.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const DemoCameraSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    /** A still photo (relative to the media folder) turned into a drive-by clip. */
    photo: z.string().optional(),
    /** A video (relative to the media folder) cut to the clip length. */
    video: z.string().optional(),
    analyses: z.array(z.enum(['plates', 'faces'])).min(1),
  })
  .refine((camera) => (camera.photo === undefined) !== (camera.video === undefined), {
    message: 'each camera should name exactly one of "photo" or "video"',
  });

export const DemoConfigSchema = z.strictObject({
  carId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  clipSeconds: z.number().min(2).max(120),
  analysisFps: z.number().positive().max(30),
  cameras: z.array(DemoCameraSchema).min(1).max(32),
  /** Priority 1 is the most urgent, as in the central service's hotlist. */
  hotlist: z.array(z.strictObject({ plate: z.string().min(2), reason: z.string().min(1), priority: z.number().int().min(1).max(5) })),
  watchlist: z.array(z.strictObject({ subjectId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), label: z.string().min(1), photos: z.array(z.string()).min(1) })),
  faceThreshold: z.number().min(-1).max(1),
  /** Hits a correct run produces, as "plate:TEXT" or "face:SUBJECT_ID". */
  expectedHits: z.array(z.string().regex(/^(plate|face):.+$/)),
});

export type DemoConfig = z.infer<typeof DemoConfigSchema>;
export type DemoCamera = DemoConfig['cameras'][number];

export function loadDemoConfig(file: string): DemoConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read demo config ${file}: ${(error as Error).message}`);
  }
  const parsed = DemoConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`invalid demo config ${file}:\n${problems.join('\n')}`);
  }
  return parsed.data;
}
