// The support console: plain browser JavaScript, no build step. Everything shown comes from the
// support and audit routes of this service, called with the pasted token; text is always set as
// text (never as HTML), so nothing a customer wrote can run here.
/* global document, sessionStorage, atob, URLSearchParams, FormData */

import {
  ProblemError,
  TOKEN_KEY,
  callApi,
  clearProblem,
  element,
  showProblem,
} from './console-api.js';

const PAGE_SIZE = 20;

const byId = (id) => document.getElementById(id);

let token = sessionStorage.getItem(TOKEN_KEY);
let queueCursor = null;
let searchQuery = null;
let searchCursor = null;
/** Answers for a transaction the user has since navigated away from are dropped. */
let openTransactionId = null;

/**
 * Text someone else wrote (a note, a recipient, an owner): isolated, so right-to-left or bidi
 * control characters in it cannot reorder the text around it.
 */
function userText(text) {
  return element('bdi', { dir: 'auto' }, text);
}

/** The token's claims, read only to label the page and pick views; the service verifies it. */
function claimsOf(jwt) {
  const payload = jwt.split('.')[1];
  if (!payload) return null;
  try {
    return JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return null;
  }
}

function rolesOf(jwt) {
  const roles = claimsOf(jwt)?.roles;
  return Array.isArray(roles) ? roles : [];
}

async function api(path, options) {
  try {
    return await callApi(token, path, options);
  } catch (failure) {
    // An expired or refused token cannot do anything else: back to the sign-in form.
    if (failure.problem?.status === 401) signOut(failure);
    throw failure;
  }
}

/** A status line (text and nodes): `ok` in the success colour, `error` for a failure. */
function announce(message, tone = 'ok') {
  const notice = byId('notice');
  notice.replaceChildren(...(Array.isArray(message) ? message : [message]));
  notice.classList.toggle('notice-error', tone === 'error');
}

function formatTime(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

function timeElement(iso) {
  return element('time', { datetime: iso, title: iso }, formatTime(iso));
}

function openButton(transaction) {
  return element(
    'button',
    { type: 'button', class: 'link', 'data-transaction-id': transaction.transactionId },
    transaction.id,
  );
}

function statusBadge(status) {
  return element('span', { class: `status status-${status.toLowerCase()}` }, status);
}

function transactionCell(transaction) {
  return element(
    'td',
    {},
    openButton(transaction),
    element('span', { class: 'owner' }, userText(transaction.owner)),
  );
}

function queueRow(item) {
  const why = item.reconciliation ? `${item.reason}: ${item.reconciliation}` : item.reason;
  return element(
    'tr',
    {},
    element('td', {}, timeElement(item.createdAt)),
    transactionCell(item),
    element('td', {}, statusBadge(item.status)),
    element('td', {}, why),
  );
}

function searchRow(item) {
  return element(
    'tr',
    {},
    element('td', {}, timeElement(item.createdAt)),
    transactionCell(item),
    element('td', {}, statusBadge(item.status)),
    element('td', {}, item.stage),
  );
}

async function fetchQueuePage(cursor) {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (cursor) query.set('cursor', cursor);
  return api(`/v1/support/reconciliation?${query}`);
}

function renderQueue(page, { more = false } = {}) {
  const rows = page.items.map(queueRow);
  if (more) byId('queue-rows').append(...rows);
  else byId('queue-rows').replaceChildren(...rows);
  queueCursor = page.nextCursor;
  byId('queue-more').hidden = queueCursor === null;
  byId('queue-empty').hidden = byId('queue-rows').children.length > 0;
}

async function loadQueue({ more = false } = {}) {
  const problemBox = byId('queue-problem');
  clearProblem(problemBox);
  try {
    renderQueue(await fetchQueuePage(more ? queueCursor : null), { more });
  } catch (error) {
    showProblem(problemBox, error);
  }
}

/** datetime-local inputs hold the user's local time without a zone; the API wants ISO 8601. */
function searchParamsFrom(form) {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const [name, value] of new FormData(form)) {
    if (value === '') continue;
    query.set(name, name === 'from' || name === 'to' ? new Date(value).toISOString() : value);
  }
  return query;
}

