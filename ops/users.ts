/**
 * `payments-ops users ...`: back-office users and their access tokens. Tokens are printed once, on
 * stdout (as JSON, for scripts); only their hashes are stored, so a lost token is replaced, never shown
 * again. Needs the platform's PostgreSQL (DATABASE_URL), like every database command.
 */
import { InvalidArgumentError, type Command } from 'commander';
import {
  createBackofficeUser,
  disableBackofficeUser,
  issueAccessToken,
  ROLE_NAMES,
  ROLES,
  type IssuedToken,
} from '../backoffice/index.js';
import { connect } from './connect.js';

function role(value: string, previous: string[]): string[] {
  if (!(ROLE_NAMES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`unknown role "${value}"; one of ${ROLE_NAMES.join(', ')}`);
  return [...previous, value];
}

function kind(value: string): 'merchant' | 'platform' {
  if (value !== 'merchant' && value !== 'platform')
    throw new InvalidArgumentError('must be merchant or platform');
  return value;
}

function days(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 3650)
    throw new InvalidArgumentError('must be a whole number of days (1-3650)');
  return n;
}

const expiry = (expiresInDays: number | undefined): Date | null =>
  expiresInDays === undefined ? null : new Date(Date.now() + expiresInDays * 86_400_000);

async function withDatabase<T>(
  work: (knex: NonNullable<Awaited<ReturnType<typeof connect>>['database']>['knex']) => Promise<T>,
): Promise<T> {
  const connection = await connect({ broker: false, database: true });
  try {
    return await work(connection.database!.knex);
  } finally {
    await connection.close();
  }
}

function printToken(issued: IssuedToken, extra: Record<string, unknown>): void {
  process.stdout.write(
    `${JSON.stringify({ ...extra, userId: issued.userId, tokenId: issued.tokenId, token: issued.token, expiresAt: issued.expiresAt?.toISOString() ?? null })}\n`,
  );
  process.stderr.write('Store the token now: it is shown only this once (only its hash is kept).\n');
}

export function registerUserCommands(program: Command): void {
  const users = program
    .command('users')
    .description('Back-office users (merchant staff and platform staff) and their access tokens');

  users
    .command('create')
    .description('Create a back-office user and print their first access token (once)')
    .requiredOption('--email <email>', 'the user’s email (unique)')
    .requiredOption('--kind <kind>', 'merchant (bound to one merchant) or platform (staff)', kind)
    .requiredOption(
      '--role <role>',
      `role to grant (repeatable): ${ROLE_NAMES.join(', ')}`,
      role,
      [] as string[],
    )
    .option('--merchant <merchantId>', 'the merchant of a merchant user')
    .option(
      '--expires-in-days <days>',
      'token lifetime (default: no expiry; revoke by disabling the user)',
      days,
    )
    .addHelpText(
      'after',
      `
Roles:
${Object.entries(ROLES)
  .map(([name, r]) => `  ${name.padEnd(20)} ${r.kind.padEnd(9)} ${r.description}`)
  .join('\n')}

Examples:
  payments-ops users create --email agent@psp.example --kind platform --role support --expires-in-days 90
  payments-ops users create --email dev@shop.example --kind merchant --merchant m_3f9c --role merchant_developer`,
    )
    .action(
      async (options: {
        email: string;
        kind: 'merchant' | 'platform';
        role: string[];
        merchant?: string;
        expiresInDays?: number;
      }) => {
        const issued = await withDatabase((knex) =>
          createBackofficeUser(knex, {
            email: options.email,
            kind: options.kind,
            roles: options.role,
            merchantId: options.merchant ?? null,
            tokenExpiresAt: expiry(options.expiresInDays),
          }),
        );
        printToken(issued, {
          email: options.email.trim().toLowerCase(),
          kind: options.kind,
          merchantId: options.merchant ?? null,
          roles: options.role,
        });
      },
    );

  users
    .command('token')
    .description('Issue another access token for a user (rotation), printed once')
    .requiredOption('--email <email>', 'the user’s email')
    .option('--expires-in-days <days>', 'token lifetime', days)
    .option('--label <label>', 'what the token is for')
    .action(async (options: { email: string; expiresInDays?: number; label?: string }) => {
      const issued = await withDatabase((knex) =>
        issueAccessToken(knex, options.email, {
          expiresAt: expiry(options.expiresInDays),
          ...(options.label ? { label: options.label } : {}),
        }),
      );
      printToken(issued, { email: options.email.trim().toLowerCase() });
    });

  users
    .command('disable')
    .description('Disable a user and revoke all their tokens now')
    .requiredOption('--email <email>', 'the user’s email')
    .action(async (options: { email: string }) => {
      const disabled = await withDatabase((knex) => disableBackofficeUser(knex, options.email));
      if (!disabled) throw new InvalidArgumentError(`no back-office user with email ${options.email}`);
      process.stdout.write(
        `${JSON.stringify({ email: options.email.trim().toLowerCase(), disabled: true })}\n`,
      );
    });
}
