// Browser script of the command centre: login, live hits over WebSocket, decisions, fleet status,
// search, audit log, users and lists. It is a plain ES module without a build step. All
// operator-facing text comes from the chosen language's message catalogue, and data goes in as text only.

const LANGUAGE_KEY = 'patrol.language';
const DEFAULT_LANGUAGE = 'zh-CN';
const FLEET_REFRESH_MS = 5000;
const RECONNECT_MAX_MS = 10000;
/** Hits kept on the live view; older ones drop off the end and stay searchable. */
const MAX_HITS_SHOWN = 200;
const ROLES = ['operator', 'supervisor', 'administrator'];
/** Permission each view needs; the server enforces the same on every API route. */
const VIEW_PERMISSION = {
  live: 'hits.view',
  fleet: 'hits.view',
  search: 'events.search',
  audit: 'audit.view',
  users: 'users.manage',
  lists: 'lists.manage',
};

const state = {
  language: DEFAULT_LANGUAGE,
  messages: {},
  session: null,
  /** Hits by id, newest first in `hitOrder`. */
  hits: new Map(),
  hitOrder: [],
  socket: null,
  reconnectDelayMs: 500,
  fleetTimer: null,
  auditOldestId: null,
};

const $ = (selector) => document.querySelector(selector);

// ---- messages ----

/** Returns the message for key with {name} placeholders filled, or `fallback` (default: the key) when it has none. */
function t(key, values = {}, fallback = key) {
  const template = state.messages[key] ?? fallback;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

async function loadLanguage(language) {
  const response = await fetch(`/i18n/${encodeURIComponent(language)}.json`);
  if (!response.ok) throw new Error(`messages for ${language} could not be loaded`);
  state.messages = await response.json();
  state.language = language;
  document.documentElement.lang = language;
  document.title = t('app.title');
  for (const element of document.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
  $('#language').value = language;
}

function formatTime(ms) {
  return new Intl.DateTimeFormat(state.language, { dateStyle: 'short', timeStyle: 'medium' }).format(new Date(ms));
}

function formatPosition(position) {
  if (position === null || position === undefined) return t('hit.noPosition');
  return `${position.latitude.toFixed(5)}, ${position.longitude.toFixed(5)}`;
}

function orUnknown(value) {
  return value === null || value === undefined ? t('fleet.unknown') : String(value);
}

// ---- API ----

class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && state.session !== null) headers['x-csrf-token'] = state.session.csrfToken;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError('network', 'network error', 0);
  }
  const payload = await response.json().catch(() => ({}));
  if (response.ok) return payload;
  const error = payload.error ?? { code: 'INTERNAL', message: `HTTP ${response.status}` };
  throw new ApiError(error.code, error.message, response.status);
}

function showMessage(text, kind = 'error') {
  const element = $('#message');
  element.textContent = text;
  element.className = `message ${kind}`;
  element.hidden = false;
}

function clearMessage() {
  $('#message').hidden = true;
}

function showError(error) {
  if (error instanceof ApiError) {
    showMessage(t(`error.${error.code}`, { message: error.message }));
    if (error.code === 'UNAUTHENTICATED') endSession();
    return;
  }
  showMessage(String(error));
}

/** Runs an async UI action, showing its error instead of throwing. */
function guarded(action) {
  return async (event) => {
    event?.preventDefault?.();
    clearMessage();
    try {
      await action(event);
    } catch (error) {
      showError(error);
    }
  };
}

// ---- DOM helpers ----

function element(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.text !== undefined) node.textContent = options.text;
  if (options.className) node.className = options.className;
  for (const [name, value] of Object.entries(options.attrs ?? {})) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function tableRow(cells) {
  return element('tr', {}, cells.map((cell) => (cell instanceof Node ? element('td', {}, [cell]) : element('td', { text: String(cell) }))));
}

function fillTable(selector, rows) {
  $(`${selector} tbody`).replaceChildren(...rows);
}

function localInputToMs(value) {
  return value === '' ? undefined : new Date(value).getTime();
}

// ---- session and views ----

function can(permission) {
  return state.session !== null && state.session.permissions.includes(permission);
}

function showView(name) {
  for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== `view-${name}`;
  for (const link of document.querySelectorAll('#nav a')) link.classList.toggle('active', link.dataset.view === name);
}

