/** Our decline codes as Adyen refusal reasons (`refusalReason`, `refusalReasonCode`). Pure. */

const REFUSALS: Record<string, { reason: string; code: string }> = {
  card_declined: { reason: 'Refused', code: '2' },
  insufficient_funds: { reason: 'Not enough balance', code: '5' },
  expired_card: { reason: 'Expired Card', code: '6' },
  fraud: { reason: 'FRAUD', code: '20' },
  canceled: { reason: 'Cancelled', code: '0' },
};

export function adyenRefusal(code: string | null): { reason: string; code: string } {
  return REFUSALS[code ?? 'card_declined'] ?? { reason: code ?? 'Refused', code: '2' };
}
