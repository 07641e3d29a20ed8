import type avro from 'avsc';

export interface CompatibilityProblem {
  type: string;
  from: number;
  to: number;
  direction: 'backward' | 'forward';
  message: string;
}

/**
 * Full compatibility of an event type's versions: every version's reader must read every other
 * version's data (backward: new reads old; forward: old reads new). Pure; avsc resolvers decide.
 */
export function checkFullCompatibility(
  versions: ReadonlyArray<{ type: string; version: number; avroType: avro.Type }>,
): CompatibilityProblem[] {
  const problems: CompatibilityProblem[] = [];
  const sorted = [...versions].sort((a, b) => a.version - b.version);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const older = sorted[i]!;
      const newer = sorted[j]!;
      const attempt = (direction: 'backward' | 'forward', reader: avro.Type, writer: avro.Type) => {
        try {
          reader.createResolver(writer);
        } catch (error) {
          problems.push({ type: newer.type, from: older.version, to: newer.version, direction, message: (error as Error).message });
        }
      };
      attempt('backward', newer.avroType, older.avroType);
      attempt('forward', older.avroType, newer.avroType);
    }
  }
  return problems;
}
