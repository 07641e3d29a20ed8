/* global document, window, fetch, sessionStorage */
/**
 * Back-office page client (no framework, no build step). Takes an access token, shows who it belongs
 * to, looks a transaction up by platform or merchant id and shows its detail, timeline and webhooks —
 * exactly what the API returns for this token (merchant-safe or internal), nothing decided here.
 * The token lives in sessionStorage (gone with the tab) and is sent only as an Authorization header to
 * our own API. The DOM is built with textContent only (never innerHTML): nothing from the server
 * becomes markup.
 */
(() => {
  'use strict';

  const API = '/backoffice/api/v1';
  const TOKEN_KEY = 'backoffice-token';
  const byId = (id) => document.getElementById(id);
  let me = null;

  const token = () => sessionStorage.getItem(TOKEN_KEY);

  async function api(path, init = {}) {
    const response = await fetch(`${API}${path}`, {
      ...init,
      headers: { Accept: 'application/json', Authorization: `Bearer ${token()}` },
      cache: 'no-store',
      credentials: 'omit',
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error((body && body.detail) || `request failed (${response.status})`);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function message(text) {
    const box = byId('message');
    box.textContent = text || '';
    box.hidden = !text;
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function table(node, columns, rows) {
    node.replaceChildren();
    const head = element('tr');
    for (const column of columns) head.append(element('th', column.title));
    node.append(head);
    for (const row of rows) {
      const tr = element('tr');
      for (const column of columns) tr.append(element('td', column.value(row), column.className));
      node.append(tr);
    }
  }

  const json = (value) => (value && Object.keys(value).length > 0 ? JSON.stringify(value, null, 1) : '');

  async function signIn(value) {
    sessionStorage.setItem(TOKEN_KEY, value);
    try {
      me = await api('/me');
    } catch (error) {
      sessionStorage.removeItem(TOKEN_KEY);
      me = null;
      throw error;
    }
    const scope = me.kind === 'merchant' ? `merchant ${me.merchantId}` : 'platform';
    byId('who').textContent = `${me.email} — ${scope} — ${me.roles.join(', ')}`;
    byId('who').hidden = false;
    byId('sign-out').hidden = false;
    byId('sign-in').hidden = true;
    byId('lookup').hidden = false;
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    me = null;
    byId('who').hidden = true;
    byId('sign-out').hidden = true;
    byId('sign-in').hidden = false;
    byId('lookup').hidden = true;
    byId('transaction').hidden = true;
    message('');
  }

  async function findTransactionId(reference) {
    const q = encodeURIComponent(reference);
    const byPlatformId = /^[A-Za-z0-9_-]{1,100}$/.test(reference)
      ? await api(`/transactions?transactionId=${q}&limit=1`)
      : { data: [] };
    if (byPlatformId.data.length > 0) return byPlatformId.data[0].transactionId;
    const byMerchantId = /^[A-Za-z0-9._:-]{1,64}$/.test(reference)
      ? await api(`/transactions?merchantTransactionId=${q}&limit=2`)
      : { data: [] };
    if (byMerchantId.data.length === 1) return byMerchantId.data[0].transactionId;
    if (byMerchantId.data.length > 1)
      throw new Error('several merchants used this merchant transaction id: use the platform id');
    return null;
  }

  async function lookUp(reference) {
    const transactionId = await findTransactionId(reference);
    if (!transactionId) {
      byId('transaction').hidden = true;
      message('No transaction found.');
      return;
    }
    const path = `/transactions/${encodeURIComponent(transactionId)}`;
    const [detail, timeline, webhooks] = await Promise.all([
      api(path),
      api(`${path}/timeline`),
      api(`${path}/webhooks`),
    ]);
    renderDetail(detail);
    renderTimeline(timeline);
    renderWebhooks(transactionId, webhooks);
    byId('transaction').hidden = false;
    message('');
  }

  function renderDetail(detail) {
    const dl = byId('detail');
    dl.replaceChildren();
    const add = (term, value) => {
      dl.append(element('dt', term), element('dd', value));
    };
    add('Transaction id', detail.transactionId);
    add('Merchant transaction id', detail.merchantTransactionId);
    add('Merchant', detail.merchantId);
    add('Status', detail.internal ? `${detail.status} (${detail.internal.status})` : detail.status);
    add('Amount', `${detail.amount.value} ${detail.amount.currency} (minor units)`);
    add('Payment method', detail.paymentMethod);
    add('Created', detail.createdAt);
    add('Updated', detail.updatedAt);
    const internal = byId('internal');
    internal.hidden = !detail.internal;
    if (detail.internal) {
      table(
        byId('attempts'),
        [
          { title: '#', value: (a) => a.attemptNumber },
          { title: 'Provider', value: (a) => a.providerId },
          { title: 'SUB MID', value: (a) => a.subMidId },
          { title: 'State', value: (a) => a.state },
          { title: 'Outcome', value: (a) => a.outcome || a.failureKind || '' },
          { title: 'Started', value: (a) => a.startedAt },
        ],
        detail.internal.attempts,
      );
    }
  }

  function renderTimeline(timeline) {
    byId('timeline-view').textContent = timeline.view;
    table(
      byId('timeline'),
      [
        { title: 'When', value: (e) => e.occurredAt },
        { title: 'What', value: (e) => e.type },
        {
          title: 'Details',
          value: (e) => (timeline.view === 'internal' ? json(e.internal) : json(e.details)),
          className: 'details',
        },
      ],
      timeline.entries,
    );
  }

  function renderWebhooks(transactionId, webhooks) {
    const container = byId('webhooks');
    container.replaceChildren();
    if (webhooks.data.length === 0) container.append(element('p', 'No webhooks yet.'));
    const mayResend = me && me.permissions.includes('webhooks:resend');
    for (const delivery of webhooks.data) {
      const box = element('div', null, 'webhook');
      box.append(
        element(
          'p',
          `${delivery.webhookId} — ${delivery.type} — ${delivery.state} — ${delivery.attemptCount} attempt(s)`,
        ),
      );
      const attempts = element('table');
      table(
        attempts,
        [
          { title: '#', value: (a) => a.attemptNumber },
          { title: 'Trigger', value: (a) => a.trigger },
          { title: 'HTTP', value: (a) => (a.httpStatus === null ? '' : a.httpStatus) },
          { title: 'Error', value: (a) => a.errorClass || '' },
          { title: 'Finished', value: (a) => a.finishedAt },
        ],
        delivery.attempts,
      );
      box.append(attempts);
      if (mayResend) {
        const button = element('button', 'Resend');
        button.type = 'button';
        button.dataset.webhookId = delivery.webhookId;
        button.addEventListener('click', async () => {
          button.disabled = true;
          try {
            const path = `/transactions/${encodeURIComponent(transactionId)}/webhooks/${encodeURIComponent(delivery.webhookId)}/resend`;
            const queued = await api(path, { method: 'POST' });
            button.textContent =
              queued.status === 'already_queued'
                ? `Resend already queued (attempt ${queued.attemptNumber})`
                : `Resend queued (attempt ${queued.attemptNumber})`;
          } catch (error) {
            message(error.message);
            button.disabled = false;
          }
        });
        box.append(button);
      }
      container.append(box);
    }
  }

  byId('token-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = byId('token');
    try {
      await signIn(input.value.trim());
      input.value = '';
      message('');
    } catch (error) {
      message(error.status === 401 ? 'This token is not valid.' : error.message);
    }
  });

  byId('lookup-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await lookUp(byId('reference').value.trim());
    } catch (error) {
      if (error.status === 401) signOut();
      message(error.message);
    }
  });

  byId('sign-out').addEventListener('click', signOut);

  if (token()) signIn(token()).catch(() => signOut());
  window.addEventListener('pageshow', () => byId('token').focus());
})();
