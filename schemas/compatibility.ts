/**
 * The schema compatibility gate, as pure functions over parsed schema versions (the unit test
 * `test/schemas/compatibility.unit.test.ts` runs them over `schemas/avro/` and the release lock).
 */
import type avro from 'avsc';

export interface CompatibilityProblem {
  type: string;
  from: number;
  to: number;
  /** backward: the newer reader cannot read older data; forward: the older reader cannot read newer data. */
  direction: 'backward' | 'forward';
  message: string;
}

interface VersionLike {
  type: string;
  version: number;
  avroType: avro.Type;
}

function canResolve(reader: avro.Type, writer: avro.Type): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Full transitive compatibility: for every event type, every version's reader must read every earlier
 * version's data (backward) and every earlier version's reader must read its data (forward). Versions
 * of several types may be passed together; they are only compared within their type. avsc resolvers
 * decide (`reader.createResolver(writer)` throws when the writer's data cannot be read).
 */
export function checkFullCompatibility(versions: readonly VersionLike[]): CompatibilityProblem[] {
  const byType = new Map<string, VersionLike[]>();
  for (const version of versions) byType.set(version.type, [...(byType.get(version.type) ?? []), version]);
  const problems: CompatibilityProblem[] = [];
  for (const [type, list] of byType) {
    const sorted = [...list].sort((a, b) => a.version - b.version);
    for (let j = 1; j < sorted.length; j++) {
      const newer = sorted[j]!;
      for (let i = 0; i < j; i++) {
        const older = sorted[i]!;
        const backward = canResolve(newer.avroType, older.avroType);
        if (backward)
          problems.push({
            type,
            from: older.version,
            to: newer.version,
            direction: 'backward',
            message: backward,
          });
        const forward = canResolve(older.avroType, newer.avroType);
        if (forward)
          problems.push({
            type,
            from: older.version,
            to: newer.version,
            direction: 'forward',
            message: forward,
          });
      }
    }
  }
  return problems;
}

/** One entry of `schemas/released-schemas.json`: a version that has been released and must never change. */
export interface ReleasedSchemaEntry {
  type: string;
  version: number;
  /** Little-endian CRC-64-AVRO fingerprint, hex (what follows C3 01 on the wire). */
  fingerprint: string;
  /** sha256 of the schema without docs (catches changed defaults, aliases and logical types). */
  contentHash: string;
}

export interface ReleaseProblem {
  type: string;
  version: number;
  kind: 'changed' | 'deleted' | 'unreleased' | 'gap';
  message: string;
}

/**
 * Released versions are kept forever and never edited: old messages carry their fingerprint. Compares
 * the schema files with the release lock. Docs may be improved in place (neither hash covers them).
 */
export function checkReleaseLock(
  onDisk: ReadonlyArray<{ type: string; version: number; fingerprintHex: string; contentHash: string }>,
  lock: readonly ReleasedSchemaEntry[],
): ReleaseProblem[] {
  const problems: ReleaseProblem[] = [];
  const key = (v: { type: string; version: number }) => `${v.type}/v${v.version}`;
  const disk = new Map(onDisk.map((v) => [key(v), v]));
  const locked = new Map(lock.map((v) => [key(v), v]));
  for (const [name, entry] of locked) {
    const file = disk.get(name);
    if (!file) {
      problems.push({
        ...entry,
        kind: 'deleted',
        message: `${name} was released and must stay in schemas/avro/ (old messages still carry its fingerprint)`,
      });
    } else if (file.fingerprintHex !== entry.fingerprint || file.contentHash !== entry.contentHash) {
      problems.push({
        ...entry,
        kind: 'changed',
        message: `${name} was released and must not change; add v${entry.version + 1}.avsc instead`,
      });
    }
  }
  for (const [name, file] of disk) {
    if (!locked.has(name)) {
      problems.push({
        type: file.type,
        version: file.version,
        kind: 'unreleased',
        message: `${name} is not in schemas/released-schemas.json: add ${JSON.stringify({
          type: file.type,
          version: file.version,
          fingerprint: file.fingerprintHex,
          contentHash: file.contentHash,
        })}`,
      });
    }
  }
  const versionsByType = new Map<string, number[]>();
  for (const v of onDisk) versionsByType.set(v.type, [...(versionsByType.get(v.type) ?? []), v.version]);
  for (const [type, numbers] of versionsByType) {
    const sorted = [...numbers].sort((a, b) => a - b);
    sorted.forEach((n, i) => {
      if (n !== i + 1)
        problems.push({
          type,
          version: n,
          kind: 'gap',
          message: `${type} versions must be v1..vN, found v${n}`,
        });
    });
  }
  return problems;
}
