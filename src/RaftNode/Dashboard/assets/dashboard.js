// RaftMall dashboard: polls the cluster's read API and draws it. Plain JavaScript, no build step.
// It reads from every member it learned from /api/cluster, so it keeps working when the node it came from dies
// (the nodes allow cross-origin GETs from the cluster's own members).
'use strict';

const POLL_INTERVAL_MS = 500;
const REQUEST_TIMEOUT_MS = 1500;
const CHART_WINDOW_MS = 60_000;
const EVENTS_SHOWN = 30;
const TRANSACTIONS_SHOWN = 50; // per status
const IN_FLIGHT_STATUSES = ['open', 'committing', 'aborting'];
const SLOW_POLL_EVERY = 4; // stock, transactions and the demo state: every 4th poll (2 s)
const KEY_STORAGE = 'raftmall.apiKey';
// Under load a node applies a few entries after it learns they are committed: that is not worth a warning.
const APPLY_LAG_SHOWN_AS_READY = 50;

// The API key, when the cluster needs one: taken once from the URL fragment (#key=...), kept for this tab only, and
// removed from the address bar so that it does not end up in screenshots or bookmarks.
const apiKey = (() => {
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get('key');
  if (fromFragment) {
    sessionStorage.setItem(KEY_STORAGE, fromFragment);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(KEY_STORAGE);
})();

/** Every request of the page goes through here: JSON, a timeout, and the bearer key when the page has one. */
async function api(base, path, { method = 'GET', body, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
  const headers = { Accept: 'application/json' };
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(base + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal, mode: 'cors', credentials: 'omit', cache: 'no-store',
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
    return { ok: response.ok, status: response.status, data };
  } catch (error) {
    return { ok: false, status: 0, data: null, error: String(error) };
  } finally {
    clearTimeout(timer);
  }
}

const state = {
  origin: location.origin,
  members: [{ nodeId: '?', address: location.origin }], // replaced by /api/cluster's list
  statuses: new Map(), // nodeId -> /api/cluster answer, or null when it did not answer
  samples: [], // { t, commit, orders }
  markers: [], // { t, label, kind }
  leaderId: null,
  term: null,
  events: [],
  afterSequence: null,
  demo: false,
  streams: new Map(), // nodeId -> stream status from /api/demo
  lastKill: null, // { at (Date), nodeId }
  transactionsAvailable: true,
  subscriptionsAvailable: true, // false once the node or the key cannot read them (404 on an older node, 401/403 without an admin key)
  polls: 0,
};

const $ = (selector) => document.querySelector(selector);
const el = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    if (name === 'class') node.className = value; else node.setAttribute(name, value);
  }
  node.append(...children.map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return node;
};
const formatNumber = (n) => (n === undefined || n === null ? '–' : Number(n).toLocaleString('en-US'));
const formatTime = (iso) => new Date(iso).toISOString().slice(11, 23);
const memberAddress = (nodeId) => state.members.find((m) => m.nodeId === nodeId)?.address;

/** The node to read events, stock and transactions from: the page's own node while it answers, else any live member. */
function readBase() {
  const own = state.members.find((m) => m.address === state.origin);
  if (!own || state.statuses.get(own.nodeId)) return state.origin;
  const alive = state.members.find((m) => state.statuses.get(m.nodeId));
  return alive ? alive.address : state.origin;
}

async function pollMembers() {
  // Each answer keeps the time it arrived: a slow member must not stretch the interval of the others' counters.
  const answers = await Promise.all(state.members.map(async (m) => {
    const answer = await api(m.address, '/api/cluster');
    return [m, { ...answer, at: Date.now() }];
  }));
  for (const [member, answer] of answers) {
    const status = answer.ok ? answer.data : null;
    if (status && member.nodeId === '?') member.nodeId = status.nodeId;
    state.statuses.set(member.nodeId, status);
  }
  const first = answers.map(([, a]) => a).find((a) => a.ok);
  if (first && state.members.length !== first.data.members.length) {
    state.members = first.data.members.map((m) => ({ nodeId: m.nodeId, address: m.address.replace(/\/$/, '') }));
    return pollMembers(); // learned the members: ask all of them
  }
  const alive = [...state.statuses.values()].filter(Boolean);
  const leaders = alive.filter((s) => s.role === 'leader');
  // The leader with the highest term is the current one (a deposed leader may not know it yet).
  const leader = leaders.sort((a, b) => b.term - a.term)[0];
  if (leader && leader.nodeId !== state.leaderId) {
    if (state.leaderId !== null) addMarker(`${leader.nodeId} leads (term ${leader.term})`, 'leader');
    state.leaderId = leader.nodeId;
  }
  if (!leader && state.leaderId !== null && !alive.some((s) => s.leaderId === state.leaderId)) state.leaderId = null;
  state.term = alive.length ? Math.max(...alive.map((s) => s.term)) : state.term;
  if (alive.length) {
    const arrivals = answers.filter(([, a]) => a.ok).map(([, a]) => a.at);
    state.samples.push({
      t: Math.min(...arrivals),
      commit: Math.max(...alive.map((s) => s.commitIndex)),
      orders: Math.max(...alive.map((s) => s.stats.orders)),
      lastEventSequence: Math.max(...alive.map((s) => s.stats.lastEventSequence)),
    });
    const cutoff = Date.now() - CHART_WINDOW_MS - 5_000;
    while (state.samples.length && state.samples[0].t < cutoff) state.samples.shift();
  }
}

function addMarker(label, kind) {
  state.markers.push({ t: Date.now(), label, kind });
  state.markers = state.markers.filter((m) => m.t > Date.now() - CHART_WINDOW_MS);
}

async function pollEvents() {
  const base = readBase();
  if (state.afterSequence === null) {
    const last = state.samples.at(-1)?.lastEventSequence;
    if (last === undefined) return;
    state.afterSequence = Math.max(0, last - EVENTS_SHOWN);
  }
  const answer = await api(base, `/api/events?after=${state.afterSequence}&limit=100&consistency=local`);
  if (!answer.ok) return;
  state.events.push(...answer.data.events);
  state.events = state.events.slice(-EVENTS_SHOWN);
  if (answer.data.events.length) state.afterSequence = answer.data.events.at(-1).sequence;
}

async function pollStock() {
  const answer = await api(readBase(), '/api/stock?consistency=local');
  if (answer.ok) renderStock(answer.data);
}

/** Global transactions in flight and stuck; the section stays hidden on a node without /api/transactions (404). */
async function pollTransactions() {
  if (!state.transactionsAvailable) return;
  const base = readBase();
  const list = (query) => api(base, `/api/transactions?${query}&limit=${TRANSACTIONS_SHOWN}&consistency=local`);
  const [stuck, ...inFlight] = await Promise.all([list('stuck=true'), ...IN_FLIGHT_STATUSES.map((s) => list(`status=${s}`))]);
  if (stuck.status === 404 && !stuck.data?.code) {
    state.transactionsAvailable = false;
    $('#transactions').hidden = true;
    return;
  }
  if (!stuck.ok) return;
  $('#transactions').hidden = false;
  renderTransactions(inFlight.filter((a) => a.ok).flatMap((a) => a.data.transactions), stuck.data.transactions);
}

/** Push subscriptions with their lag, stuck and suspended ones first; hidden without an admin key (subscriptions name the URLs the leader calls). */
async function pollSubscriptions() {
  if (!state.subscriptionsAvailable) return;
  const answer = await api(readBase(), '/api/subscriptions?consistency=local');
  if ([401, 403, 404].includes(answer.status)) {
    state.subscriptionsAvailable = false;
    $('#subscriptions').hidden = true;
    return;
  }
  if (!answer.ok) return;
  $('#subscriptions').hidden = false;
  renderSubscriptions(answer.data);
}

async function pollDemo() {
  const answers = await Promise.all(state.members.map(async (m) => [m, await api(m.address, '/api/demo')]));
  for (const [member, answer] of answers) {
    if (answer.ok) state.streams.set(member.nodeId, answer.data.stream);
    else if (answer.status === 0) state.streams.delete(member.nodeId);
  }
}

function render() {
  const alive = [...state.statuses.values()].filter(Boolean);
  const base = readBase();
  const reading = state.members.find((m) => m.address === base);
  $('#connection').textContent = alive.length === 0
    ? 'no member answers — retrying'
    : `reading from ${reading?.nodeId ?? base} (${base})${base === state.origin ? '' : ' — the node this page came from does not answer'}`;
  $('#leader-id').textContent = state.leaderId ?? 'electing…';
  $('#term').textContent = formatNumber(state.term);
  const latest = state.samples.at(-1);
  $('#order-count').textContent = formatNumber(latest?.orders);
  $('#commit-index').textContent = formatNumber(latest?.commit);
  renderMembers();
  renderEvents();
  renderStream();
  drawChart();
}

function renderMembers() {
  const rows = state.members.map((m) => {
    const s = state.statuses.get(m.nodeId);
    const isLeader = s && s.nodeId === state.leaderId && s.role === 'leader';
    const health = !s ? ['down', 'down'] : s.leaderId === null || s.leaderId === undefined ? ['electing', 'no leader known']
      : s.commitIndex - s.appliedIndex <= APPLY_LAG_SHOWN_AS_READY ? ['ready', 'ready'] : ['lagging', `applying (${s.commitIndex - s.appliedIndex} behind)`];
    const action = !state.demo ? '' : s
      ? el('button', { type: 'button', class: 'danger', 'data-kill': m.nodeId }, 'kill')
      : el('button', { type: 'button', 'data-start': m.nodeId }, 'restart');
    return el('tr', { 'data-node': m.nodeId, 'data-role': s ? s.role : 'down', class: isLeader ? 'leader' : s ? '' : 'down' },
      el('td', {}, el('strong', {}, m.nodeId)),
      el('td', { class: 'muted' }, m.address),
      el('td', {}, el('span', { class: `role ${s ? s.role : ''}` }, isLeader ? '★ leader' : s ? s.role : '–')),
      el('td', {}, s ? s.term : '–'),
      el('td', {}, s ? formatNumber(s.commitIndex) : '–'),
      el('td', {}, s ? formatNumber(s.appliedIndex) : '–'),
      el('td', { class: `health ${health[0]}` }, health[1]),
      el('td', { class: 'demo-only' }, action));
  });
  $('#members tbody').replaceChildren(...rows);
}

function renderEvents() {
  const items = [...state.events].reverse().map((e) => el('li', {},
    el('span', { class: 'muted' }, `#${e.sequence}`),
    el('span', { class: 'type' }, e.type),
    el('span', {}, [e.orderId ? `order ${e.orderId}` : null, e.subject, e.topic, e.key, e.sku ? `${e.sku}×${e.quantity}` : null, e.detail, formatTime(e.at)]
      .filter(Boolean).join(' · '))));
  $('#events').replaceChildren(...(items.length ? items : [el('li', { class: 'empty' }, 'no events yet')]));
}

function renderStock(stock) {
  const rows = stock.map((s) => el('tr', {}, el('td', {}, s.sku), el('td', { class: 'num' }, formatNumber(s.available)),
    el('td', { class: 'num' }, formatNumber(s.locked)), el('td', { class: 'num' }, formatNumber(s.sold))));
  $('#stock tbody').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { class: 'empty', colspan: 4 }, 'no stock yet'))]));
}

