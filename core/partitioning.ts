/**
 * Stable key -> partition (embedded broker partitions, outbox relay buckets): FNV-1a 32-bit over the key's UTF-8 bytes, modulo the partition count. It must
 * never change for an existing topic, or one transaction's events would land on two partitions.
 */
export function partitionFor(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
