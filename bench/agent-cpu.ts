// CPU time of this process (all its threads) and of its running ffmpeg children, from /proc, for
// the agent bench. Linux only; children that exit during the window are not counted.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SEC = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** utime + stime of one process, in clock ticks; fields 14 and 15 of /proc/PID/stat. */
function processTicks(pid: number | 'self'): { ticks: number; ppid: number; command: string } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command sits in parentheses and may contain spaces, so fields are counted after the last ')'.
  const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ticks: Number(fields[11]) + Number(fields[12]), ppid: Number(fields[1]), command };
}

function ffmpegChildTicks(): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = processTicks(Number(entry));
    if (child !== null && child.ppid === process.pid && child.command === 'ffmpeg') ticks.set(Number(entry), child.ticks);
  }
  return ticks;
}

export class CpuMeter {
  private readonly startedMs = performance.now();
  private readonly selfTicks = processTicks('self')!.ticks;
  private readonly childTicks = ffmpegChildTicks();

  /** CPU used since construction, as % of one core (200 % is two cores fully busy). */
  percentOfOneCore(): number {
    const elapsedSec = (performance.now() - this.startedMs) / 1000;
    let ticks = processTicks('self')!.ticks - this.selfTicks;
    for (const [pid, now] of ffmpegChildTicks()) ticks += now - (this.childTicks.get(pid) ?? 0);
    return (100 * ticks) / CLOCK_TICKS_PER_SEC / elapsedSec;
  }
}