async function route() {
  clearMessage();
  if (state.session === null) {
    showView('login');
    return;
  }
  const view = location.hash.replace('#', '') || 'live';
  const permission = VIEW_PERMISSION[view];
  if (permission === undefined || !can(permission)) {
    showView('forbidden');
    return;
  }
  showView(view);
  stopFleetRefresh();
  try {
    if (view === 'fleet') startFleetRefresh();
    if (view === 'audit') await loadAudit(true);
    if (view === 'users') await loadUsers();
    if (view === 'lists') await loadLists();
  } catch (error) {
    showError(error);
  }
}

function startSession(session) {
  state.session = session;
  $('#nav').hidden = false;
  $('#logout').hidden = false;
  for (const link of document.querySelectorAll('#nav a')) link.hidden = !can(VIEW_PERMISSION[link.dataset.view]);
  renderSignedIn();
  connectLive();
}

function renderSignedIn() {
  const signedIn = $('#signed-in');
  signedIn.hidden = state.session === null;
  if (state.session !== null) signedIn.textContent = t('user.signedInAs', { username: state.session.username, role: t(`role.${state.session.role}`) });
}

function endSession() {
  state.session = null;
  state.socket?.close();
  state.socket = null;
  state.hits.clear();
  state.hitOrder = [];
  renderHits();
  stopFleetRefresh();
  $('#nav').hidden = true;
  $('#logout').hidden = true;
  $('#live-state').hidden = true;
  renderSignedIn();
  showView('login');
}

async function login(event) {
  const form = event.target;
  const session = await api('POST', '/api/login', { username: form.username.value, password: form.password.value });
  form.reset();
  startSession(session);
  await route();
}

async function logout() {
  await api('POST', '/api/logout').catch(() => undefined);
  endSession();
}

// ---- live hits ----

function connectLive() {
  if (state.session === null || !can('hits.view')) return;
  const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(`${protocol}//${location.host}/api/live`);
  state.socket = socket;
  socket.addEventListener('open', () => {
    state.reconnectDelayMs = 500;
    setLiveState(true);
    // Loaded after the socket is open, so no hit falls between the list and the first live message.
    loadRecentHits().catch(showError);
  });
  socket.addEventListener('message', (event) => receiveLive(JSON.parse(event.data)));
  socket.addEventListener('close', (event) => {
    if (state.socket !== socket) return;
    setLiveState(false);
    if (event.code === 4401) {
      endSession();
      return;
    }
    setTimeout(connectLive, state.reconnectDelayMs);
    state.reconnectDelayMs = Math.min(state.reconnectDelayMs * 2, RECONNECT_MAX_MS);
  });
}

function setLiveState(connected) {
  const indicator = $('#live-state');
  indicator.hidden = false;
  indicator.dataset.connected = String(connected);
  indicator.textContent = t(connected ? 'live.connected' : 'live.disconnected');
}

async function loadRecentHits() {
  const { hits } = await api('GET', '/api/hits?limit=100');
  for (const hit of hits.reverse()) upsertHit(hit);
  renderHits();
}

function receiveLive(message) {
  if (message.type === 'repeat') {
    // A later match of the same entry from the same car: update the count on the hit shown.
    const hit = state.hits.get(message.repeat.hitId);
    if (hit === undefined) return;
    hit.repeatCount = message.repeat.repeatCount;
    hit.lastSeenAtMs = message.repeat.lastSeenAtMs;
    renderHits();
    return;
  }
  if (message.type !== 'hit' && message.type !== 'decision') return;
  upsertHit(message.hit);
  renderHits();
}

function upsertHit(hit) {
  if (!state.hits.has(hit.hitId)) state.hitOrder.unshift(hit.hitId);
  state.hits.set(hit.hitId, hit);
  while (state.hitOrder.length > MAX_HITS_SHOWN) state.hits.delete(state.hitOrder.pop());
}

function renderHits() {
  const list = $('#hits');
  const existing = new Map([...list.children].map((node) => [node.dataset.hitId, node]));
  const nodes = state.hitOrder.map((hitId) => {
    const hit = state.hits.get(hitId);
    const node = existing.get(hitId);
    const renderedKey = hit.decision === null ? 'open' : hit.decision.decision;
    const unchanged = node !== undefined && node.dataset.status === renderedKey && node.dataset.language === state.language && node.dataset.repeats === String(hit.repeatCount);
    if (unchanged) return node;
    return renderHit(hit);
  });
  list.replaceChildren(...nodes);
  $('#hits-empty').hidden = nodes.length > 0;
}

