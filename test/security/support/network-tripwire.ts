/**
 * A tripwire on outgoing TCP connections of this test process: every connect to an address outside the
 * loopback range is refused before any packet leaves (ECONNREFUSED) and recorded. The SSRF suite hands
 * the platform webhook URLs naming private, link-local and metadata addresses; the platform must refuse
 * them itself, and if it ever regressed, the tripwire keeps the probe off the network and the test sees
 * the violation instead of the traffic reaching a real host.
 *
 * It wraps the connect methods of Node's TCP handle (reached through the deprecated but still supported
 * `process.binding('tcp_wrap')`), the one place every TCP client (http, https, net, pg) goes through
 * with the final, already-resolved address.
 */
import { isIP } from 'node:net';

interface TcpHandlePrototype {
  connect(this: unknown, req: unknown, address: string, port: number): number;
  connect6(this: unknown, req: unknown, address: string, port: number): number;
}

const UV_ECONNREFUSED = -111;

export interface Tripwire {
  /** `address:port` of every refused connect, in order. */
  readonly violations: string[];
  uninstall(): void;
}

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped IPv6 forms. */
export function isLoopbackAddress(address: string): boolean {
  const lower = address.toLowerCase();
  if (isIP(lower) === 4) return lower.startsWith('127.');
  if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
  const mappedDotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mappedDotted) return mappedDotted[1]!.startsWith('127.');
  const mappedHex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(lower);
  return mappedHex ? parseInt(mappedHex[1]!, 16) >> 8 === 127 : false;
}

let installed: { tripwire: Tripwire; users: number; restore: () => void } | undefined;

/** Installs the tripwire (shared by every suite that asks; removed when the last one uninstalls). */
export function installNetworkTripwire(): Tripwire {
  if (!installed) {
    const processWithBinding = process as unknown as {
      binding?(name: string): { TCP?: { prototype: TcpHandlePrototype } };
    };
    const prototype = processWithBinding.binding?.('tcp_wrap').TCP?.prototype;
    // Without it the SSRF suite could reach real hosts if the platform regressed: refuse to run.
    if (!prototype?.connect || !prototype.connect6)
      throw new Error(
        'network tripwire: this Node.js no longer exposes tcp_wrap; update the tripwire before running',
      );
    const original = { connect: prototype.connect, connect6: prototype.connect6 };
    const violations: string[] = [];
    const guard = (connect: TcpHandlePrototype['connect']): TcpHandlePrototype['connect'] =>
      function (this: unknown, req, address, port) {
        if (!isLoopbackAddress(address)) {
          violations.push(`${address}:${port}`);
          return UV_ECONNREFUSED;
        }
        return connect.call(this, req, address, port);
      };
    prototype.connect = guard(original.connect);
    prototype.connect6 = guard(original.connect6);
    const tripwire: Tripwire = {
      violations,
      uninstall: () => {
        if (!installed) return;
        installed.users--;
        if (installed.users === 0) {
          installed.restore();
          installed = undefined;
        }
      },
    };
    installed = {
      tripwire,
      users: 0,
      restore: () => {
        prototype.connect = original.connect;
        prototype.connect6 = original.connect6;
      },
    };
  }
  installed.users++;
  return installed.tripwire;
}
