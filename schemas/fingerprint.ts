/**
 * CRC-64-AVRO (Rabin) fingerprint of a schema's Parsing Canonical Form, as defined by the Avro
 * specification ("Schema Fingerprints"). Used by single-object encoding.
 */
const EMPTY = 0xc15d213aa4d7a795n;
const MASK = 0xffffffffffffffffn;

const TABLE: bigint[] = (() => {
  const table: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n) & MASK);
    table.push(fp & MASK);
  }
  return table;
})();

/** The 64-bit fingerprint as an unsigned bigint. */
export function rabinFingerprint(canonicalForm: string): bigint {
  let fp = EMPTY;
  for (const byte of Buffer.from(canonicalForm, 'utf8')) {
    fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(byte)) & 0xffn)]!;
  }
  return fp & MASK;
}

/** The fingerprint as the 8 little-endian bytes single-object encoding puts after the marker. */
export function fingerprintBytes(canonicalForm: string): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(rabinFingerprint(canonicalForm));
  return bytes;
}
