// Benchmark section: the demo's frame-to-hit latency split into stages. Every plate in the clips
// is put on the hotlist, so each camera gives a sample: the first hit of its vehicle or person.
// Later events of the same track fold into that hit, as they do for an operator.
import path from 'node:path';
import { pino } from 'pino';
import { projectRoot } from '../src/assets/paths.js';
import { summarize } from '../src/common/stats.js';
import { loadDemoConfig } from '../src/demo/config.js';
import { compareHits, LATENCY_STAGES } from '../src/demo/report.js';
import { runDemo } from '../src/demo/run.js';
import { measureFfmpegLatency } from './ffmpeg-latency.js';

/** The plate each drive-by clip of config/demo.json shows, read by eye from its photo. */
const CLIP_PLATES: Record<string, string> = {
  'plates/Quicker_20220930_180856.png': '川A8H458',
  'plates/double_yellow.jpg': '京EA5331',
  'plates/single_yellow.jpg': '皖K66666',
  'plates/xue.jpg': '琼A6716学',
  'plates/shi_lin_guan.jpg': '沪A1707领',
  'plates/h-19.jpg': '闽EVL838',
  'plates/Quicker_20220930_180919.png': '粤NBM959',
};

export async function benchDemoLatency(brokerUrl: string | undefined, print: (line: string) => void): Promise<void> {
  const demo = loadDemoConfig(path.join(projectRoot(), 'config', 'demo.json'));
  const plates = demo.cameras.flatMap((camera) => (camera.photo && CLIP_PLATES[camera.photo] ? [CLIP_PLATES[camera.photo]!] : []));
  const config = {
    ...demo,
    hotlist: plates.map((plate) => ({ plate, reason: 'bench', priority: 3 })),
    expectedHits: [...plates.map((plate) => `plate:${plate}`), ...demo.watchlist.map((subject) => `face:${subject.subjectId}`)],
  };
  const report = await runDemo({
    config,
    workDir: projectRoot(),
    once: true,
    brokerUrl,
    logger: pino({ level: 'warn' }, pino.destination(2)),
    onHit: () => {},
    onProgress: () => {},
  });
  const comparison = compareHits(report);
  print(
    `demo: ${config.cameras.length} cameras at ${config.analysisFps} fps analysis, broker ${brokerUrl ?? 'embedded'}; ${report.events.committed} events; ` +
      `${report.hits.length} first hits of ${config.expectedHits.length} hotlisted plates and watchlisted subjects` +
      (comparison.missing.length ? `; not seen: ${comparison.missing.join(', ')}` : ''),
  );

  const clipsDir = path.join(projectRoot(), 'var', 'demo', 'clips');
  const ffmpeg720 = await measureFfmpegLatency({ clipPath: path.join(clipsDir, 'cam1-front.h264'), clipFps: 25, width: 1280, height: 720, frames: 150 });
  const ffmpeg360 = await measureFfmpegLatency({ clipPath: path.join(clipsDir, 'cam8-rear-right.h264'), clipFps: 25, width: 640, height: 360, frames: 150 });
  print('frame-to-hit latency by stage (ms):');
  print(`  ${'ffmpeg 720p'.padEnd(14)} p50 ${fmt(ffmpeg720.steady.p50)}  p99 ${fmt(ffmpeg720.steady.p99)}  (decode, select, scale, RGB; separate probe, ${ffmpeg720.steady.count} frames)`);
  print(`  ${'ffmpeg 360p'.padEnd(14)} p50 ${fmt(ffmpeg360.steady.p50)}  p99 ${fmt(ffmpeg360.steady.p99)}  (same, from 640x360 clip)`);
  for (const stage of LATENCY_STAGES) {
    const figures = summarize(report.hits.map((hit) => hit.latency[stage]));
    print(`  ${stage.replace(/Ms$/, '').padEnd(14)} p50 ${fmt(figures.p50)}  p99 ${fmt(figures.p99)}  (${figures.count} hits)`);
  }
}

function fmt(value: number): string {
  return value.toFixed(1).padStart(7);
}
