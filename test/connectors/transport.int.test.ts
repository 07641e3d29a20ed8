/**
 * What a connector reports when the provider gives no answer, over real sockets: a refused connection
 * never reached the provider (outcome known: nothing happened), while a connection reset or a timeout
 * after the request was sent may hide a payment (outcomeUnknown). Neither connector retries.
 */
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import {
  createAdyenSimConnector,
  createStripeSimConnector,
  type PaymentRequest,
  type ProviderConnector,
} from '../../processor/connectors/index.js';

function request(providerId: string, apiBaseUrl: string): PaymentRequest {
  return {
    account: {
      subMidId: 'submid-1',
      providerId,
      apiBaseUrl,
      credentials: { apiKey: 'sk_test_transport_key', merchantAccount: 'M1' },
    },
    idempotencyKey: 'att_transport',
    attemptId: 'att_transport',
    transactionId: 'tx_transport',
    amountMinor: 1000,
    currency: 'EUR',
    paymentMethod: 'card',
    customer: {},
    returnUrl: 'https://pay.example.test/return',
    callbackUrl: 'https://pay.example.test/callbacks/x',
  };
}

/** A TCP server that reads the request, counts it, then does `onRequest` with the socket. */
async function rawServer(
  onRequest: (socket: Socket) => void,
): Promise<{ url: string; requests: () => number; server: Server }> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', () => {
      requests++;
      onRequest(socket);
    });
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    server,
  };
}

const CONNECTORS: ProviderConnector[] = [createStripeSimConnector(), createAdyenSimConnector()];

for (const connector of CONNECTORS) {
  describe(`${connector.providerId} connector transport failures`, function () {
    this.timeout(10_000);

    it('connection refused: a network failure with a known outcome (nothing was sent)', async () => {
      const closed = await rawServer(() => undefined);
      const url = closed.url;
      await new Promise<void>((resolve) => closed.server.close(() => resolve()));
      const outcome = await connector.createPayment(request(connector.providerId, url), { timeoutMs: 2_000 });
      expect(outcome).to.deep.equal({
        kind: 'failed',
        failureKind: 'network',
        code: 'ECONNREFUSED',
        outcomeUnknown: false,
      });
    });

    it('connection reset after the request was sent: outcome unknown, and no retry', async () => {
      const server = await rawServer((socket) => socket.resetAndDestroy());
      try {
        const outcome = await connector.createPayment(request(connector.providerId, server.url), {
          timeoutMs: 2_000,
        });
        expect(outcome).to.deep.include({ kind: 'failed', failureKind: 'network', outcomeUnknown: true });
        expect(server.requests()).to.equal(1);
      } finally {
        server.server.close();
      }
    });

    it('connection closed before any answer: outcome unknown', async () => {
      const server = await rawServer((socket) => socket.end());
      try {
        const outcome = await connector.createPayment(request(connector.providerId, server.url), {
          timeoutMs: 2_000,
        });
        expect(outcome).to.deep.include({ kind: 'failed', failureKind: 'network', outcomeUnknown: true });
      } finally {
        server.server.close();
      }
    });

    it('no answer within the timeout: outcome unknown, and no retry', async () => {
      const server = await rawServer(() => undefined);
      try {
        const outcome = await connector.createPayment(request(connector.providerId, server.url), {
          timeoutMs: 200,
        });
        expect(outcome).to.deep.equal({
          kind: 'failed',
          failureKind: 'timeout',
          code: 'timeout',
          outcomeUnknown: true,
        });
        expect(server.requests()).to.equal(1);
      } finally {
        server.server.close();
      }
    });

    it('an answer that is not the provider format after a 200: outcome unknown', async () => {
      const server = await rawServer((socket) =>
        socket.end(
          'HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 5\r\nconnection: close\r\n\r\n<html',
        ),
      );
      try {
        const outcome = await connector.createPayment(request(connector.providerId, server.url), {
          timeoutMs: 2_000,
        });
        expect(outcome).to.deep.include({
          kind: 'failed',
          failureKind: 'provider_error',
          outcomeUnknown: true,
        });
      } finally {
        server.server.close();
      }
    });

    it('an account without a usable API base URL is a configuration failure, not a crash', async () => {
      const outcome = await connector.createPayment(request(connector.providerId, 'not a url'), {
        timeoutMs: 200,
      });
      expect(outcome).to.deep.equal({
        kind: 'failed',
        failureKind: 'inactive_config',
        code: 'invalid_api_base_url',
        outcomeUnknown: false,
      });
    });
  });
}
