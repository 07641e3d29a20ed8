import { expect } from 'chai';
import fc from 'fast-check';
import {
  accessTokenId,
  accessTokenMatches,
  hashAccessToken,
  mintAccessToken,
} from '../../backoffice/access-token.js';
import {
  MERCHANT_GRANTABLE,
  PERMISSIONS,
  permissionsOf,
  ROLE_NAMES,
  ROLES,
  roleProblem,
} from '../../backoffice/permissions.js';
import { viewFor, type Principal } from '../../backoffice/principal.js';

const principal = (kind: 'merchant' | 'platform', roles: string[]): Principal => ({
  userId: 'bou_1',
  email: 'a@example.test',
  kind,
  merchantId: kind === 'merchant' ? 'm_1' : null,
  roles,
  permissions: permissionsOf(kind, roles),
  tokenId: 'pbo_0000000000000000',
});

describe('back-office roles and permissions', () => {
  it('grants what each role lists', () => {
    expect([...permissionsOf('platform', ['viewer'])]).to.deep.equal(['transactions:read']);
    expect([...permissionsOf('platform', ['support'])].sort()).to.deep.equal([
      'timeline:read_internal',
      'transactions:read',
      'transactions:read_internal',
      'webhooks:resend',
    ]);
    expect([...permissionsOf('platform', ['support', 'ops'])]).to.include('failed_events:read');
    expect([...permissionsOf('merchant', ['merchant_user'])]).to.deep.equal(['transactions:read']);
  });

  it('never gives a merchant user an internal permission, whatever roles are stored', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...ROLE_NAMES), fc.string())), (roles) => {
        for (const permission of permissionsOf('merchant', roles))
          expect(MERCHANT_GRANTABLE.has(permission)).to.equal(true);
        expect(viewFor(principal('merchant', roles), 'timeline:read_internal')).to.equal('merchant');
        expect(viewFor(principal('merchant', roles), 'transactions:read_internal')).to.equal('merchant');
      }),
    );
  });

  it('ignores unknown roles and roles meant for the other kind of user', () => {
    expect(permissionsOf('platform', ['merchant_developer', 'root'])).to.have.property('size', 0);
    expect(permissionsOf('merchant', ['support'])).to.have.property('size', 0);
  });

  it('refuses to create users with roles that do not fit', () => {
    expect(roleProblem('platform', ['support'])).to.equal(null);
    expect(roleProblem('merchant', [])).to.match(/at least one role/);
    expect(roleProblem('merchant', ['support'])).to.match(/for platform users/);
    expect(roleProblem('platform', ['superuser'])).to.match(/unknown role/);
  });

  it('only lists known permissions in roles', () => {
    for (const role of Object.values(ROLES))
      for (const permission of role.permissions) expect(PERMISSIONS).to.include(permission);
  });

  it('gives internal views only to platform users holding the permission', () => {
    expect(viewFor(principal('platform', ['support']), 'timeline:read_internal')).to.equal('internal');
    expect(viewFor(principal('platform', ['viewer']), 'timeline:read_internal')).to.equal('merchant');
  });
});

describe('back-office access tokens', () => {
  it('mints pbo_<id>_<secret> tokens whose id parses and whose hash matches', () => {
    const minted = mintAccessToken();
    expect(minted.token).to.match(/^pbo_[0-9a-f]{16}_[0-9a-f]{64}$/);
    expect(accessTokenId(minted.token)).to.equal(minted.tokenId);
    expect(minted.tokenHash).to.equal(hashAccessToken(minted.token));
    expect(minted.tokenHash).not.to.include(minted.token.slice(-64));
    expect(accessTokenMatches(minted.token, minted.tokenHash)).to.equal(true);
    expect(accessTokenMatches(`${minted.token.slice(0, -1)}0`, minted.tokenHash)).to.equal(
      minted.token.endsWith('0'),
    );
  });

  it('rejects anything that is not exactly a token before any lookup', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const id = accessTokenId(value);
        if (id !== null) expect(value).to.match(/^pbo_[0-9a-f]{16}_[0-9a-f]{64}$/);
      }),
    );
    expect(accessTokenId(`pbo_${'a'.repeat(16)}_${'b'.repeat(63)}`)).to.equal(null);
    expect(accessTokenId(`psk_live_${'a'.repeat(16)}_${'b'.repeat(64)}`)).to.equal(null);
  });
});
