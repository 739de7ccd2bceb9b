// The command centre in a real browser (Debian chromium driven by playwright-core) against the whole
// central service on the real Mosquitto at 127.0.0.1:1883: a test car's event becomes a hit on the
// page, an operator confirms it, and the audit page shows a supervisor who did it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { hashPassword } from '../src/central/auth/password.js';
import { parseCentralConfig } from '../src/central/config.js';
import { startCentral, type RunningCentral } from '../src/central/start.js';
import { eventTopic } from '../src/protocol/topics.js';
import { PASSWORDS, plateEvent } from './support/web-harness.js';

const BROKER_URL = process.env.VA_TEST_BROKER_URL ?? 'mqtt://127.0.0.1:1883';
const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const HOT_PLATE = '川A8H458';
const UI_TIMEOUT_MS = 15_000;

const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const users = { operator: `op-${runId}`, supervisor: `sup-${runId}` };

let tempDir: string;
let central: RunningCentral;
let webUrl: string;
let browser: BrowserContext;
let car: MqttClient;

before(async () => {
  assert.ok(existsSync(CHROMIUM_PATH), `${CHROMIUM_PATH} is missing; install Debian's chromium package (scripts/setup.sh does)`);
  tempDir = mkdtempSync(path.join(tmpdir(), 'web-browser-'));
  const config = parseCentralConfig(
    {
      // Its own share group and a session that ends with the connection, so no other or earlier
      // central instance on this broker takes a share of the test's events.
      broker: { url: BROKER_URL, clientId: `central-web-${runId}`, protocolVersion: 5, shareGroup: `web-${runId}`, sessionExpirySec: 0 },
      database: path.join(tempDir, 'central.sqlite'),
      hotlist: [{ plate: HOT_PLATE, reason: 'stolen vehicle', priority: 1 }],
      http: { port: 0 },
      web: { enabled: true, port: 0, secureCookies: false },
    },
    tempDir,
  );
  central = await startCentral(config, { logger: pino({ level: 'silent' }), registry: new Registry() });
  assert.ok(central.webUrl, 'the command centre is enabled');
  webUrl = central.webUrl;
  for (const role of ['operator', 'supervisor'] as const) {
    await central.store.createUser({ username: users[role], role, passwordHash: await hashPassword(PASSWORDS[role]), disabled: false, createdAtMs: Date.now() });
  }

  browser = await chromium.launchPersistentContext(path.join(tempDir, 'chromium-profile'), {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 900 },
  });
  car = await mqtt.connectAsync(BROKER_URL, { protocolVersion: 5, clientId: `web-test-car-${runId}` });
});