function renderTransactions(inFlight, stuck) {
  const states = (t) => Object.entries(t.branches.reduce((counts, b) => ({ ...counts, [b.state]: (counts[b.state] ?? 0) + 1 }), {}))
    .map(([name, count]) => `${count} ${name}`).join(', ');
  const none = (text, columns) => [el('tr', {}, el('td', { class: 'empty', colspan: columns }, text))];
  const rows = inFlight.map((t) => el('tr', { 'data-gid': t.gid },
    el('td', {}, t.gid), el('td', {}, t.mode), el('td', {}, t.status), el('td', {}, states(t)), el('td', {}, formatTime(t.deadline))));
  $('#transactions-active tbody').replaceChildren(...(rows.length ? rows : none('none in flight', 5)));
  const stuckRows = stuck.flatMap((t) => t.branches.filter((b) => b.stuck).map((b) => el('tr', { 'data-gid': t.gid },
    el('td', {}, t.gid), el('td', {}, b.branchId), el('td', {}, `${b.state} (${b.attempts} attempts)`), el('td', { class: 'error' }, b.lastError ?? ''))));
  $('#transactions-stuck tbody').replaceChildren(...(stuckRows.length ? stuckRows : none('none stuck', 4)));
}

function renderSubscriptions(subscriptions) {
  const order = { suspended: 0, stuck: 1, active: 2 };
  const rows = [...subscriptions].sort((a, b) => order[a.state] - order[b.state] || a.name.localeCompare(b.name)).map((s) => el('tr', { 'data-subscription': s.name },
    el('td', {}, s.name),
    el('td', { class: s.state === 'active' ? '' : 'error' }, s.state === 'suspended' ? `suspended (lost #${s.suspendedAtSequence})` : s.state),
    el('td', { class: 'num' }, formatNumber(s.lag)),
    el('td', { class: 'num' }, formatNumber(s.attempts)),
    el('td', { class: 'error' }, s.lastError ?? '')));
  $('#subscriptions tbody').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { class: 'empty', colspan: 5 }, 'no subscriptions'))]));
}

