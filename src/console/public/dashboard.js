// The support console's dashboard: charts of GET /v1/support/dashboard, drawn with uPlot (served
// by this service from its npm package), refreshed every few seconds. Each chart has its figures
// beside it as text, for people who do not read charts and for tests that do not read pixels.
/* global document, sessionStorage, window, setTimeout, clearTimeout */

import uPlot from '/console/uPlot.esm.js';
import { TOKEN_KEY, callApi, clearProblem, element, showProblem } from './console-api.js';

const REFRESH_MS = 5_000;
const CHART_HEIGHT = 220;
const COLOURS = {
  succeeded: '#15603a',
  failed: '#b42318',
  pending: '#b7791f',
  provider: '#1f5fbf',
  limited: '#b42318',
  queue: '#6b3fa0',
};
/** The read model's time-to-final histogram bounds (seconds), labelled; null is the open last. */
const BUCKET_LABEL = (belowSeconds, previous) =>
  belowSeconds === null ? `≥ ${duration(previous)}` : `< ${duration(belowSeconds)}`;

const byId = (id) => document.getElementById(id);
const token = sessionStorage.getItem(TOKEN_KEY);
const charts = new Map();
/** The answer's window in seconds: every time chart spans it, whatever its data. */
let shownWindow = [0, 1];
let refreshTimer = null;

function duration(seconds) {
  return seconds < 60 ? `${seconds} s` : `${seconds / 60} min`;
}

const seconds = (iso) => Date.parse(iso) / 1000;
const sum = (values) => values.reduce((total, value) => total + value, 0);
const clockTime = (iso) =>
  new Date(iso).toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });

function chartWidth(container) {
  return Math.max(280, container.clientWidth);
}

/** A time series chart: x in seconds since the epoch, one y axis with its unit. */
function timeOptions(container, unit, series) {
  return {
    width: chartWidth(container),
    height: CHART_HEIGHT,
    scales: { x: { time: true, range: () => [...shownWindow] } },
    axes: [{}, { label: unit, size: 60 }],
    series: [
      {},
      ...series.map(({ label, colour }) => ({
        label,
        stroke: colour,
        width: 2,
        points: { show: true, size: 5 },
        spanGaps: false,
      })),
    ],
  };
}

function histogramOptions(container, labels) {
  return {
    width: chartWidth(container),
    height: CHART_HEIGHT,
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] } },
    axes: [
      {
        values: (_chart, ticks) => ticks.map((tick) => labels[tick] ?? ''),
        splits: () => labels.map((_, i) => i),
      },
      { label: 'transactions', size: 60 },
    ],
    series: [
      { label: 'bucket', value: (_chart, index) => labels[index] ?? '' },
      {
        label: 'transactions',
        stroke: COLOURS.provider,
        fill: 'rgba(31, 95, 191, 0.35)',
        paths: uPlot.paths.bars({ size: [0.7, 80] }),
        points: { show: false },
      },
    ],
  };
}

/** Draws the chart the first time, then only gives it new data. */
function draw(id, data, optionsOf) {
  const container = byId(id);
  container.dataset.points = String(data[0].length);
  const existing = charts.get(id);
  if (existing) {
    existing.setData(data);
    return;
  }
  charts.set(id, new uPlot(optionsOf(container), data, container));
}

function renderProviderState(provider, hours) {
  const line = byId('provider-state');
  const since = provider.since
    ? ` since ${clockTime(provider.since)}`
    : ` over all that is kept (the last ${Math.min(hours * 60, provider.keptMs / 60_000)} min)`;
  line.textContent = `provider: ${provider.state}${since}`;
  line.className = `provider-state state-${provider.state}`;
}

function renderTransactions({ perMinute, timeToFinal, truncated }) {
  const x = perMinute.map((bucket) => seconds(bucket.at));
  const counts = (key) => perMinute.map((bucket) => bucket[key]);
  draw('transactions-chart', [x, counts('succeeded'), counts('failed'), counts('pending')], (c) =>
    timeOptions(c, 'transactions / min', [
      { label: 'SUCCEEDED', colour: COLOURS.succeeded },
      { label: 'FAILED', colour: COLOURS.failed },
      { label: 'PENDING', colour: COLOURS.pending },
    ]),
  );
  const [succeeded, failed, pending] = ['succeeded', 'failed', 'pending'].map((key) =>
    sum(counts(key)),
  );
  byId('transactions-figures').textContent =
    `${succeeded + failed + pending} requested in the window: ${succeeded} SUCCEEDED, ` +
    `${failed} FAILED, ${pending} PENDING` +
    (truncated ? ' (only the newest are counted: too many to show)' : '');

  const labels = timeToFinal.map((bucket, i) =>
    BUCKET_LABEL(bucket.belowSeconds, timeToFinal[i - 1]?.belowSeconds),
  );
  draw(
    'time-to-final-chart',
    [labels.map((_, i) => i), timeToFinal.map((bucket) => bucket.count)],
    (c) => histogramOptions(c, labels),
  );
  const finals = sum(timeToFinal.map((bucket) => bucket.count));
  byId('time-to-final-figures').textContent =
    `${finals} final: ` +
    timeToFinal.map((bucket, i) => `${labels[i]}: ${bucket.count}`).join(' · ');
}

