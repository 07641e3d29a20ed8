/**
 * The simulator-hosted "provider page" a redirect answer points to: `GET /<provider>/checkout/:id` shows
 * the payment with Pay / Cancel buttons; `POST` completes it (once: a second submit changes nothing),
 * fires the scripted callbacks and redirects (303) to the return URL with the provider's query parameters.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { FrontEndDeps, ProviderFrontEnd } from './front-end.js';
import { readBody } from './http.js';
import type { SimPayment } from './model.js';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:";

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function formatAmount(payment: SimPayment): string {
  const { amountMinor, currency } = payment.input;
  return `${(amountMinor / 100).toFixed(2)} ${currency}`;
}

export function returnUrlOf(frontEnd: ProviderFrontEnd, payment: SimPayment): string | null {
  if (!payment.input.returnUrl) return null;
  const url = new URL(payment.input.returnUrl);
  for (const [name, value] of Object.entries(frontEnd.returnParams(payment)))
    url.searchParams.set(name, value);
  return url.toString();
}

export function checkoutPage(frontEnd: ProviderFrontEnd, payment: SimPayment): string {
  const waiting = payment.status === 'requires_action';
  const back = returnUrlOf(frontEnd, payment);
  const body = waiting
    ? `<form method="post">
  <button type="submit" name="action" value="pay" id="pay">Pay ${escapeHtml(formatAmount(payment))}</button>
  <button type="submit" name="action" value="cancel" id="cancel">Cancel</button>
</form>`
    : `<p id="status">This payment is ${escapeHtml(payment.status)}.</p>${
        back ? `<p><a id="back" href="${escapeHtml(back)}">Back to the shop</a></p>` : ''
      }`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(frontEnd.id)} checkout</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto}button{font-size:1rem;margin-right:.5rem}</style>
</head>
<body>
<h1>${escapeHtml(frontEnd.id)} (simulated provider)</h1>
<p>Amount: <strong id="amount">${escapeHtml(formatAmount(payment))}</strong></p>
<p>Reference: <code>${escapeHtml(payment.input.reference ?? payment.id)}</code></p>
${body}
</body>
</html>
`;
}

function sendHtml(ctx: Context, status: number, html: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = html;
}

const NOT_FOUND = '<!doctype html><html lang="en"><title>Not found</title><p>No such payment.</p></html>';

export function mountCheckout(router: Router, frontEnd: ProviderFrontEnd, deps: FrontEndDeps): void {
  const path = `/${frontEnd.id}/checkout/:id`;
  router.get(path, (ctx) => {
    const payment = deps.state.payment(frontEnd.id, ctx.params.id ?? '');
    if (!payment) return sendHtml(ctx, 404, NOT_FOUND);
    sendHtml(ctx, 200, checkoutPage(frontEnd, payment));
  });
  router.post(path, async (ctx) => {
    const payment = deps.state.payment(frontEnd.id, ctx.params.id ?? '');
    if (!payment) return sendHtml(ctx, 404, NOT_FOUND);
    const body = await readBody(ctx, { allowForm: true });
    const action = body.ok && body.value.action === 'cancel' ? 'cancel' : 'pay';
    if (deps.flow.complete(payment, action)) {
      deps.logger.info('checkout completed by the customer', {
        provider: frontEnd.id,
        paymentId: payment.id,
        action,
      });
    }
    const back = returnUrlOf(frontEnd, payment);
    if (!back) return sendHtml(ctx, 200, checkoutPage(frontEnd, payment));
    ctx.status = 303;
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(back);
  });
}
