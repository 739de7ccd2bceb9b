// Measurements for the benchmark: exact plate reads against the labelled fixture photos, and
// per-model inference latency. Both run the real cascade and print nothing.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Cascade } from './cascade.js';
import { decodeImageFile, type RgbImage } from './image.js';
import type { ModelName } from './session.js';
import { percentile } from '../common/stats.js';

export interface PhotoPlateResult {
  file: string;
  /** Labels read by eye, where `?` marks a character that cannot be read. */
  labels: string[];
  /** Texts of the plates the cascade reported. */
  reads: string[];
  /** Fully legible labels (no `?`) that were read exactly. */
  exact: string[];
  /** Fully legible labels that were not read exactly. */
  missed: string[];
  rejectedReads: number;
}

export interface PlateAccuracy {
  photos: PhotoPlateResult[];
  legiblePlates: number;
  exactReads: number;
  /** Plates reported on photos labelled as having no legible plate. */
  platesOnPlateFreePhotos: number;
}

/**
 * Reads every photo listed in `labels.json` (in `fixturesDir/plates` or `fixturesDir` itself) and
 * counts the fully legible labels that the cascade read exactly.
 */
export async function measurePlateAccuracy(cascade: Cascade, fixturesDir: string): Promise<PlateAccuracy> {
  const platesDir = existsSync(path.join(fixturesDir, 'plates', 'labels.json')) ? path.join(fixturesDir, 'plates') : fixturesDir;
  const labelsByFile = JSON.parse(await readFile(path.join(platesDir, 'labels.json'), 'utf8')) as Record<string, string[]>;

  const photos: PhotoPlateResult[] = [];
  for (const [file, labels] of Object.entries(labelsByFile)) {
    const image = await decodeImageFile(path.join(platesDir, file));
    const analysis = await cascade.analyze(image, { objects: false, plates: true, faces: false });
    const reads = analysis.plates.map((plate) => plate.text);
    const legible = labels.filter((label) => !label.includes('?'));
    photos.push({
      file,
      labels,
      reads,
      exact: legible.filter((label) => reads.includes(label)),
      missed: legible.filter((label) => !reads.includes(label)),
      rejectedReads: analysis.rejectedPlateReads,
    });
  }

  return {
    photos,
    legiblePlates: photos.reduce((sum, p) => sum + p.exact.length + p.missed.length, 0),
    exactReads: photos.reduce((sum, p) => sum + p.exact.length, 0),
    platesOnPlateFreePhotos: photos.filter((p) => p.labels.length === 0).reduce((sum, p) => sum + p.reads.length, 0),
  };
}

export interface ModelLatency {
  /** Number of runs measured. */
  runs: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Runs the whole cascade (with embeddings) `runs` times over `images` and returns the latency of
 * each model's session runs. The plate reader runs once per frame on all plates of the frame, the
 * embedder once per face. Load the cascade with `threads: 1` to measure the single-thread figure.
 */
export async function measureModelLatency(
  cascade: Cascade,
  images: readonly RgbImage[],
  runs: number,
): Promise<Partial<Record<ModelName, ModelLatency>>> {
  const durationsMs = new Map<ModelName, number[]>();
  const removeListener = cascade.addRunListener((model, durationMs) => {
    const list = durationsMs.get(model) ?? [];
    list.push(durationMs);
    durationsMs.set(model, list);
  });
  try {
    for (let run = 0; run < runs; run++) {
      for (const image of images) await cascade.analyze(image, { embed: true });
    }
  } finally {
    removeListener();
  }

  const latency: Partial<Record<ModelName, ModelLatency>> = {};
  for (const [model, list] of durationsMs) {
    latency[model] = { runs: list.length, p50Ms: percentile(list, 50), p99Ms: percentile(list, 99) };
  }
  return latency;
}