function renderHit(hit) {
  const status = hit.decision === null ? 'open' : hit.decision.decision;
  const item = element('li', { className: `hit hit-${hit.kind} status-${status}`, attrs: { 'data-hit-id': hit.hitId, 'data-car-id': hit.carId, 'data-seq': String(hit.seq), 'data-status': status, 'data-language': state.language, 'data-repeats': String(hit.repeatCount) } });
  const images = element('div', { className: 'evidence' }, hit.evidence.map((evidence) => {
    const image = element('img', { attrs: { alt: t('hit.evidence') } });
    image.src = `data:image/jpeg;base64,${evidence.jpegBase64}`;
    return image;
  }));
  item.append(images, renderHitFacts(hit, status), renderHitDecision(hit, status));
  return item;
}

function renderHitFacts(hit, status) {
  const subject = hit.kind === 'plate' ? hit.plate : `${hit.label ?? ''} (${hit.subjectId ?? ''})`;
  const facts = [
    [t('hit.score'), `${hit.score.toFixed(3)} · ${t(`hit.match.${hit.matchKind}`)}`],
    [t('hit.car'), hit.carId],
    [t('hit.camera'), hit.cameraId],
    [t('hit.position'), formatPosition(hit.position)],
    [t('hit.latency'), t('common.ms', { value: Math.round(hit.frameToHitMs) })],
    [t('hit.time'), formatTime(hit.hitAtMs)],
  ];
  if (hit.readPlate !== null && hit.readPlate !== hit.plate) facts.unshift([t('hit.readPlate'), hit.readPlate]);
  if (hit.repeatCount > 0) facts.push([t('hit.repeats'), t('hit.repeatsValue', { count: hit.repeatCount, time: formatTime(hit.lastSeenAtMs) })]);
  if (hit.listReason !== null) facts.unshift([t('hit.listReason'), hit.priority === null ? hit.listReason : `${hit.listReason} · ${t('hit.priority')} ${hit.priority}`]);
  const list = element('dl', {}, facts.flatMap(([name, value]) => [element('dt', { text: name }), element('dd', { text: value })]));
  const heading = element('h3', {}, [
    element('span', { className: 'kind', text: t(`hit.kind.${hit.kind}`) }),
    element('span', { className: 'subject', text: subject }),
    element('span', { className: 'status', text: t(`hit.status.${status}`) }),
  ]);
  return element('div', { className: 'facts' }, [heading, list]);
}

function renderHitDecision(hit, status) {
  if (status !== 'open') {
    const decision = hit.decision;
    const text = t('hit.decidedBy', { decision: t(`hit.status.${decision.decision}`), username: decision.decidedBy, time: formatTime(decision.decidedAtMs), reason: decision.reason });
    return element('p', { className: 'decided', text });
  }
  if (!can('hits.decide')) return element('div');
  const form = element('form', { className: 'decision' });
  const reason = element('input', { attrs: { name: 'reason', required: '', maxlength: '500', placeholder: t('hit.reasonPlaceholder'), 'aria-label': t('hit.reason') } });
  const confirm = element('button', { text: t('hit.confirm'), className: 'confirm', attrs: { type: 'submit', value: 'confirmed' } });
  const dismiss = element('button', { text: t('hit.dismiss'), className: 'dismiss', attrs: { type: 'submit', value: 'dismissed' } });
  form.append(reason, confirm, dismiss);
  form.addEventListener('submit', guarded(async (event) => {
    const decision = event.submitter?.value ?? 'confirmed';
    const { hit: updated } = await api('POST', `/api/hits/${encodeURIComponent(hit.hitId)}/decision`, { decision, reason: reason.value });
    upsertHit(updated);
    renderHits();
  }));
  return form;
}

// ---- fleet ----

function startFleetRefresh() {
  const refresh = () => loadFleet().catch(showError);
  refresh();
  state.fleetTimer = setInterval(refresh, FLEET_REFRESH_MS);
}

function stopFleetRefresh() {
  if (state.fleetTimer !== null) clearInterval(state.fleetTimer);
  state.fleetTimer = null;
}