async function loadSearch({ more = false } = {}) {
  const problemBox = byId('search-problem');
  clearProblem(problemBox);
  const query = new URLSearchParams(searchQuery);
  if (more && searchCursor) query.set('cursor', searchCursor);
  try {
    const page = await api(`/v1/support/transactions?${query}`);
    const rows = page.items.map(searchRow);
    if (more) byId('search-rows').append(...rows);
    else byId('search-rows').replaceChildren(...rows);
    searchCursor = page.nextCursor;
    const found = byId('search-rows').children.length > 0;
    byId('search-results').hidden = !found;
    byId('search-empty').hidden = found;
    byId('search-more').hidden = searchCursor === null;
  } catch (error) {
    // Results of an earlier search under this error would look like its answer.
    if (!more) {
      byId('search-rows').replaceChildren();
      byId('search-results').hidden = true;
      byId('search-empty').hidden = true;
      byId('search-more').hidden = true;
      searchCursor = null;
    }
    showProblem(problemBox, error);
  }
}

const DETAIL_FIELDS = [
  ['Client id', (t) => t.id],
  ['Internal id', (t) => t.transactionId],
  ['Owner', (t) => userText(t.owner)],
  ['Status', (t) => statusBadge(t.status)],
  ['Stage', (t) => t.stage],
  ['Reconciliation', (t) => t.reconciliation],
  ['Conflicting reports', (t) => String(t.conflicts)],
  ['Amount (minor units)', (t) => `${t.amount} ${t.currency}`],
  ['Recipient', (t) => userText(t.recipient)],
  ['Note', (t) => (t.note === null ? null : userText(t.note))],
  ['Provider status', (t) => t.providerStatus],
  ['Final status from', (t) => t.finalStatusSource],
  ['Failure reason', (t) => t.failureReason],
  ['Attempts / status checks', (t) => `${t.attempts} / ${t.statusChecks}`],
  ['Next check due', (t) => (t.nextCheckDueAt ? timeElement(t.nextCheckDueAt) : null)],
];

function renderDetail(transaction) {
  byId('detail-title').replaceChildren(userText(transaction.owner), ` / ${transaction.id}`);
  byId('detail-fields').replaceChildren(
    ...DETAIL_FIELDS.flatMap(([label, valueOf]) => [
      element('dt', {}, label),
      element('dd', {}, valueOf(transaction) ?? '—'),
    ]),
  );
  // The service refuses any other resolution (409); a colleague may still win a race.
  byId('resolve-form').hidden = transaction.stage !== 'needs_reconciliation';
}

/** `key: value · key: value`, each value isolated: notes and recipients are in event data. */
function eventDetails(data) {
  return Object.entries(data).flatMap(([key, value], index) => [
    index === 0 ? `${key}: ` : ` · ${key}: `,
    userText(typeof value === 'string' ? value : JSON.stringify(value)),
  ]);
}

function renderEvents(events) {
  byId('timeline-source').textContent = 'Every stored event of the stream, in order.';
  byId('timeline').replaceChildren(
    ...events.map((event) =>
      element(
        'li',
        {},
        element(
          'div',
          { class: 'event-head' },
          element('span', { class: 'event-type' }, event.type),
          timeElement(event.metadata.recordedAt),
          element(
            'span',
            { class: 'event-meta' },
            `rev ${event.revision} · `,
            userText(event.metadata.actor),
          ),
        ),
        element('p', { class: 'event-data' }, ...eventDetails(event.data)),
      ),
    ),
  );
}

