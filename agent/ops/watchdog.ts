// Pings systemd's watchdog (WatchdogSec= in the unit) while the agent is healthy, so systemd restarts
// an agent whose event loop or inference has stalled. Node cannot send to a Unix datagram socket, so
// each ping runs `systemd-notify WATCHDOG=1`; the unit needs NotifyAccess=all to accept it.
import { spawn } from 'node:child_process';
import type { Logger } from '../../src/common/log.js';

export interface WatchdogOptions {
  logger: Logger;
  /** Returns false to withhold the ping, for example when frames arrive but none is analysed. */
  healthy: () => boolean;
  env?: NodeJS.ProcessEnv;
  /** Sends one notification; runs systemd-notify by default. */
  notify?: (state: string) => void;
}

export interface Watchdog {
  intervalMs: number;
  stop(): void;
}

/** Pings per watchdog interval; several, because a ping sent by a short-lived helper can be lost. */
const PINGS_PER_INTERVAL = 4;

/** Starts pinging when systemd asked for a watchdog (WATCHDOG_USEC for this process); null otherwise. */
export function startSystemdWatchdog(options: WatchdogOptions): Watchdog | null {
  const env = options.env ?? process.env;
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.NOTIFY_SOCKET || !Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== process.pid) return null;

  const notify = options.notify ?? ((state: string) => runSystemdNotify(state, env, options.logger));
  const intervalMs = Math.max(100, Math.floor(usec / 1000 / PINGS_PER_INTERVAL));
  let withheld = false;
  const timer = setInterval(() => {
    if (options.healthy()) {
      if (withheld) options.logger.info('agent healthy again; watchdog pings resumed');
      withheld = false;
      notify('WATCHDOG=1');
    } else if (!withheld) {
      withheld = true;
      options.logger.error({ watchdogSec: usec / 1e6 }, 'agent unhealthy; watchdog pings withheld, so systemd restarts the agent unless it recovers');
    }
  }, intervalMs);
  options.logger.info({ watchdogSec: usec / 1e6, pingEveryMs: intervalMs }, 'systemd watchdog enabled');
  return { intervalMs, stop: () => clearInterval(timer) };
}

let notifyFailureLogged = false;

function runSystemdNotify(state: string, env: NodeJS.ProcessEnv, logger: Logger): void {
  const child = spawn('systemd-notify', [state], { stdio: 'ignore', env });
  child.once('error', (error) => {
    if (notifyFailureLogged) return;
    notifyFailureLogged = true;
    logger.error({ err: error.message }, 'systemd-notify could not run; the watchdog will restart the agent');
  });
}
