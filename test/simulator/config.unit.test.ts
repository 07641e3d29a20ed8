/** The simulator's configuration: defaults next to the gateway's port, overrides, and fail-fast errors. */
import { expect } from 'chai';
import { loadConfig } from '../../core/config/index.js';
import { ConfigError } from '../../core/errors.js';
import { DEFAULT_CALLBACK_RETRY_DELAYS_MS } from '../../provider-simulator/index.js';

describe('simulator configuration', () => {
  it('defaults to the port after HTTP_PORT, reached on HTTP_HOST, with the simulator’s own retry delays', () => {
    expect(loadConfig({ HTTP_PORT: '9000' }).simulator).to.deep.equal({
      port: 9001,
      publicUrl: 'http://127.0.0.1:9001',
      autoCompleteAfterMs: undefined,
      callbackRetryDelaysMs: [...DEFAULT_CALLBACK_RETRY_DELAYS_MS],
    });
    expect(loadConfig({ HTTP_PORT: '0' }).simulator).to.deep.include({ port: 0, publicUrl: undefined });
  });

  it('reads overrides', () => {
    const config = loadConfig({
      SIMULATOR_PORT: '7000',
      SIMULATOR_PUBLIC_URL: 'https://psp-sim.example.test',
      SIMULATOR_AUTO_COMPLETE_MS: '1500',
      SIMULATOR_CALLBACK_RETRY_DELAYS_MS: '10,20',
    }).simulator;
    expect(config).to.deep.equal({
      port: 7000,
      publicUrl: 'https://psp-sim.example.test',
      autoCompleteAfterMs: 1500,
      callbackRetryDelaysMs: [10, 20],
    });
  });

  it('names the variable to fix', () => {
    for (const [env, name] of [
      [{ SIMULATOR_PORT: '70000' }, 'SIMULATOR_PORT'],
      [{ SIMULATOR_PUBLIC_URL: 'ftp://x' }, 'SIMULATOR_PUBLIC_URL'],
      [{ SIMULATOR_CALLBACK_RETRY_DELAYS_MS: '1,x' }, 'SIMULATOR_CALLBACK_RETRY_DELAYS_MS'],
      [{ SIMULATOR_AUTO_COMPLETE_MS: '-1' }, 'SIMULATOR_AUTO_COMPLETE_MS'],
    ] as const) {
      expect(() => loadConfig(env), name).to.throw(ConfigError, name);
    }
  });
});
