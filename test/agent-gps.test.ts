// Position from gpsd: gpsfake (Debian gpsd-clients) replays an NMEA log generated here, through a
// real gpsd on a free loopback port, to the agent's gpsd client.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { GpsdClient } from '../agent/gps/gpsd-client.js';
import type { Position } from '../src/protocol/event.js';
import { freePort } from './support/mosquitto.js';

const silent = pino({ level: 'silent' });

function gpsfakeAvailable(): boolean {
  return spawnSync('gpsfake', ['-h'], { stdio: 'ignore' }).status === 0;
}

/** NMEA 0183 checksum: XOR of the characters between '$' and '*'. */
function sentence(body: string): string {
  let checksum = 0;
  for (const char of body) checksum ^= char.charCodeAt(0);
  return `$${body}*${checksum.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** GGA and RMC pairs: `fixes` seconds with a fix moving north, then `lost` seconds without one. */
function nmeaLog(fixes: number, lost: number): string {
  const lines: string[] = [];
  for (let second = 0; second < fixes + lost; second++) {
    const time = `1200${String(second).padStart(2, '0')}.00`;
    const latitude = `3114.${String(100 + second * 10).padStart(4, '0')}`;
    if (second < fixes) {
      lines.push(sentence(`GPGGA,${time},${latitude},N,12128.5000,E,1,08,0.9,10.0,M,0.0,M,,`));
      lines.push(sentence(`GPRMC,${time},A,${latitude},N,12128.5000,E,0.5,54.7,040626,,,A`));
    } else {
      lines.push(sentence(`GPGGA,${time},,,,,0,00,99.9,,M,,M,,`));
      lines.push(sentence(`GPRMC,${time},V,,,,,,,040626,,,N`));
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

test('gpsd client – fix from gpsfake, then no fix', { timeout: 60_000 }, async (t) => {
  if (!gpsfakeAvailable()) {
    if (process.env.VA_REQUIRE_ASSETS === '1') assert.fail('gpsfake is missing; run scripts/setup.sh (Debian gpsd and gpsd-clients)');
    t.skip('gpsfake is missing (Debian gpsd-clients)');
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'gps-test-'));
  const logFile = path.join(dir, 'drive.nmea');
  writeFileSync(logFile, nmeaLog(12, 12));
  const port = await freePort();
  // -1: replay once; -c: seconds between sentences. gpsfake waits for the first client before replaying.
  const fake = spawn('gpsfake', ['-1', '-q', '-P', String(port), '-c', '0.1', logFile], { stdio: 'ignore' });
  const fakeExited = new Promise((resolve) => fake.once('exit', resolve));

  const changes: boolean[] = [];
  const client = new GpsdClient({ host: '127.0.0.1', port, maxFixAgeMs: 60_000, logger: silent, reconnect: { minMs: 100, maxMs: 200 }, onFixChange: (hasFix) => changes.push(hasFix) });
  client.start();
  try {
    const fixes: Position[] = [];
    const deadline = Date.now() + 30_000;
    let afterFix: Position | null | undefined;
    while (Date.now() < deadline) {
      const position = client.position();
      if (position !== null) fixes.push(position);
      else if (fixes.length > 0) {
        afterFix = position;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    assert.ok(fixes.length > 0, 'a fix arrived');
    const first = fixes[0]!;
    assert.ok(Math.abs(first.latitude - 31.2335) < 0.001, `latitude ${first.latitude}`);
    assert.ok(Math.abs(first.longitude - 121.475) < 0.0001, `longitude ${first.longitude}`);
    // gpsd estimates the error (eph) once it has seen both GGA and RMC, so the first fix may lack it.
    assert.ok(fixes.some((fix) => (fix.accuracyM ?? -1) > 0), 'accuracy from gpsd is reported');
    assert.ok(fixes.at(-1)!.latitude > first.latitude, 'the replayed drive moves north');
    assert.equal(afterFix, null, 'no-fix reports clear the position before it ages out');
    assert.deepEqual(changes, [true, false]);
  } finally {
    client.stop();
    fake.kill('SIGTERM');
    await fakeExited;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('gpsd client – fix goes stale when gpsd is silent', async () => {
  // A scripted gpsd: one TPV with a 3D fix after the WATCH command, then silence.
  const server = net.createServer((socket) => {
    socket.write('{"class":"VERSION","release":"3.22","proto_major":3,"proto_minor":14}\n');
    socket.once('data', () => socket.write('{"class":"TPV","mode":3,"lat":22.5,"lon":114.05,"epx":4.2,"epy":6.1}\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  let nowMs = 1_000_000;
  const client = new GpsdClient({ host: '127.0.0.1', port, maxFixAgeMs: 1000, logger: silent, nowMs: () => nowMs });
  client.start();
  try {
    const deadline = Date.now() + 5000;
    while (client.position() === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(client.position(), { latitude: 22.5, longitude: 114.05, fixAtMs: 1_000_000, accuracyM: 6.1 }, 'without eph the larger of epx and epy is the accuracy');
    assert.equal(client.positionAt(999_999), null, 'no report before the fix');
    assert.equal(client.positionAt(1_000_500)?.latitude, 22.5, 'a frame read after the fix gets it');
    assert.equal(client.positionAt(1_001_001), null, 'a frame read after the fix aged out does not');
    nowMs += 1000;
    assert.notEqual(client.position(), null, 'a fix exactly maxFixAgeMs old still counts');
    nowMs += 1;
    assert.equal(client.position(), null, 'an older fix does not');
  } finally {
    client.stop();
    server.close();
  }
});

test('gpsd client – no gpsd gives null', async () => {
  const port = await freePort();
  const client = new GpsdClient({ host: '127.0.0.1', port, maxFixAgeMs: 1000, logger: silent, reconnect: { minMs: 50, maxMs: 100 } });
  client.start();
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(client.position(), null);
  client.stop();
});
