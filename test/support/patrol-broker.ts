// The sample broker setup of deploy/mosquitto on a private Mosquitto: the shipped mosquitto.conf with
// its TLS listener moved to a free loopback port, certificates made by make-certs.sh (openssl) and
// the shipped patrol.acl. Tests connect with client certificates, whose common names are the MQTT
// usernames the ACL checks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IClientOptions } from 'mqtt';
import { projectRoot } from '../../src/assets/paths.js';
import { startMosquitto, type RunningMosquitto } from './mosquitto.js';

export const deployDir = path.join(projectRoot(), 'deploy', 'mosquitto');

export interface PatrolBroker {
  mosquitto: RunningMosquitto;
  /** mqtts://127.0.0.1:PORT */
  url: string;
  /** Temp folder holding the broker's config, the ACL and the certificates; dispose() removes it. */
  dir: string;
  /** Folder with ca.crt and NAME.crt / NAME.key for every client name given at start. */
  certs: string;
  /** Options for mqtt.connect with the client certificate `name` from certDir (default: certs). */
  tlsOptions(name: string, certDir?: string): IClientOptions;
  dispose(): Promise<void>;
}

/** Runs make-certs.sh: a new CA in outDir, a broker certificate for 127.0.0.1 and one client certificate per name. */
export function makeCerts(outDir: string, clientNames: string[]): void {
  const script = spawnSync('bash', [path.join(deployDir, 'make-certs.sh'), outDir, '127.0.0.1', ...clientNames], { encoding: 'utf8' });
  assert.equal(script.status, 0, script.stderr);
}

/** Starts the shipped broker config with client certificates for `clientNames`. */
export async function startPatrolBroker(clientNames: string[]): Promise<PatrolBroker> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mqtt-tls-'));
  const certs = path.join(dir, 'certs');
  try {
    makeCerts(certs, clientNames);
    writeFileSync(path.join(dir, 'patrol.acl'), readFileSync(path.join(deployDir, 'patrol.acl')));
    const mosquitto = await startMosquitto({ dir, config: (port) => sampleConfig(port, dir, certs) });
    return {
      mosquitto,
      url: `mqtts://127.0.0.1:${mosquitto.port}`,
      dir,
      certs,
      tlsOptions: (name, certDir = certs) => ({
        protocolVersion: 5,
        ca: readFileSync(path.join(certs, 'ca.crt')),
        cert: readFileSync(path.join(certDir, `${name}.crt`)),
        key: readFileSync(path.join(certDir, `${name}.key`)),
        rejectUnauthorized: true,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      }),
      dispose: async () => {
        await mosquitto.dispose();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Returns the shipped mosquitto.conf with its paths moved into `dir` and its listener on `port`. */
function sampleConfig(port: number, dir: string, certs: string): string[] {
  return readFileSync(path.join(deployDir, 'mosquitto.conf'), 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('persistence_location'))
    .map((line) =>
      line
        .replaceAll('/etc/mosquitto/certs/', `${certs}/`)
        .replace('/etc/mosquitto/patrol.acl', path.join(dir, 'patrol.acl'))
        .replace(/^listener 8883$/, `listener ${port} 127.0.0.1`),
    );
}