/** Without the auditor role only the summary's times are known. */
function renderSummaryTimeline(transaction, reason) {
  byId('timeline-source').textContent = reason;
  const moments = [
    ['Requested', transaction.createdAt],
    ['Last change', transaction.updatedAt],
    ['Final', transaction.finalizedAt],
  ].filter(([, at]) => at);
  byId('timeline').replaceChildren(
    ...moments.map(([label, at]) =>
      element(
        'li',
        {},
        element(
          'div',
          { class: 'event-head' },
          element('span', { class: 'event-type' }, label),
          timeElement(at),
        ),
      ),
    ),
  );
}

const ACCOUNT_FIELDS = [
  ['Posted', (a) => String(a.posted)],
  ['Pending (held)', (a) => String(a.pending)],
  ['Available', (a) => String(a.available)],
  ['Overdraft limit', (a) => String(a.overdraftLimit)],
];
const ACCOUNT_ENTRIES_SHOWN = 5;

function entryItem(entry) {
  const linked = entry.transactionId === null ? [] : [' · transaction ', entry.transactionId];
  return element(
    'li',
    {},
    element(
      'div',
      { class: 'event-head' },
      element('span', { class: 'event-type' }, `${entry.kind} ${entry.amount} (${entry.balance})`),
      timeElement(entry.at),
    ),
    element(
      'p',
      { class: 'event-data' },
      `after: posted ${entry.posted} · pending ${entry.pending} · available ${entry.available}`,
      ...linked,
      ...(entry.reference === null ? [] : [' · reference: ', userText(entry.reference)]),
    ),
  );
}

/** The transaction's owner's account in its currency: balances and the last entries. */
async function loadAccount(transaction) {
  const problemBox = byId('account-problem');
  clearProblem(problemBox);
  byId('account-fields').replaceChildren();
  byId('account-entries').replaceChildren();
  byId('account-title').replaceChildren(
    'Account of ',
    userText(transaction.owner),
    ` in ${transaction.currency}`,
  );
  const owner = encodeURIComponent(transaction.owner);
  const [accounts, entries] = await Promise.allSettled([
    api(`/v1/support/accounts/${owner}`),
    api(
      `/v1/support/accounts/${owner}/${transaction.currency}/entries?limit=${ACCOUNT_ENTRIES_SHOWN}`,
    ),
  ]);
  if (openTransactionId !== transaction.transactionId) return;
  if (accounts.status === 'rejected') {
    showProblem(problemBox, accounts.reason);
    return;
  }
  const account = accounts.value.accounts.find((a) => a.currency === transaction.currency);
  if (!account) {
    byId('account-source').textContent = `The owner has no ${transaction.currency} account.`;
    return;
  }
  byId('account-source').textContent = `Minor units of ${transaction.currency}.`;
  byId('account-fields').replaceChildren(
    ...ACCOUNT_FIELDS.flatMap(([label, valueOf]) => [
      element('dt', {}, label),
      element('dd', {}, valueOf(account)),
    ]),
  );
  if (entries.status === 'rejected') showProblem(problemBox, entries.reason);
  else byId('account-entries').replaceChildren(...entries.value.items.map(entryItem));
}

async function openTransaction(transactionId) {
  openTransactionId = transactionId;
  const problemBox = byId('detail-problem');
  clearProblem(problemBox);
  clearProblem(byId('resolve-problem'));
  byId('resolve-form').reset();
  const isAuditor = rolesOf(token).includes('auditor');
  const [view, events] = await Promise.allSettled([
    api(`/v1/support/transactions/${encodeURIComponent(transactionId)}`),
    isAuditor
      ? api(`/v1/audit/transactions/${encodeURIComponent(transactionId)}/events`)
      : Promise.resolve(null),
  ]);
  if (openTransactionId !== transactionId) return;
  byId('detail').hidden = false;
  if (view.status === 'rejected') {
    byId('detail-title').textContent = 'Transaction';
    byId('detail-fields').replaceChildren();
    byId('timeline').replaceChildren();
    byId('timeline-source').textContent = '';
    byId('resolve-form').hidden = true;
    showProblem(problemBox, view.reason);
  } else {
    renderDetail(view.value);
    void loadAccount(view.value);
    if (events.status === 'fulfilled' && events.value) renderEvents(events.value.events);
    else
      renderSummaryTimeline(
        view.value,
        isAuditor
          ? `The raw events could not be read (${events.reason.message}); the summary's times instead.`
          : 'The raw events need the auditor role; the summary’s times instead.',
      );
  }
  byId('detail-title').focus();
}

