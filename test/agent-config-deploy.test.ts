// Deployment pieces: the systemd unit passes systemd-analyze and keeps its restart, watchdog and
// hardening settings, and the agent's watchdog pings reach a real notify socket through systemd-notify.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { startSystemdWatchdog } from '../agent/ops/watchdog.js';
import { projectRoot } from '../src/assets/paths.js';

const unitFile = path.join(projectRoot(), 'systemd', 'patrol-agent.service');

function directives(text: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match) found.set(match[1]!, [...(found.get(match[1]!) ?? []), match[2]!]);
  }
  return found;
}

test('systemd unit – restart, watchdog and hardening', (t) => {
  const unit = directives(readFileSync(unitFile, 'utf8'));
  const expected: Record<string, string> = {
    Restart: 'always',
    WatchdogSec: '60',
    NotifyAccess: 'all',
    KillMode: 'mixed',
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    PrivateDevices: 'yes',
    CapabilityBoundingSet: '',
  };
  for (const [key, value] of Object.entries(expected)) assert.deepEqual(unit.get(key), [value], key);
  // Shutdown needs up to 3 s for ffmpeg and 5 s for the outbox drain.
  assert.ok(Number(unit.get('TimeoutStopSec')?.[0]) >= 10, 'TimeoutStopSec leaves room for a clean stop');
  assert.ok(!readFileSync(unitFile, 'utf8').includes('password='), 'no secret in the unit');

  if (spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status !== 0) {
    t.diagnostic('systemd-analyze is missing; syntax not verified');
    return;
  }
  const verify = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
  const complaints = `${verify.stdout}${verify.stderr}`.split('\n').filter((line) => line.includes('patrol-agent.service') && !/Failed to .*(user|group|executable|path)/i.test(line));
  assert.deepEqual(complaints, [], 'systemd-analyze verify reports no problem with the unit');
});

test('watchdog – pings reach the notify socket while healthy', { timeout: 20_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'notify-'));
  const socketPath = path.join(dir, 'notify.sock');
  // Node cannot bind a Unix datagram socket, so Python receives for 1.5 s and prints what it got.
  const receiver = spawn('/usr/bin/python3', ['-c', `
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(${JSON.stringify(socketPath)})
print('ready', flush=True)
s.settimeout(0.1)
end = time.time() + 1.5
while time.time() < end:
    try:
        print(s.recv(256).decode(), flush=True)
    except socket.timeout:
        pass
`]);
  let output = '';
  receiver.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => receiver.once('exit', resolve));
  while (!output.includes('ready')) await new Promise((resolve) => setTimeout(resolve, 20));

  let healthy = true;
  const watchdog = startSystemdWatchdog({ logger: pino({ level: 'silent' }), healthy: () => healthy, env: { ...process.env, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '800000', WATCHDOG_PID: String(process.pid) } });
  assert.ok(watchdog !== null);
  assert.equal(watchdog.intervalMs, 200, 'four pings per watchdog interval');
  await new Promise((resolve) => setTimeout(resolve, 700));
  const whileHealthy = output.split('\n').filter((line) => line === 'WATCHDOG=1').length;
  healthy = false;
  await new Promise((resolve) => setTimeout(resolve, 300));
  const settled = output.split('\n').filter((line) => line === 'WATCHDOG=1').length;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const afterUnhealthy = output.split('\n').filter((line) => line === 'WATCHDOG=1').length;
  watchdog.stop();
  await exited;
  rmSync(dir, { recursive: true, force: true });

  assert.ok(whileHealthy >= 2, `pings while healthy: ${whileHealthy}`);
  assert.equal(afterUnhealthy, settled, 'no ping while unhealthy');
});

test('watchdog – off without systemd', () => {
  assert.equal(startSystemdWatchdog({ logger: pino({ level: 'silent' }), healthy: () => true, env: {} }), null);
  assert.equal(startSystemdWatchdog({ logger: pino({ level: 'silent' }), healthy: () => true, env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' } }), null, 'the watchdog belongs to another process');
});
