/**
 * Kills services with SIGKILL at random moments while the load runs and starts them again after a
 * random pause, so every service dies mid-request, mid-transaction, mid-publish and mid-commit several
 * times. The moments are drawn up front, uniformly over the load's window for every service, so no
 * service gets all its kills after the load is over. A service still down (or restarting) at its next
 * moment is killed as soon as it is back; at most `maxDown` services are down at once.
 */
import { sleep } from './load.js';
import type { ServiceProcess } from './service-process.js';

export interface ChaosOptions {
  killsPerService: number;
  /** Kills happen within this long from now. */
  windowMs: number;
  /** How long a killed service stays down before it is started again: uniform in [0, maxDownMs]. */
  maxDownMs: number;
  maxDown?: number;
  random: () => number;
}

export interface KillRecord {
  service: string;
  at: number;
  downMs: number;
}

export async function runChaos(services: ServiceProcess[], options: ChaosOptions): Promise<KillRecord[]> {
  const { random } = options;
  const started = Date.now();
  const plan = services
    .flatMap((service) =>
      Array.from({ length: options.killsPerService }, () => ({ service, at: random() * options.windowMs })),
    )
    .sort((a, b) => a.at - b.at);
  const kills: KillRecord[] = [];
  const restarts: Array<Promise<void>> = [];
  const down = new Set<ServiceProcess>();
  for (const { service, at } of plan) {
    await sleep(Math.max(0, started + at - Date.now()));
    while (down.has(service) || down.size >= (options.maxDown ?? 2)) await sleep(100);
    const downMs = Math.round(random() * options.maxDownMs);
    down.add(service);
    kills.push({ service: service.name, at: Date.now() - started, downMs });
    await service.kill();
    restarts.push(
      (async () => {
        await sleep(downMs);
        await service.start();
        down.delete(service);
      })(),
    );
  }
  await Promise.all(restarts);
  return kills;
}
