/* global document, window, fetch, URL */
/**
 * Hosted payment page client (no framework, no build step). Polls `<page>/state` with backoff, shows
 * one view at a time, renders the form the server describes, checks it with the browser's own
 * constraint validation before sending, and follows a redirect only to http(s) URLs. The DOM is built
 * with textContent/attributes only (never innerHTML), so nothing from the server can become markup.
 */
(() => {
  'use strict';

  const base = window.location.pathname.replace(/\/+$/, '');
  const STATE_URL = `${base}/state`;
  const SUBMIT_URL = `${base}/customer-data`;
  const GROWTH = 1.5;
  const MAX_DELAY_MS = 8000;
  const MAX_ERROR_DELAY_MS = 30000;

  let lastKey = null;
  let fieldsKey = null;
  let delayMs = 0;
  let errorDelayMs = 1000;
  let timer = null;
  let submitting = false;

  const byId = (id) => document.getElementById(id);

  function show(view) {
    for (const section of document.querySelectorAll('section[data-view]')) {
      section.hidden = section.dataset.view !== view;
    }
    document.body.dataset.state = view;
  }

  function schedule(ms) {
    if (timer !== null) window.clearTimeout(timer);
    timer = window.setTimeout(poll, ms);
  }

  function connectionTrouble(on) {
    byId('connection-notice').hidden = !on;
  }

  function retryAfterMs(response, fallback) {
    const seconds = Number(response.headers.get('Retry-After'));
    return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : fallback;
  }

  function retryLater(ms) {
    errorDelayMs = Math.min(errorDelayMs * 2, MAX_ERROR_DELAY_MS);
    schedule(ms ?? errorDelayMs);
  }

  async function poll() {
    timer = null;
    if (submitting) return schedule(1000);
    let response;
    try {
      response = await fetch(STATE_URL, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    } catch {
      connectionTrouble(true);
      return retryLater();
    }
    if (response.status === 404) return show('invalid');
    if (response.status === 429) return retryLater(retryAfterMs(response, errorDelayMs));
    if (!response.ok) {
      connectionTrouble(true);
      return retryLater();
    }
    let view;
    try {
      view = await response.json();
    } catch {
      return retryLater();
    }
    connectionTrouble(false);
    errorDelayMs = 1000;
    render(view);
  }

  /** Shows a state; keeps polling (slower each time nothing changes) until the state is final. */
  function render(view) {
    const key = `${view.state}|${JSON.stringify(view.fields ?? null)}`;
    const hint = Number(view.pollAfterMs) || 0;
    delayMs = key === lastKey ? Math.min(Math.max(delayMs * GROWTH, hint), MAX_DELAY_MS) : hint;
    lastKey = key;
    switch (view.state) {
      case 'form':
        renderForm(view.fields ?? []);
        show('form');
        break;
      case 'redirect':
        return navigate(view.redirectUrl);
      case 'completed':
      case 'failed':
      case 'expired':
        setReturnLinks(view.returnUrl);
        show(view.state);
        return;
      default:
        show('loading');
    }
    if (hint > 0) schedule(delayMs);
  }

  function httpUrl(value) {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch {
      return null;
    }
  }

  function navigate(target) {
    const url = httpUrl(target);
    if (!url) {
      show('loading');
      return schedule(MAX_DELAY_MS);
    }
    byId('redirect-link').href = url;
    show('redirect');
    window.location.assign(url);
  }

  function setReturnLinks(target) {
    const url = target ? httpUrl(target) : null;
    for (const link of document.querySelectorAll('[data-return]')) {
      if (url) link.href = url;
      link.hidden = !url;
    }
  }

  // ---- the form -------------------------------------------------------------------------------

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** (Re)builds the inputs only when the requested fields change, so typed values survive polls. */
  function renderForm(fields) {
    const key = JSON.stringify(fields);
    if (key === fieldsKey) return;
    fieldsKey = key;
    const container = byId('fields');
    container.replaceChildren();
    for (const field of fields) {
      const id = `field-${field.name}`;
      const wrapper = element('div', { class: 'field' });
      const label = element('label', { for: id }, field.label);
      if (!field.required) label.append(element('span', { class: 'optional' }, ' (optional)'));
      const described = [];
      const input = element('input', {
        id,
        name: field.name,
        type: field.type,
        required: field.required,
        pattern: field.pattern,
        maxlength: field.type === 'number' || field.type === 'date' ? null : field.maxLength,
        step: field.type === 'number' ? 'any' : null,
        autocomplete: field.autocomplete ?? 'off',
        inputmode: field.inputMode,
        spellcheck: 'false',
      });
      wrapper.append(label);
      if (field.hint) {
        wrapper.append(element('p', { class: 'hint', id: `${id}-hint` }, field.hint));
        described.push(`${id}-hint`);
      }
      wrapper.append(input);
      wrapper.append(element('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
      described.push(`${id}-error`);
      input.setAttribute('aria-describedby', described.join(' '));
      input.addEventListener('input', () => setFieldError(input, null));
      container.append(wrapper);
    }
  }

  const MESSAGES = {
    required: 'Please fill in this field.',
    invalid_format: 'Please check the format of this field.',
    pattern_mismatch: 'Please check the format of this field.',
    too_long: 'This is too long.',
    not_text: 'Please check this field.',
  };

  function browserMessage(input) {
    const v = input.validity;
    if (v.valueMissing) return MESSAGES.required;
    if (v.typeMismatch && input.type === 'email') return 'Please enter a valid email address.';
    if (v.badInput && input.type === 'number') return 'Please enter a number.';
    if (v.badInput && input.type === 'date') return 'Please enter a valid date.';
    if (v.tooLong) return MESSAGES.too_long;
    return MESSAGES.invalid_format;
  }

  function setFieldError(input, message) {
    const error = byId(`${input.id}-error`);
    if (!error) return;
    error.textContent = message ?? '';
    error.hidden = !message;
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  function setFormError(message) {
    const error = byId('form-error');
    error.textContent = message ?? '';
    error.hidden = !message;
  }

  function inputs() {
    return Array.from(byId('fields').querySelectorAll('input'));
  }

  async function submit(event) {
    event.preventDefault();
    if (submitting) return;
    setFormError(null);
    const invalid = inputs().filter((input) => !input.checkValidity());
    for (const input of inputs()) setFieldError(input, input.checkValidity() ? null : browserMessage(input));
    if (invalid.length > 0) {
      invalid[0].focus();
      return;
    }
    const values = {};
    for (const input of inputs()) values[input.name] = input.value;

    submitting = true;
    const button = byId('submit-button');
    button.disabled = true;
    try {
      const response = await fetch(SUBMIT_URL, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ values }),
        cache: 'no-store',
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) return render(body);
      if (response.status === 422 && Array.isArray(body.errors)) return showServerErrors(body.errors);
      if (response.status === 404) return show('invalid');
      // The session moved on (already submitted elsewhere, finished, expired): show where it stands.
      if (response.status === 409 || response.status === 410) return schedule(0);
      if (response.status === 429) return setFormError('Please wait a moment and try again.');
      setFormError('Something went wrong. Please try again.');
    } catch {
      setFormError('Connection problem. Please check your connection and try again.');
    } finally {
      submitting = false;
      button.disabled = false;
    }
  }

  function showServerErrors(errors) {
    let first = null;
    let unplaced = false;
    for (const error of errors) {
      const input = byId(`field-${error.field}`);
      if (input) {
        setFieldError(input, MESSAGES[error.code] ?? MESSAGES.invalid_format);
        first ??= input;
      } else {
        unplaced = true;
      }
    }
    if (unplaced || !first) setFormError('Please check your details and try again.');
    first?.focus();
  }

  byId('customer-form').addEventListener('submit', submit);
  show('loading');
  poll();
})();
