import { expect } from 'chai';
import {
  TRANSACTION_STATUSES,
  TRANSITIONS,
  canTransition,
  isTerminal,
  merchantStatus,
} from '../../core/transactions/index.js';

describe('transaction state machine', () => {
  it('never lets a terminal status change', () => {
    for (const status of TRANSACTION_STATUSES.filter(isTerminal)) {
      for (const to of TRANSACTION_STATUSES)
        expect(canTransition(status, to), `${status} -> ${to}`).to.equal(false);
    }
  });

  it('reaches a terminal status from every non-terminal one, and never goes back to CREATED', () => {
    for (const status of TRANSACTION_STATUSES.filter((s) => !isTerminal(s))) {
      expect(TRANSITIONS[status].some(isTerminal), status).to.equal(true);
    }
    for (const status of TRANSACTION_STATUSES) expect(canTransition(status, 'CREATED')).to.equal(false);
  });

  it('shows merchants only pending or a final outcome', () => {
    expect(TRANSACTION_STATUSES.map(merchantStatus)).to.deep.equal([
      'pending',
      'pending',
      'pending',
      'pending',
      'approved',
      'declined',
      'rejected',
      'expired',
    ]);
  });
});