/** The stream, wherever it runs, and the failover it measured: the write gap around the last kill. */
function renderStream() {
  if (!state.demo) return;
  const streams = [...state.streams.values()].filter(Boolean).sort((a, b) => (b.running - a.running) || b.startedAt.localeCompare(a.startedAt));
  const stream = streams[0];
  $('#stream-state').textContent = !stream ? 'no order stream'
    : `${stream.running ? 'running' : 'stopped'} on ${stream.hostNodeId}: ${stream.ordersPerSecond} orders/s until ${formatTime(stream.endsAt)}, `
      + `${formatNumber(stream.acknowledged)} acknowledged, ${formatNumber(stream.failed)} failed, ${stream.inFlight} in flight`
      + (stream.stoppedBecause ? ` — stopped: ${stream.stoppedBecause}` : '');
  const gaps = streams.flatMap((s) => s.gaps);
  if (state.lastKill && gaps.length) {
    const kill = state.lastKill.at.getTime();
    const around = gaps.find((g) => Date.parse(g.from) <= kill && kill <= Date.parse(g.to))
      ?? gaps.filter((g) => Date.parse(g.to) >= kill).sort((a, b) => b.ms - a.ms)[0];
    if (around) {
      $('#failover-ms').textContent = `${formatNumber(around.ms)} ms`;
      $('#failover-ms').title = `last write before the kill of ${state.lastKill.nodeId} at ${formatTime(around.from)}, first after at ${formatTime(around.to)}`;
    }
  }
}