async function loadFleet() {
  const { cars } = await api('GET', '/api/fleet');
  const online = cars.filter((car) => car.online).length;
  $('#fleet-summary').textContent = cars.length === 0 ? t('fleet.empty') : t('fleet.summary', { online, total: cars.length });
  fillTable('#fleet-table', cars.map((car) => {
    const row = tableRow([
      car.carId,
      t(car.online ? 'fleet.online' : 'fleet.offline'),
      car.camerasUp === null ? t('fleet.unknown') : `${car.camerasUp} / ${orUnknown(car.camerasTotal)}`,
      car.analysedFps === null ? t('fleet.unknown') : car.analysedFps.toFixed(1),
      orUnknown(car.outboxBacklog),
      formatTime(car.lastContactAtMs),
    ]);
    row.dataset.carId = car.carId;
    row.className = car.online ? 'online' : 'offline';
    return row;
  }));
}

// ---- search ----

async function search(event) {
  const form = event.target;
  const body = { reason: form.reason.value };
  if (form.plate.value.trim() !== '') body.plate = form.plate.value.trim();
  if (form.carId.value.trim() !== '') body.carId = form.carId.value.trim();
  const fromMs = localInputToMs(form.from.value);
  const toMs = localInputToMs(form.to.value);
  if (fromMs !== undefined) body.fromMs = fromMs;
  if (toMs !== undefined) body.toMs = toMs;
  const { events } = await api('POST', '/api/events/search', body);
  $('#search-count').textContent = events.length === 0 ? t('search.none') : t('search.count', { count: events.length });
  fillTable('#search-table', events.map((found) => tableRow([
    formatTime(found.receivedAtMs),
    t(`search.kind.${found.kind}`),
    found.carId,
    found.cameraId,
    found.plateText ?? '',
    formatPosition(found.position),
    found.hitId ?? '',
  ])));
}

// ---- audit ----

async function loadAudit(fromNewest) {
  const query = new URLSearchParams({ limit: '100' });
  if (!fromNewest && state.auditOldestId !== null) query.set('beforeId', String(state.auditOldestId));
  const { entries } = await api('GET', `/api/audit?${query}`);
  const rows = entries.map((entry) => {
    const row = tableRow([formatTime(entry.atMs), entry.actor, t(`audit.action.${entry.action}`, {}, entry.action), entry.target ?? '', entry.reason ?? '', entry.details === null ? '' : JSON.stringify(entry.details)]);
    row.dataset.action = entry.action;
    row.dataset.actor = entry.actor;
    row.dataset.target = entry.target ?? '';
    return row;
  });
  if (fromNewest) fillTable('#audit-table', rows);
  else $('#audit-table tbody').append(...rows);
  if (entries.length > 0) state.auditOldestId = entries[entries.length - 1].id;
  $('#audit-more').hidden = entries.length < 100;
}

// ---- users ----

function roleSelect(selected) {
  const select = element('select', { className: 'role-select' }, ROLES.map((role) => element('option', { text: t(`role.${role}`), attrs: { value: role } })));
  select.value = selected;
  return select;
}

function askReason() {
  const reason = window.prompt(t('users.promptReason'));
  return reason === null || reason.trim() === '' ? null : reason;
}

async function changeUser(username, change) {
  const reason = askReason();
  if (reason === null) return;
  await api('POST', `/api/users/${encodeURIComponent(username)}`, { ...change, reason });
  showMessage(t('users.saved'), 'info');
  await loadUsers();
}

async function loadUsers() {
  const { users } = await api('GET', '/api/users');
  fillTable('#users-table', users.map((user) => {
    const select = roleSelect(user.role);
    const setRole = element('button', { text: t('users.setRole'), attrs: { type: 'button' } });
    setRole.addEventListener('click', guarded(() => changeUser(user.username, { role: select.value })));
    const setPassword = element('button', { text: t('users.setPassword'), attrs: { type: 'button' } });
    setPassword.addEventListener('click', guarded(async () => {
      const password = window.prompt(t('users.promptPassword'));
      if (password !== null) await changeUser(user.username, { password });
    }));
    const toggle = element('button', { text: t(user.disabled ? 'users.enable' : 'users.disable'), attrs: { type: 'button' } });
    toggle.addEventListener('click', guarded(() => changeUser(user.username, { disabled: !user.disabled })));
    const actions = element('span', { className: 'actions' }, [select, setRole, setPassword, toggle]);
    return tableRow([user.username, t(`role.${user.role}`), t(user.disabled ? 'users.disabled' : 'users.active'), actions]);
  }));
  const createSelect = $('#user-form select[name=role]');
  const current = createSelect.value || 'operator';
  createSelect.replaceChildren(...roleSelect(current).children);
  createSelect.value = current;
}

