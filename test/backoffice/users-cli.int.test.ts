/**
 * `payments-ops users ...` as ops run it (the installed bin, a child process, PostgreSQL): the token is
 * printed once and works against the API; the database keeps only its hash; bad input is refused with
 * a message and a non-zero exit; disabling a user revokes the token.
 */
import { expect } from 'chai';
import type { Database } from '../../adapters/db/index.js';
import { authenticateAccessToken } from '../../backoffice/index.js';
import { backendEnv } from '../support/backends.js';
import { databaseUrlForSchema, runOpsCli } from '../support/cli.js';
import { createTestDatabase } from '../support/database.js';
import { insertMerchant } from '../support/fixtures.js';

describe('payments-ops users (postgres)', function () {
  this.timeout(120_000);
  let database: Database;
  let schema: string | undefined;
  let release: () => Promise<void>;
  let env: Record<string, string>;

  before(async function () {
    ({ database, schema, release } = await createTestDatabase('postgres', this));
    env = { DATABASE_URL: databaseUrlForSchema(backendEnv.postgresUrl!, schema!) };
  });
  after(async () => release?.());

  it('creates a merchant user and prints a working token once; only its hash is stored', async () => {
    const merchantId = await insertMerchant(database.knex);
    const result = await runOpsCli(
      [
        'users',
        'create',
        '--email',
        'Dev@Shop.example',
        '--kind',
        'merchant',
        '--merchant',
        merchantId,
        '--role',
        'merchant_developer',
        '--expires-in-days',
        '30',
      ],
      env,
    );
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.match(/shown only this once/);
    const printed = JSON.parse(result.stdout) as Record<string, string>;
    expect(printed).to.include({ email: 'dev@shop.example', kind: 'merchant', merchantId });
    expect(printed.token).to.match(/^pbo_[0-9a-f]{16}_[0-9a-f]{64}$/);
    expect(new Date(printed.expiresAt!).getTime()).to.be.greaterThan(Date.now() + 29 * 86_400_000);

    const check = await authenticateAccessToken(database.knex, printed.token!);
    expect(check.ok && check.principal).to.deep.include({
      merchantId,
      kind: 'merchant',
      email: 'dev@shop.example',
    });
    const stored = JSON.stringify(await database.knex('backoffice_access_tokens').select());
    expect(stored).not.to.include(printed.token!.slice(-64));
  });

  it('refuses roles that do not fit the kind of user, and duplicate emails', async () => {
    const wrong = await runOpsCli(
      ['users', 'create', '--email', 'a@psp.example', '--kind', 'platform', '--role', 'merchant_user'],
      env,
    );
    expect(wrong.code).to.not.equal(0);
    expect(wrong.stderr).to.match(/role "merchant_user" is for merchant users/);
    const unknown = await runOpsCli(
      ['users', 'create', '--email', 'a@psp.example', '--kind', 'platform', '--role', 'root'],
      env,
    );
    expect(unknown.code).to.not.equal(0);
    expect(unknown.stderr).to.match(/unknown role "root"/);

    const first = await runOpsCli(
      ['users', 'create', '--email', 'agent@psp.example', '--kind', 'platform', '--role', 'support'],
      env,
    );
    expect(first.code, first.stderr).to.equal(0);
    const again = await runOpsCli(
      ['users', 'create', '--email', 'AGENT@psp.example', '--kind', 'platform', '--role', 'viewer'],
      env,
    );
    expect(again.code).to.not.equal(0);
    expect(again.stderr).to.match(/already exists/);
  });

  it('issues a second token, and disabling the user revokes both', async () => {
    const created = await runOpsCli(
      ['users', 'create', '--email', 'ops@psp.example', '--kind', 'platform', '--role', 'ops'],
      env,
    );
    const second = await runOpsCli(
      ['users', 'token', '--email', 'ops@psp.example', '--label', 'laptop'],
      env,
    );
    expect(second.code, second.stderr).to.equal(0);
    const tokens = [created, second].map((r) => (JSON.parse(r.stdout) as { token: string }).token);
    for (const token of tokens)
      expect((await authenticateAccessToken(database.knex, token)).ok).to.equal(true);

    const disabled = await runOpsCli(['users', 'disable', '--email', 'ops@psp.example'], env);
    expect(disabled.code, disabled.stderr).to.equal(0);
    for (const token of tokens) {
      const check = await authenticateAccessToken(database.knex, token);
      expect(check.ok).to.equal(false);
    }
  });
});