function renderProvider({ perMinute }) {
  const x = perMinute.map((bucket) => seconds(bucket.at));
  const latency = perMinute.map((bucket) =>
    bucket.answerLatencyP90Ms === null ? null : bucket.answerLatencyP90Ms / 1000,
  );
  draw('latency-chart', [x, latency], (c) =>
    timeOptions(c, 'seconds (p90)', [{ label: 'answer latency p90', colour: COLOURS.provider }]),
  );
  const submissions = sum(perMinute.map((bucket) => bucket.submissions));
  const answered = perMinute.filter((bucket) => bucket.answerLatencyP90Ms !== null);
  const latest = answered.at(-1);
  byId('latency-figures').textContent =
    `${submissions} submissions ended in the window` +
    (latest
      ? `; p90 at ${clockTime(latest.at)}: ${(latest.answerLatencyP90Ms / 1000).toFixed(2)} s`
      : '; none answered');

  const shares = perMinute.map((bucket) =>
    bucket.submissions === 0 ? null : bucket.gatewayTimeoutShare * 100,
  );
  draw('gateway-chart', [x, shares], (c) =>
    timeOptions(c, '% of submissions', [{ label: '504 share', colour: COLOURS.failed }]),
  );
  const gatewayTimeouts = sum(
    perMinute.map((bucket) => Math.round(bucket.gatewayTimeoutShare * bucket.submissions)),
  );
  byId('gateway-figures').textContent =
    `${gatewayTimeouts} of ${submissions} submissions answered 504`;

  const checks = perMinute.map((bucket) => bucket.statusChecks);
  const limited = perMinute.map((bucket) => bucket.rateLimitedChecks);
  draw('checks-chart', [x, checks, limited], (c) =>
    timeOptions(c, 'checks / min', [
      { label: 'status checks', colour: COLOURS.provider },
      { label: '429 answers', colour: COLOURS.limited },
    ]),
  );
  byId('checks-figures').textContent =
    `${sum(checks)} status checks in the window, ${sum(limited)} answered 429`;
}

function renderQueue({ size, samples }) {
  draw(
    'queue-chart',
    [samples.map((sample) => seconds(sample.at)), samples.map((sample) => sample.size)],
    (c) => timeOptions(c, 'transactions', [{ label: 'in the queue', colour: COLOURS.queue }]),
  );
  byId('queue-figures').textContent =
    `${size} in the queue now (sampled every minute by this instance since it started)`;
}

function renderParked({ count, more, items }) {
  byId('parked-figures').textContent =
    count === 0
      ? 'No parked work.'
      : `${count}${more ? ' or more' : ''} parked step${count === 1 && !more ? '' : 's'}`;
  byId('parked-rows').replaceChildren(
    ...items.map((item) =>
      element(
        'tr',
        {},
        element('td', {}, new Date(item.parkedAt).toLocaleString()),
        element('td', {}, item.transactionId),
        element('td', {}, item.kind),
        element('td', {}, item.reason),
      ),
    ),
  );
  byId('parked-table').hidden = items.length === 0;
}

async function refresh() {
  clearTimeout(refreshTimer);
  const hours = Number(byId('hours').value);
  const problemBox = byId('dashboard-problem');
  try {
    const dashboard = await callApi(token, `/v1/support/dashboard?hours=${hours}`);
    clearProblem(problemBox);
    shownWindow = [seconds(dashboard.from), seconds(dashboard.to)];
    renderProviderState(dashboard.provider, hours);
    renderTransactions(dashboard.transactions);
    renderProvider(dashboard.provider);
    renderQueue(dashboard.reconciliationQueue);
    renderParked(dashboard.parkedWork);
    byId('updated').textContent = `Updated ${new Date(dashboard.to).toLocaleTimeString()}`;
  } catch (error) {
    showProblem(problemBox, error);
    // A refused token will not be accepted on the next refresh either.
    if (error.problem?.status === 401 || error.problem?.status === 403) {
      byId('dashboard').hidden = true;
      byId('signed-out').hidden = false;
      return;
    }
  }
  refreshTimer = setTimeout(() => void refresh(), REFRESH_MS);
}

function resizeCharts() {
  for (const [id, chart] of charts) {
    chart.setSize({ width: chartWidth(byId(id)), height: CHART_HEIGHT });
  }
}

if (token) {
  byId('dashboard').hidden = false;
  byId('hours').addEventListener('change', () => void refresh());
  window.addEventListener('resize', resizeCharts);
  void refresh();
} else {
  byId('signed-out').hidden = false;
}