async function createUser(event) {
  const form = event.target;
  await api('POST', '/api/users', { username: form.username.value, role: form.role.value, password: form.password.value, reason: form.reason.value });
  form.reset();
  showMessage(t('users.saved'), 'info');
  await loadUsers();
}

// ---- lists ----

async function loadLists() {
  const [{ entries }, { subjects }] = await Promise.all([api('GET', '/api/hotlist'), api('GET', '/api/watchlist')]);
  fillTable('#hotlist-table', entries.map((entry) => {
    const remove = element('button', { text: t('lists.remove'), attrs: { type: 'button' } });
    remove.addEventListener('click', guarded(async () => {
      const changeReason = askReason();
      if (changeReason === null) return;
      await api('POST', '/api/hotlist/remove', { plate: entry.plate, changeReason });
      await loadLists();
    }));
    return tableRow([entry.plate, entry.reason, entry.priority, entry.expiresAtMs === null ? t('lists.never') : formatTime(entry.expiresAtMs), remove]);
  }));
  fillTable('#watchlist-table', subjects.map((subject) => {
    const remove = element('button', { text: t('lists.remove'), attrs: { type: 'button' } });
    remove.addEventListener('click', guarded(async () => {
      const changeReason = askReason();
      if (changeReason === null) return;
      await api('POST', '/api/watchlist/remove', { subjectId: subject.subjectId, changeReason });
      await loadLists();
    }));
    return tableRow([subject.subjectId, subject.label, t('lists.photoCount', { count: subject.photoCount }), remove]);
  }));
}

async function addHotlistEntry(event) {
  const form = event.target;
  const expiresAtMs = localInputToMs(form.expires.value) ?? null;
  await api('POST', '/api/hotlist', { plate: form.plate.value, reason: form.reason.value, priority: Number(form.priority.value), expiresAtMs, changeReason: form.changeReason.value });
  form.reset();
  showMessage(t('lists.saved'), 'info');
  await loadLists();
}

async function importHotlist(event) {
  const form = event.target;
  const csv = await form.csv.files[0].text();
  const { report } = await api('POST', '/api/hotlist/import', { csv, changeReason: form.changeReason.value });
  form.reset();
  showMessage(t('lists.importReport', { accepted: report.accepted, rejected: report.rejected.length }), 'info');
  $('#import-report').replaceChildren(...report.rejected.map((line) => element('li', { text: t('lists.importLine', line) })));
  await loadLists();
}

function fileToBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function enrol(event) {
  const form = event.target;
  const photosBase64 = await Promise.all([...form.photos.files].map(fileToBase64));
  const { rejectedPhotos } = await api('POST', '/api/watchlist/enrol', { subjectId: form.subjectId.value, label: form.label.value, photosBase64, changeReason: form.changeReason.value });
  form.reset();
  showMessage(t('lists.saved'), 'info');
  $('#import-report').replaceChildren(...rejectedPhotos.map((photo) => element('li', { text: t('lists.photoRejected', photo) })));
  await loadLists();
}

// ---- start ----

async function changeLanguage(language) {
  await loadLanguage(language);
  localStorage.setItem(LANGUAGE_KEY, language);
  renderSignedIn();
  if (state.socket !== null) setLiveState(state.socket.readyState === WebSocket.OPEN);
  renderHits();
  await route();
}

async function start() {
  $('#login-form').addEventListener('submit', guarded(login));
  $('#logout').addEventListener('click', guarded(logout));
  $('#language').addEventListener('change', guarded((event) => changeLanguage(event.target.value)));
  $('#search-form').addEventListener('submit', guarded(search));
  $('#audit-more').addEventListener('click', guarded(() => loadAudit(false)));
  $('#user-form').addEventListener('submit', guarded(createUser));
  $('#hotlist-form').addEventListener('submit', guarded(addHotlistEntry));
  $('#hotlist-import-form').addEventListener('submit', guarded(importHotlist));
  $('#enrol-form').addEventListener('submit', guarded(enrol));
  window.addEventListener('hashchange', () => route());

  await loadLanguage(localStorage.getItem(LANGUAGE_KEY) ?? DEFAULT_LANGUAGE);
  try {
    startSession(await api('GET', '/api/session'));
  } catch {
    state.session = null;
  }
  await route();
}

start().catch((error) => showMessage(String(error)));
