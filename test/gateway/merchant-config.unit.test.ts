import { expect } from 'chai';
import { DEV_SESSION_TOKEN_SECRET, loadConfig } from '../../core/config/index.js';
import { ConfigError } from '../../core/errors.js';

describe('merchant API configuration', () => {
  const secret = 'a'.repeat(32);

  it('uses a published development secret, flagged, when SESSION_TOKEN_SECRET is unset outside production', () => {
    const { merchantApi } = loadConfig({ DEMO: 'off' });
    expect(merchantApi).to.deep.equal({
      sessionTokenSecrets: [DEV_SESSION_TOKEN_SECRET],
      sessionTokenSecretIsDevDefault: true,
      sessionTtlSeconds: 1800,
      maxBodyBytes: 65_536,
      allowHttpLoopbackUrls: false,
      databaseTimeoutMs: 5_000,
      apiKeyCacheSeconds: 5,
    });
  });

  it('reads rotating secrets newest first and the limits', () => {
    const { merchantApi } = loadConfig({
      SESSION_TOKEN_SECRET: `${secret}, ${'b'.repeat(40)}`,
      PAYMENT_SESSION_TTL_SECONDS: '600',
      MERCHANT_API_MAX_BODY_BYTES: '2048',
      MERCHANT_API_ALLOW_HTTP_LOOPBACK: 'true',
      MERCHANT_API_DB_TIMEOUT_MS: '250',
      MERCHANT_API_KEY_CACHE_SECONDS: '0',
    });
    expect(merchantApi).to.deep.equal({
      sessionTokenSecrets: [secret, 'b'.repeat(40)],
      sessionTokenSecretIsDevDefault: false,
      sessionTtlSeconds: 600,
      maxBodyBytes: 2048,
      allowHttpLoopbackUrls: true,
      databaseTimeoutMs: 250,
      apiKeyCacheSeconds: 0,
    });
  });

  const failures: Array<[Record<string, string>, RegExp]> = [
    [{ NODE_ENV: 'production', SERVICES: 'gateway' }, /^SESSION_TOKEN_SECRET must be set in production/],
    [
      { NODE_ENV: 'production', SESSION_TOKEN_SECRET: DEV_SESSION_TOKEN_SECRET },
      /must not be the published development secret/,
    ],
    [{ SESSION_TOKEN_SECRET: 'short' }, /^SESSION_TOKEN_SECRET must list secrets of at least 32 characters/],
    [{ PAYMENT_SESSION_TTL_SECONDS: '10' }, /^PAYMENT_SESSION_TTL_SECONDS must be >= 60/],
    [
      { MERCHANT_API_ALLOW_HTTP_LOOPBACK: 'maybe' },
      /^MERCHANT_API_ALLOW_HTTP_LOOPBACK must be true or false/,
    ],
  ];
  for (const [env, message] of failures) {
    it(`fails fast naming the variable: ${JSON.stringify(env)}`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }

  it('does not ask services without the Merchant API for the secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', SERVICES: 'relay' })).not.to.throw();
  });
});