function drawChart() {
  const latest = drawRateChart($('#chart'), state.samples, state.markers, CHART_WINDOW_MS);
  $('#writes-rate').textContent = latest ? Math.round(latest.writes) : 0;
  $('#orders-rate').textContent = latest ? Math.round(latest.orders) : 0;
}

async function demoAction(path, body = {}) {
  // Control requests go to the page's own node while it answers, else to any live member.
  const answer = await api(readBase(), path, { method: 'POST', body, timeoutMs: 5000 });
  const message = answer.ok ? '' : `${path}: ${answer.data?.detail ?? answer.error ?? answer.status}`;
  $('#demo-message').textContent = message;
  return answer;
}

function wireDemo() {
  $('#start-stream').addEventListener('click', () => demoAction('/api/demo/orders/start', {
    ordersPerSecond: Number($('#stream-rate').value), durationSeconds: Number($('#stream-seconds').value),
  }).then(pollDemo));
  $('#stop-stream').addEventListener('click', async () => {
    const host = [...state.streams.values()].find((s) => s?.running)?.hostNodeId;
    const base = host ? memberAddress(host) : readBase();
    await api(base, '/api/demo/orders/stop', { method: 'POST', body: {} });
    await pollDemo();
  });
  $('#kill-leader').addEventListener('click', () => kill('/api/demo/kill-leader'));
  $('#members').addEventListener('click', async (event) => {
    const target = event.target.closest('button');
    if (!target) return;
    if (target.dataset.kill) await kill(`/api/demo/nodes/${encodeURIComponent(target.dataset.kill)}/kill`);
    if (target.dataset.start) {
      const answer = await demoAction(`/api/demo/nodes/${encodeURIComponent(target.dataset.start)}/start`);
      if (answer.ok) addMarker(`start ${target.dataset.start}`, 'leader');
    }
  });
}

async function kill(path) {
  const answer = await demoAction(path);
  if (answer.ok) {
    state.lastKill = { at: new Date(answer.data.killedAt), nodeId: answer.data.nodeId };
    $('#failover-ms').textContent = 'measuring…';
    addMarker(`kill ${answer.data.nodeId}`, 'kill');
  }
}

async function loop() {
  const started = Date.now();
  try {
    await pollMembers();
    const slow = state.polls % SLOW_POLL_EVERY === 0;
    await Promise.all([pollEvents(), slow ? pollStock() : null, slow ? pollTransactions() : null, slow ? pollSubscriptions() : null, slow && state.demo ? pollDemo() : null]);
    render();
  } catch (error) {
    $('#connection').textContent = `dashboard error: ${error}`;
  }
  state.polls++;
  setTimeout(loop, Math.max(0, POLL_INTERVAL_MS - (Date.now() - started)));
}

async function start() {
  const demo = await api(state.origin, '/api/demo');
  state.demo = demo.ok;
  document.body.classList.toggle('demo', state.demo);
  if (state.demo) wireDemo();
  window.addEventListener('resize', drawChart);
  loop();
}

start();
