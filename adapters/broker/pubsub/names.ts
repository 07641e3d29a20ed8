/**
 * Pub/Sub resource names: a subscription per (topic, consumer group). Names must start with a letter,
 * be 3-255 characters of [A-Za-z0-9-_.~+%]; anything else is replaced, and long names are shortened
 * with a hash so they stay unique.
 */
import { createHash } from 'node:crypto';

export function subscriptionName(topic: string, group: string): string {
  return resourceName(`${topic}--${group}`);
}

export function resourceName(raw: string): string {
  let name = raw.replace(/[^A-Za-z0-9\-_.~+%]/g, '_');
  if (!/^[A-Za-z]/.test(name)) name = `t${name}`;
  if (name.length > 255) {
    const hash = createHash('sha256').update(raw).digest('hex').slice(0, 16);
    name = `${name.slice(0, 255 - 17)}-${hash}`;
  }
  return name.padEnd(3, '_');
}
