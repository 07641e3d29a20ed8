import avro from 'avsc';

/** `timestamp-millis` as a JS Date: avsc 5 ships no logical types, so every codec registers this one. */
export class TimestampMillisType extends avro.types.LogicalType {
  override _fromValue(value: number): Date {
    return new Date(value);
  }
  override _toValue(value: unknown): number | undefined {
    if (value instanceof Date) return value.getTime();
    return typeof value === 'number' ? value : undefined;
  }
  override _resolve(type: avro.Type): ((value: number) => Date) | undefined {
    if (avro.Type.isType(type, 'long', 'logical:timestamp-millis')) return (value) => this._fromValue(value);
    return undefined;
  }
}

export const LOGICAL_TYPES = { 'timestamp-millis': TimestampMillisType };
