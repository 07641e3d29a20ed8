/**
 * A cuttable TCP proxy in front of the shared Kafka broker. A plain proxy is not enough: clients learn
 * the broker's advertised address from Metadata and FindCoordinator answers and connect there directly,
 * around the proxy. This one follows the Kafka wire protocol (size-prefixed frames, request header
 * api key/version/correlation id) and rewrites the advertised port in those two answers to its own,
 * so every connection of the platform goes through it and `refuse()` really cuts the broker off.
 *
 * Only the non-flexible versions kafkajs speaks (Metadata v1-v6, FindCoordinator v0-v2) are rewritten;
 * a port never changes the frame size, so everything else passes through byte for byte.
 *
 * Fault injection: `topicError` may turn a topic's entry of a Metadata answer into an error code (e.g.
 * 3, UNKNOWN_TOPIC_OR_PARTITION, which a busy broker answers for a moment after creating a topic).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const METADATA = 3;
const FIND_COORDINATOR = 10;

/** Re-chunks a byte stream into whole Kafka frames and lets `onFrame` inspect or patch each one. */
class FrameStream extends Transform {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (frame: Buffer) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 4) {
      const size = this.pending.readInt32BE(0);
      if (this.pending.length < 4 + size) break;
      const frame = this.pending.subarray(0, 4 + size);
      this.pending = this.pending.subarray(4 + size);
      try {
        this.onFrame(frame.subarray(4));
      } catch {
        // Not what we expected: forward it untouched, the client will complain if it matters.
      }
      this.push(frame);
    }
    callback();
  }
}

export interface KafkaProxyOptions {
  /** Called for each topic of each Metadata answer: an error code to answer instead, or null. */
  topicError?: (topic: string) => number | null;
}

export function startKafkaProxy(
  broker: { host: string; port: number },
  options: KafkaProxyOptions = {},
): Promise<TcpProxy> {
  return startTcpProxy(broker, {
    intercept: (proxyPort) => {
      const requests = new Map<number, { apiKey: number; apiVersion: number }>();
      const toUpstream = new FrameStream((body) => {
        const apiKey = body.readInt16BE(0);
        if (apiKey === METADATA || apiKey === FIND_COORDINATOR)
          requests.set(body.readInt32BE(4), { apiKey, apiVersion: body.readInt16BE(2) });
      });
      const toClient = new FrameStream((body) => {
        const correlationId = body.readInt32BE(0);
        const request = requests.get(correlationId);
        if (!request) return;
        requests.delete(correlationId);
        const rewrite = (at: number) => {
          if (body.readInt32BE(at) === broker.port) body.writeInt32BE(proxyPort, at);
        };
        if (request.apiKey === METADATA)
          rewriteMetadata(body, request.apiVersion, rewrite, options.topicError);
        else rewriteFindCoordinator(body, request.apiVersion, rewrite);
      });
      return { toUpstream, toClient };
    },
  });
}

/**
 * Metadata v1-v6 response: [throttle (v3+)] brokers: [node_id host port rack] [cluster_id (v2+)]
 * controller_id topics: [error_code name is_internal partitions...]
 */
function rewriteMetadata(
  body: Buffer,
  version: number,
  rewrite: (at: number) => void,
  topicError: KafkaProxyOptions['topicError'],
): void {
  if (version < 1 || version > 6) return;
  let at = 4;
  if (version >= 3) at += 4;
  const brokers = body.readInt32BE(at);
  at += 4;
  for (let i = 0; i < brokers; i++) {
    at += 4; // node_id
    at += 2 + body.readInt16BE(at); // host
    rewrite(at);
    at += 4; // port
    const rack = body.readInt16BE(at);
    at += 2 + Math.max(0, rack);
  }
  if (!topicError) return;
  if (version >= 2) at += 2 + Math.max(0, body.readInt16BE(at)); // cluster_id
  at += 4; // controller_id
  const topics = body.readInt32BE(at);
  at += 4;
  for (let i = 0; i < topics; i++) {
    const errorAt = at;
    at += 2;
    const nameLength = body.readInt16BE(at);
    const name = body.toString('utf8', at + 2, at + 2 + nameLength);
    at += 2 + nameLength + 1; // name, is_internal
    const error = topicError(name);
    if (error !== null) body.writeInt16BE(error, errorAt);
    const partitions = body.readInt32BE(at);
    at += 4;
    for (let p = 0; p < partitions; p++) {
      at += 2 + 4 + 4; // error_code, partition_index, leader_id
      for (let list = 0; list < (version >= 5 ? 3 : 2); list++) at += 4 + 4 * body.readInt32BE(at); // replicas, isr, offline
    }
  }
}

/** FindCoordinator v0-v2 response: [throttle (v1+)] error_code [error_message (v1+)] node_id host port */
function rewriteFindCoordinator(body: Buffer, version: number, rewrite: (at: number) => void): void {
  if (version > 2) return;
  let at = 4;
  if (version >= 1) at += 4;
  at += 2; // error_code
  if (version >= 1) at += 2 + Math.max(0, body.readInt16BE(at));
  at += 4; // node_id
  at += 2 + body.readInt16BE(at);
  rewrite(at);
}
