// CPU time of this process (all its threads) and of its running ffmpeg children, and of everything
// else on the machine, from /proc, for the agent bench. Linux only; children that exit during the
// window are not counted.
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

/** Busy ticks of the whole machine (every state but idle and iowait), from the first line of /proc/stat. */
function machineBusyTicks(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return user! + nice! + system! + irq! + softirq! + (steal ?? 0);
}

export class CpuMeter {
  private readonly startedMs = performance.now();
  private readonly selfTicks = processTicks('self')!.ticks;
  private readonly childTicks = ffmpegChildTicks();
  private readonly machineTicks = machineBusyTicks();

  /**
   * Returns the CPU used since construction as % of one core (200 % is two cores fully busy): by
   * this process and its ffmpeg children, and by every other process (other load that skews timings).
   */
  percentOfOneCore(): { agent: number; others: number } {
    const elapsedSec = (performance.now() - this.startedMs) / 1000;
    let ticks = processTicks('self')!.ticks - this.selfTicks;
    for (const [pid, now] of ffmpegChildTicks()) ticks += now - (this.childTicks.get(pid) ?? 0);
    const machine = machineBusyTicks() - this.machineTicks;
    const percent = (value: number) => (100 * value) / CLOCK_TICKS_PER_SEC / elapsedSec;
    return { agent: percent(ticks), others: percent(Math.max(0, machine - ticks)) };
  }
}
