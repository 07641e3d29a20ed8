/** Rows the domain tests need: a merchant and a bare transaction, inserted directly. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

export async function insertMerchant(knex: Knex, id = `m_${randomUUID().slice(0, 8)}`): Promise<string> {
  await knex('merchants').insert({ id, name: `Merchant ${id}` });
  return id;
}

export async function insertTransaction(
  knex: Knex,
  merchantId: string,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const id = (overrides.id as string | undefined) ?? `tx_${randomUUID()}`;
  await knex('transactions').insert({
    id,
    merchant_id: merchantId,
    merchant_transaction_id: `order-${randomUUID()}`,
    request_hash: 'test',
    amount_minor: 1000,
    currency: 'EUR',
    payment_method: 'card',
    status: 'CREATED',
    ...overrides,
  });
  return id;
}
