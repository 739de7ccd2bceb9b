// The demo's outcome: which hits arrived, whether they are exactly the expected ones, and the
// frame-to-hit latency split into stages. Operator-facing words are given in Chinese and English.
import type { Hit } from '../central/hit.js';
import { summarize, type Summary } from '../common/stats.js';

export interface DemoReport {
  hits: Hit[];
  expected: string[];
  /** Events committed on the car, receipted by the central service, and stored centrally for the first time. */
  events: { committed: number; confirmed: number; ingested: number };
  /** Hits the car raised itself against its signed lists (sent ahead of the sighting). */
  carHits: number;
  framesByCamera: Record<string, number>;
}

/** Returns the key a hit is compared by: "plate:TEXT" or "face:SUBJECT_ID". */
export function hitKey(hit: Hit): string {
  return hit.kind === 'plate' ? `plate:${hit.matched.plate}` : `face:${hit.matched.subjectId}`;
}

export interface HitComparison {
  missing: string[];
  unexpected: string[];
  ok: boolean;
}

/** Compares the distinct hits of a run with the expected set. */
export function compareHits(report: DemoReport): HitComparison {
  const seen = new Set(report.hits.map(hitKey));
  const missing = report.expected.filter((key) => !seen.has(key));
  const unexpected = [...seen].filter((key) => !report.expected.includes(key));
  return { missing, unexpected, ok: missing.length === 0 && unexpected.length === 0 };
}

/** Formats the line printed for a hit when it arrives. */
export function formatHit(hit: Hit): string {
  const what =
    hit.kind === 'plate'
      ? `车牌 plate ${hit.matched.plate} (${hit.matched.reason ?? ''}, priority ${hit.matched.priority ?? '-'})`
      : `人脸 face ${hit.matched.label ?? hit.matched.subjectId} (cosine ${hit.score.toFixed(2)})`;
  return `命中 HIT  ${what}  car ${hit.carId}  camera ${hit.cameraId}  frame→hit ${Math.round(hit.latency.frameToHitMs)} ms`;
}

export const LATENCY_STAGES = ['queueMs', 'inferenceMs', 'outboxMs', 'uplinkMs', 'centralMs', 'frameToHitMs'] as const;

/** Latency summaries per stage over the given hits. */
export function latencyByStage(hits: readonly Hit[]): Record<(typeof LATENCY_STAGES)[number], Summary> {
  const entries = LATENCY_STAGES.map((stage) => [stage, summarize(hits.map((hit) => hit.latency[stage]))] as const);
  return Object.fromEntries(entries) as Record<(typeof LATENCY_STAGES)[number], Summary>;
}

/** Formats the closing summary printed after a `--once` run. */
export function formatSummary(report: DemoReport): string[] {
  const comparison = compareHits(report);
  const lines = [
    '',
    '总结 Summary',
    `  events: ${report.events.committed} committed on the car, ${report.events.confirmed} receipted by the central service, ${report.events.ingested} stored centrally`,
    `  hits raised on the car against its signed lists: ${report.carHits}`,
    `  frames per camera: ${Object.entries(report.framesByCamera).map(([id, n]) => `${id}=${n}`).join(' ')}`,
    `  distinct hits: ${[...new Set(report.hits.map(hitKey))].join(', ') || 'none'}`,
    `  expected hits: ${report.expected.join(', ')}`,
  ];
  if (report.hits.length > 0) {
    const stages = latencyByStage(report.hits);
    lines.push('  latency of hits (ms):  ' + LATENCY_STAGES.map((stage) => `${stage.replace(/Ms$/, '')} p50 ${fmt(stages[stage].p50)} p99 ${fmt(stages[stage].p99)}`).join(' | '));
  }
  if (comparison.missing.length) lines.push(`  缺少 MISSING: ${comparison.missing.join(', ')}`);
  if (comparison.unexpected.length) lines.push(`  意外 UNEXPECTED: ${comparison.unexpected.join(', ')}`);
  lines.push(comparison.ok ? '  结果 RESULT: 通过 PASS, exactly the expected hits' : '  结果 RESULT: 失败 FAIL, hits differ from the expected set');
  return lines;
}

function fmt(value: number): string {
  return Number.isFinite(value) ? value.toFixed(0) : '-';
}
