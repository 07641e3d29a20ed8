/**
 * A TCP proxy in front of a real server (e.g. PostgreSQL) that a test can take down: `refuse()` closes
 * every connection and refuses new ones (the server is "down"); `blackhole()` stops forwarding on open
 * connections and accepts new ones without ever answering (the server "hangs"); `restore()` forwards
 * again (connections stalled by the blackhole are closed, as a real network failure would leave them).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Transform } from 'node:stream';

export interface TcpProxy {
  port: number;
  refuse(): Promise<void>;
  blackhole(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export interface TcpProxyOptions {
  /**
   * Per connection: streams the bytes pass through on their way up and down (e.g. a protocol-aware
   * rewrite of addresses the server advertises, see kafka-proxy.ts).
   */
  intercept?: (proxyPort: number) => { toUpstream: Transform; toClient: Transform };
}

export async function startTcpProxy(
  target: { host: string; port: number },
  options: TcpProxyOptions = {},
): Promise<TcpProxy> {
  let mode: 'forward' | 'blackhole' = 'forward';
  const pairs = new Set<{ client: Socket; upstream?: Socket }>();
  const stalled = new Set<Socket>();
  const onConnection = (client: Socket) => {
    client.on('error', () => undefined);
    if (mode === 'blackhole') {
      stalled.add(client);
      return;
    }
    const upstream = connect(target.port, target.host);
    upstream.on('error', () => undefined);
    const pair = { client, upstream };
    pairs.add(pair);
    const intercept = options.intercept?.(port);
    if (intercept) {
      client.pipe(intercept.toUpstream).pipe(upstream).pipe(intercept.toClient).pipe(client);
    } else {
      client.pipe(upstream).pipe(client);
    }
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
  };
  let server: Server = createServer(onConnection);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  const port = await listen(0);
  const destroyAll = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream?.destroy();
    }
    for (const socket of stalled) socket.destroy();
    stalled.clear();
  };
  const stop = async () => {
    destroyAll();
    await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  };
  return {
    port,
    refuse: stop,
    blackhole: () => {
      mode = 'blackhole';
      for (const { client, upstream } of pairs) {
        client.unpipe();
        upstream!.unpipe();
        stalled.add(client);
      }
    },
    restore: async () => {
      mode = 'forward';
      for (const socket of stalled) socket.destroy();
      stalled.clear();
      if (!server.listening) {
        server = createServer(onConnection);
        await listen(port);
      }
    },
    close: stop,
  };
}
