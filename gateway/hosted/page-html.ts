/**
 * The hosted page's server-rendered HTML: the payment page shell (every view present, the script
 * shows one at a time) and the static notice pages (link not valid, expired) that need no script.
 * No inline script or style: the CSP allows only our own assets. Everything interpolated is escaped.
 */

export interface PageAssets {
  scriptPath: string;
  stylePath: string;
}

export interface PaymentSummary {
  merchantName: string;
  amountMinor: number;
  currency: string;
}

/** The page a live payment link opens; it starts in the loading view and polls. */
export function renderPaymentPage(summary: PaymentSummary, assets: PageAssets): string {
  const merchant = escapeHtml(summary.merchantName);
  const returnLink = `<a class="button secondary" data-return hidden>Return to ${merchant}</a>`;
  return layout(
    'Complete your payment',
    assets,
    `${summaryHeader(summary)}
    <section class="view" data-view="loading" aria-busy="true">
      <div class="spinner" aria-hidden="true"></div>
      <h1>Preparing your payment</h1>
      <p>This usually takes a few seconds. Please keep this page open.</p>
    </section>
    <section class="view" data-view="form" hidden>
      <h1>A few more details</h1>
      <p>Please provide the following to continue with your payment.</p>
      <form id="customer-form" novalidate>
        <div id="fields"></div>
        <p class="form-error" id="form-error" role="alert" hidden></p>
        <button class="button" type="submit" id="submit-button">Continue</button>
      </form>
    </section>
    <section class="view" data-view="redirect" hidden>
      <div class="spinner" aria-hidden="true"></div>
      <h1>Taking you to complete your payment</h1>
      <p>If nothing happens, <a id="redirect-link" rel="noreferrer">continue here</a>.</p>
    </section>
    <section class="view" data-view="completed" hidden>
      <h1>Payment complete</h1>
      <p>Thank you, your payment has been completed.</p>
      ${returnLink}
    </section>
    <section class="view" data-view="failed" hidden>
      <h1>Payment not completed</h1>
      <p>Your payment could not be completed. You can return to ${merchant} to try again or choose another way to pay.</p>
      ${returnLink}
    </section>
    <section class="view" data-view="expired" hidden>
      <h1>This payment session has expired</h1>
      <p>Please return to ${merchant} to start again.</p>
      ${returnLink}
    </section>
    <section class="view" data-view="invalid" hidden>
      <h1>This payment link is not valid</h1>
      <p>Please check the link or return to the shop you came from.</p>
    </section>
    <p class="notice" id="connection-notice" role="status" hidden>Connection problem, trying again…</p>`,
    true,
  );
}

/** A static page for a link that cannot be used; `returnUrl` adds a way back to the merchant. */
export function renderNoticePage(
  notice: { title: string; message: string; summary?: PaymentSummary; returnUrl?: string },
  assets: PageAssets,
): string {
  const back =
    notice.returnUrl && notice.summary
      ? `<a class="button secondary" href="${escapeHtml(notice.returnUrl)}" rel="noreferrer">Return to ${escapeHtml(notice.summary.merchantName)}</a>`
      : '';
  return layout(
    notice.title,
    assets,
    `${notice.summary ? summaryHeader(notice.summary) : ''}
    <section class="view">
      <h1>${escapeHtml(notice.title)}</h1>
      <p>${escapeHtml(notice.message)}</p>
      ${back}
    </section>`,
    false,
  );
}

function summaryHeader(summary: PaymentSummary): string {
  return `<header class="summary">
      <p class="merchant">${escapeHtml(summary.merchantName)}</p>
      <p class="amount">${escapeHtml(formatAmount(summary.amountMinor, summary.currency))}</p>
    </header>`;
}

function layout(title: string, assets: PageAssets, body: string, withScript: boolean): string {
  const script = withScript ? `\n  <script src="${escapeHtml(assets.scriptPath)}" defer></script>` : '';
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <meta name="robots" content="noindex, nofollow">
  <title>${escapeHtml(title)}</title>
  <link rel="stylesheet" href="${escapeHtml(assets.stylePath)}">${script}
</head>
<body>
  <main class="card" aria-live="polite">
    ${body}
  </main>
</body>
</html>
`;
}

/** 1234 EUR -> "€12.34"; the currency's own number of decimals (JPY has none). */
export function formatAmount(amountMinor: number, currency: string): string {
  try {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency });
    const decimals = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(amountMinor / 10 ** decimals);
  } catch {
    return `${currency} ${amountMinor}`;
  }
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
