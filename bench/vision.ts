// Benchmark section: plate accuracy on the labelled photos and single-image latency per model.
import path from 'node:path';
import { pino } from 'pino';
import { Cascade } from '../src/vision/cascade.js';
import { decodeImageFile } from '../src/vision/image.js';
import { measureModelLatency, measurePlateAccuracy } from '../src/vision/accuracy.js';

/** Photos with plates, faces and people, so every model runs in the latency loop. */
const LATENCY_PHOTOS = ['plates/single_blue.jpg', 'plates/double_yellow.jpg', 'faces/group-two.jpg', 'faces/subject-a-enrol.png'];

export async function benchVision(modelsDir: string, fixturesDir: string, print: (line: string) => void): Promise<void> {
  // One intra-op thread: the figure the agent gets per frame when the other core serves ffmpeg.
  const cascade = await Cascade.load(modelsDir, { threads: 1, logger: pino({ level: 'warn' }, pino.destination(2)) });
  try {
    const accuracy = await measurePlateAccuracy(cascade, fixturesDir);
    print(`plate accuracy: ${accuracy.exactReads} of ${accuracy.legiblePlates} fully legible plates read exactly; ${accuracy.platesOnPlateFreePhotos} plates reported on plate-free photos`);
    for (const photo of accuracy.photos.filter((p) => p.missed.length > 0)) {
      print(`  missed on ${photo.file}: ${photo.missed.length} plate(s)`);
    }

    const images = await Promise.all(LATENCY_PHOTOS.map((file) => decodeImageFile(path.join(fixturesDir, file))));
    await measureModelLatency(cascade, images, 2); // warm-up
    const latency = await measureModelLatency(cascade, images, 10);
    print('model latency, one thread (ms):');
    for (const [model, figures] of Object.entries(latency)) {
      print(`  ${model.padEnd(16)} p50 ${figures.p50Ms.toFixed(1).padStart(6)}  p99 ${figures.p99Ms.toFixed(1).padStart(6)}  (${figures.runs} runs)`);
    }
  } finally {
    await cascade.close();
  }
}
