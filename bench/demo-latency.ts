// Benchmark section: the demo's frame-to-hit latency split into stages. The central cooldown is
// 0 here, so every event that matches the hotlist or watchlist is a hit and a latency sample.
import path from 'node:path';
import { pino } from 'pino';
import { projectRoot } from '../src/assets/paths.js';
import { summarize } from '../src/common/stats.js';
import { loadDemoConfig } from '../src/demo/config.js';
import { compareHits, LATENCY_STAGES } from '../src/demo/report.js';
import { runDemo } from '../src/demo/run.js';
import { measureFfmpegLatency } from './ffmpeg-latency.js';

export async function benchDemoLatency(brokerUrl: string | undefined, print: (line: string) => void): Promise<void> {
  const config = loadDemoConfig(path.join(projectRoot(), 'config', 'demo.json'));
  const report = await runDemo({
    config,
    workDir: projectRoot(),
    once: true,
    brokerUrl,
    logger: pino({ level: 'warn' }, pino.destination(2)),
    onHit: () => {},
    onProgress: () => {},
    hitCooldownMs: 0,
  });
  const comparison = compareHits(report);
  print(`demo: ${config.cameras.length} cameras at ${config.analysisFps} fps analysis, broker ${brokerUrl ?? 'embedded'}; ${report.events.acked} events, ${report.hits.length} hit samples; expected hits ${comparison.ok ? 'all present, no others' : 'DIFFER'}`);

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
