/**
 * The benchmark tooling's pure parts: percentiles, and the pgbench script built from captured SQL
 * (pgbench rewrites every `:word`, even inside string literals, so literals must hide their colons).
 * Benchmarks themselves never run in the test suite.
 */
import { expect } from 'chai';
import { pgbenchScript, sqlLiteral } from '../../bench/support/pgbench-script.js';
import { reachableRate } from '../../bench/support/settings.js';
import { percentile, summarize } from '../../bench/support/stats.js';

describe('benchmark support', () => {
  it('takes nearest-rank percentiles over every sample', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(
      percentile(
        [...values].sort((a, b) => a - b),
        50,
      ),
    ).to.equal(50);
    expect(summarize(values)).to.include({ count: 100, p50: 50, p99: 99, max: 100, mean: 50.5 });
    expect(summarize([]).count).to.equal(0);
  });

  it('writes literals pgbench leaves alone: no bare colon, quotes doubled, bytes as hex', () => {
    expect(sqlLiteral('plain')).to.equal(`'plain'`);
    expect(sqlLiteral(`{"a":null,"b":"it's"}`)).to.equal(`E'{"a"\\x3anull,"b"\\x3a"it''s"}'`);
    expect(sqlLiteral('back\\slash:x')).to.equal(`E'back\\\\slash\\x3ax'`);
    expect(sqlLiteral(Buffer.from([0xde, 0xad]))).to.equal(`'\\xdead'::bytea`);
    expect(sqlLiteral(new Date('2026-01-02T03:04:05.006Z'))).to.equal(`E'2026-01-02T03\\x3a04\\x3a05.006Z'`);
    expect(sqlLiteral(null)).to.equal('NULL');
  });

  it('replays captured statements with their values, unique values made per-transaction', () => {
    const script = pgbenchScript(
      [
        { sql: 'BEGIN;' },
        { sql: 'insert into "t" ("id", "n", "doc") values ($1, $2, $3)', bindings: ['tx_1', 10, '{"k":1}'] },
        { sql: 'update "t" set "n" = "n" + $1 where "id" = $2', bindings: [2, 'tx_1'] },
        { sql: 'COMMIT;' },
      ],
      [{ value: 'tx_1', expression: `('tx_' || :bench_seq::text)` }],
    );
    expect(script.split('\n')).to.deep.equal([
      '\\set bench_seq random(1, 999999999999999)',
      'BEGIN;',
      `insert into "t" ("id", "n", "doc") values (('tx_' || :bench_seq::text), 10, E'{"k"\\x3a1}');`,
      `update "t" set "n" = "n" + 2 where "id" = ('tx_' || :bench_seq::text);`,
      'COMMIT;',
      '',
    ]);
  });

  it('runs the fixed-rate phase at the requested rate only when the gateway can sustain it', () => {
    expect(reachableRate(1000, 1500)).to.equal(1000);
    expect(reachableRate(1000, 400)).to.equal(280);
    expect(reachableRate(1000, 5)).to.equal(10);
  });
});
