/**
 * Tracks which offsets of one partition are finished so that commits never run ahead of a message
 * still being handled: the committable position is the first offset not yet done.
 */
export class OffsetTracker {
  private readonly inFlight = new Set<bigint>();
  private highestSeen: bigint | null = null;

  /** Records that `offset` was handed to a handler. Offsets must be tracked in increasing order. */
  track(offset: bigint): void {
    this.inFlight.add(offset);
    if (this.highestSeen === null || offset > this.highestSeen) this.highestSeen = offset;
  }

  done(offset: bigint): void {
    this.inFlight.delete(offset);
  }

  /** Lowest offset still being handled, or null if none. */
  lowestInFlight(): bigint | null {
    let lowest: bigint | null = null;
    for (const offset of this.inFlight) if (lowest === null || offset < lowest) lowest = offset;
    return lowest;
  }

  /**
   * The next offset to consume from after a restart (Kafka commit semantics: "next offset"), or null
   * when nothing was tracked yet.
   */
  committable(): bigint | null {
    const lowest = this.lowestInFlight();
    if (lowest !== null) return lowest;
    return this.highestSeen === null ? null : this.highestSeen + 1n;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }
}