after(async () => {
  await car?.endAsync();
  await browser?.close();
  await central?.stop();
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

async function openPage(): Promise<Page> {
  await browser.clearCookies();
  const page = await browser.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  await page.goto(webUrl);
  await page.waitForSelector('#view-login:not([hidden])');
  return page;
}

async function logIn(page: Page, username: string, password: string): Promise<void> {
  await page.fill('#login-form input[name=username]', username);
  await page.fill('#login-form input[name=password]', password);
  await page.click('#login-form button[type=submit]');
}

test('browser – wrong password rejected', async () => {
  const page = await openPage();
  await logIn(page, users.operator, 'not the right password');

  const message = page.locator('#message');
  await message.waitFor({ state: 'visible' });
  assert.equal(await message.textContent(), '用户名或密码错误。');
  assert.equal(await page.locator('#nav').isHidden(), true, 'no navigation without a session');
  assert.equal((await browser.cookies()).some((cookie) => cookie.name === 'patrol_session'), false);
  await page.close();
});

test('browser – live hit confirmed and audited', async () => {
  const page = await openPage();
  await logIn(page, users.operator, PASSWORDS.operator);
  await page.waitForSelector('#live-state[data-connected="true"]');

  const carId = `web-car-${runId}`;
  await car.publishAsync(eventTopic(carId), JSON.stringify(plateEvent(carId, 1, HOT_PLATE)), { qos: 1 });

  const row = page.locator(`li.hit[data-car-id="${carId}"][data-seq="1"]`);
  await row.waitFor();
  assert.equal(await row.locator('.subject').textContent(), HOT_PLATE);
  assert.match((await row.locator('.facts').textContent()) ?? '', new RegExp(carId));
  assert.match((await row.locator('.facts').textContent()) ?? '', /cam1-front/);
  assert.match((await row.locator('.facts').textContent()) ?? '', /30\.65731, 104\.06592/);
  const imageWidth = await row.locator('.evidence img').first().evaluate((image: HTMLImageElement) => image.naturalWidth);
  assert.equal(imageWidth, 48, 'the evidence JPEG decodes in the browser');

  // The same plate from the same car within the cooldown folds into the hit, and the page shows the count live.
  await car.publishAsync(eventTopic(carId), JSON.stringify(plateEvent(carId, 2, HOT_PLATE)), { qos: 1 });
  await page.waitForSelector(`li.hit[data-car-id="${carId}"][data-seq="1"][data-repeats="1"]`);
  assert.match((await row.locator('.facts').textContent()) ?? '', /再次出现1 次，最近一次/);
  assert.equal(await page.locator(`li.hit[data-car-id="${carId}"]`).count(), 1, 'a repeat adds no second hit');

  await row.locator('input[name=reason]').fill('目视核对车牌一致');
  await row.locator('button.confirm').click();
  await page.waitForSelector(`li.hit[data-car-id="${carId}"][data-status="confirmed"]`);
  const hitId = await row.getAttribute('data-hit-id');
  assert.ok(hitId);
  const stored = await central.store.getHit(hitId);
  assert.equal(stored?.decision?.decision, 'confirmed');
  assert.equal(stored?.decision?.decidedBy, users.operator);

  await page.click('#logout');
  await page.waitForSelector('#view-login:not([hidden])');
  await logIn(page, users.supervisor, PASSWORDS.supervisor);
  await page.waitForSelector('#nav:not([hidden])');
  await page.click('#nav a[data-view="audit"]');
  const auditRow = page.locator(`#audit-table tbody tr[data-action="hit.confirm"][data-target="${hitId}"]`);
  await auditRow.waitFor();
  assert.equal(await auditRow.getAttribute('data-actor'), users.operator);
  assert.match((await auditRow.textContent()) ?? '', /目视核对车牌一致/);
  assert.match((await auditRow.textContent()) ?? '', /确认报警/);
  await page.close();
});

test('browser – operator cannot open audit page', async () => {
  const page = await openPage();
  await logIn(page, users.operator, PASSWORDS.operator);
  await page.waitForSelector('#nav:not([hidden])');
  assert.equal(await page.locator('#nav a[data-view="audit"]').isHidden(), true, 'no audit link for operators');

  await page.goto(`${webUrl}/#audit`);
  await page.waitForSelector('#view-forbidden:not([hidden])');
  assert.equal(await page.locator('#view-audit').isHidden(), true);
  const status = await page.evaluate(async () => (await fetch('/api/audit')).status);
  assert.equal(status, 403, 'the API rejects it too');
  await page.close();
});

test('browser – Chinese page renders Chinese text', async () => {
  const page = await openPage();
  await logIn(page, users.operator, PASSWORDS.operator);
  await page.waitForSelector('#live-state[data-connected="true"]');

  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
  assert.equal(await page.locator('h1').textContent(), '巡逻车视频分析指挥中心');
  assert.equal(await page.locator('#nav a[data-view="live"]').textContent(), '实时报警');
  // Without a CJK font every character draws as the same empty box, so two different characters
  // rendering to different pixels shows real glyphs.
  // Passed as source text, because the test runner's transpiler would add helpers the page lacks.
  const glyphsDiffer = await page.evaluate(`(() => {
    const fontFamily = getComputedStyle(document.querySelector('h1')).fontFamily;
    const render = (text) => {
      const canvas = document.createElement('canvas');
      canvas.width = 64;
      canvas.height = 64;
      const context = canvas.getContext('2d');
      context.font = '48px ' + fontFamily;
      context.fillText(text, 4, 52);
      return canvas.toDataURL();
    };
    return render('巡') !== render('逻');
  })()`);
  assert.equal(glyphsDiffer, true, 'Chinese characters render as distinct glyphs');
  await page.screenshot({ path: '/tmp/web-browser-zh.png' });

  await page.selectOption('#language', 'en');
  await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Patrol Vision Command Centre');
  assert.equal(await page.locator('#nav a[data-view="live"]').textContent(), 'Live hits');
  await page.selectOption('#language', 'zh-CN');
  await page.close();
});
