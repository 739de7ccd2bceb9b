// The agent's fault figures: each fault scenario of bench/faults/scenarios.ts on three real RTSP
// cameras, the real models and a private Mosquitto, with events produced and received, recovery
// time and the other cameras' analysed frame rate. Runs alone with `npx tsx bench/agent-faults.ts`
// (about 4 minutes); needs VA_MODELS_DIR, VA_FIXTURES_DIR, ffmpeg, mosquitto and GStreamer's RTSP server.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultModelStore } from '../src/assets/paths.js';
import type { RigOptions } from './faults/rig.js';
import { agentKilledScenario, brokerStoppedScenario, cameraFrozenScenario, cameraKilledScenario, diskBudgetScenario, type FaultResult } from './faults/scenarios.js';

export interface FaultBenchOptions {
  modelsDir?: string;
  fixturesDir?: string;
  /** Broker outage of the broker scenario, ms. Default 60000. */
  brokerOutageMs?: number;
  print?: (line: string) => void;
}

/** Runs the five fault scenarios one after the other and prints one row per fault. */
export async function runFaultBench(options: FaultBenchOptions = {}): Promise<FaultResult[]> {
  const print = options.print ?? ((line: string) => console.log(line));
  const fixturesDir = options.fixturesDir ?? process.env.VA_FIXTURES_DIR;
  if (!fixturesDir) throw new Error('VA_FIXTURES_DIR is not set; point it at the folder with plates/');
  const rig: RigOptions = { modelsDir: options.modelsDir ?? process.env.VA_MODELS_DIR ?? defaultModelStore(), fixturesDir };

  print('## agent faults (3 RTSP cameras at 2 analysed fps, private Mosquitto)');
  print('| fault | produced | received | lost | duplicate deliveries | evicted events | evidence evicted | hits (with evidence) | detection ms | recovery ms | others fps before / during |');
  print('|---|---|---|---|---|---|---|---|---|---|---|');
  const scenarios: Array<() => Promise<FaultResult>> = [
    () => cameraKilledScenario(rig),
    () => cameraFrozenScenario(rig),
    () => brokerStoppedScenario(rig, options.brokerOutageMs ?? 60_000),
    () => agentKilledScenario(rig),
    () => diskBudgetScenario(rig),
  ];
  const results: FaultResult[] = [];
  for (const scenario of scenarios) {
    const result = await scenario();
    results.push(result);
    print(formatRow(result));
  }
  return results;
}

function formatRow(result: FaultResult): string {
  const cells = [
    result.fault,
    result.produced,
    result.received,
    result.lost,
    result.duplicatesDelivered,
    result.evictedEvents,
    result.evidenceEvicted,
    `${result.hitsReceived} (${result.hitsWithEvidence})`,
    result.detectionMs ?? 'n/a',
    result.recoveryMs ?? 'n/a',
    `${result.othersFpsBefore} / ${result.othersFpsDuring}`,
  ];
  return `| ${cells.join(' | ')} |`;
}

if (path.resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  runFaultBench().then(
    () => process.exit(0),
    (error: Error) => {
      console.error(`fault bench failed: ${error.message}`);
      process.exit(1);
    },
  );
}