async function resolveOpenTransaction(form) {
  const problemBox = byId('resolve-problem');
  clearProblem(problemBox);
  const fields = new FormData(form);
  const transactionId = openTransactionId;
  const submit = form.querySelector('button[type="submit"]');
  submit.disabled = true;
  try {
    const resolved = await api(
      `/v1/support/transactions/${encodeURIComponent(transactionId)}/resolution`,
      {
        method: 'POST',
        body: {
          status: fields.get('status'),
          note: fields.get('note'),
          checkProviderFirst: fields.get('checkProviderFirst') === 'on',
        },
      },
    );
    announce(['Resolved ', userText(resolved.owner), ` / ${resolved.id}: now ${resolved.status}.`]);
    await openTransaction(transactionId);
    await loadQueue();
  } catch (error) {
    // Someone else settled it: show what it is now (no resolve form), then why this was refused.
    if (error instanceof ProblemError && error.problem.status === 409) {
      await openTransaction(transactionId);
      await loadQueue();
    }
    showProblem(problemBox, error);
  } finally {
    submit.disabled = false;
  }
}

function showSignedIn() {
  const claims = claimsOf(token);
  byId('subject').replaceChildren(userText(claims?.sub ?? 'unknown'));
  byId('roles').textContent = `(${rolesOf(token).join(', ') || 'no role'})`;
  byId('signed-in-as').hidden = false;
  byId('sign-in').hidden = true;
  byId('workspace').hidden = false;
}

function signOut(failure) {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  openTransactionId = null;
  byId('signed-in-as').hidden = true;
  byId('workspace').hidden = true;
  byId('detail').hidden = true;
  byId('sign-in').hidden = false;
  if (failure) showProblem(byId('sign-in-problem'), failure);
  if (failure) announce('Signed out: the service refused the token.', 'error');
  else announce('Signed out.');
}

/** The queue is the first call: it proves the token carries the support role. */
async function enterWorkspace() {
  try {
    renderQueue(await fetchQueuePage(null));
  } catch (error) {
    signOut(error);
    return;
  }
  clearProblem(byId('sign-in-problem'));
  showSignedIn();
  announce('Signed in.');
}

byId('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const pasted = byId('token').value.trim();
  if (claimsOf(pasted) === null) {
    const notAToken = new ProblemError({
      title: 'That is not a token',
      detail: 'Paste the whole JWT: three parts separated by dots.',
    });
    showProblem(byId('sign-in-problem'), notAToken);
    return;
  }
  token = pasted;
  sessionStorage.setItem(TOKEN_KEY, token);
  byId('token').value = '';
  void enterWorkspace();
});

byId('sign-out').addEventListener('click', () => signOut());
byId('queue-refresh').addEventListener('click', () => void loadQueue());
byId('queue-more').addEventListener('click', () => void loadQueue({ more: true }));

byId('search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  searchQuery = searchParamsFrom(event.currentTarget);
  void loadSearch();
});
byId('search-more').addEventListener('click', () => void loadSearch({ more: true }));

// One listener for every row's button, including rows added later.
document.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-transaction-id]');
  if (button) void openTransaction(button.dataset.transactionId);
});

byId('resolve-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void resolveOpenTransaction(event.currentTarget);
});

if (token) void enterWorkspace();
