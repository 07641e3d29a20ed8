// Decodes our events with stock Apache Avro only (no project code), for test/schemas/stock-avro.int.test.ts.
//
// Usage: java -cp <avro classpath> StockAvroCheck.java <schemas/avro dir> <file of hex messages, one per line>
// Prints JSON lines: one {"kind":"schema",...} per schema file with the fingerprint Avro computes, then one
// {"kind":"message",...} per message: the record as Avro's GenericData renders it and the bytes Avro's
// BinaryMessageEncoder produces for it (which must equal ours).
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;

public class StockAvroCheck {
  public static void main(String[] args) throws Exception {
    Path schemasDir = Path.of(args[0]);
    HexFormat hex = HexFormat.of();
    Pattern versionFile = Pattern.compile("v(\\d+)\\.avsc");
    Map<String, TreeMap<Integer, Schema>> byType = new TreeMap<>();
    try (var types = Files.list(schemasDir)) {
      for (Path typeDir : (Iterable<Path>) types.filter(Files::isDirectory).sorted()::iterator) {
        try (var files = Files.list(typeDir)) {
          for (Path file : (Iterable<Path>) files.sorted()::iterator) {
            Matcher m = versionFile.matcher(file.getFileName().toString());
            if (!m.matches()) continue;
            Schema schema = new Schema.Parser().parse(file.toFile());
            byType.computeIfAbsent(typeDir.getFileName().toString(), k -> new TreeMap<>()).put(Integer.parseInt(m.group(1)), schema);
          }
        }
      }
    }
    Map<String, BinaryMessageDecoder<GenericRecord>> decoderByFingerprint = new HashMap<>();
    Map<String, Schema> readerByFingerprint = new HashMap<>();
    for (var entry : byType.entrySet()) {
      Schema latest = entry.getValue().lastEntry().getValue();
      BinaryMessageDecoder<GenericRecord> decoder = new BinaryMessageDecoder<>(GenericData.get(), latest);
      for (var version : entry.getValue().entrySet()) {
        Schema schema = version.getValue();
        decoder.addSchema(schema);
        byte[] fp = SchemaNormalization.parsingFingerprint("CRC-64-AVRO", schema);
        String fpHex = hex.formatHex(fp);
        decoderByFingerprint.put(fpHex, decoder);
        readerByFingerprint.put(fpHex, latest);
        System.out.println("{\"kind\":\"schema\",\"type\":\"" + entry.getKey() + "\",\"version\":" + version.getKey()
            + ",\"fingerprint\":\"" + fpHex + "\",\"fingerprintLong\":\"" + SchemaNormalization.parsingFingerprint64(schema)
            + "\",\"canonical\":" + quote(SchemaNormalization.toParsingForm(schema)) + "}");
      }
    }
    List<String> lines = new ArrayList<>(Files.readAllLines(Path.of(args[1])));
    for (String line : lines) {
      if (line.isBlank()) continue;
      byte[] bytes = hex.parseHex(line.trim());
      String fpHex = hex.formatHex(bytes, 2, 10);
      BinaryMessageDecoder<GenericRecord> decoder = decoderByFingerprint.get(fpHex);
      if (decoder == null) {
        System.out.println("{\"kind\":\"error\",\"message\":\"unknown fingerprint " + fpHex + "\"}");
        continue;
      }
      GenericRecord record = decoder.decode(bytes);
      ByteBuffer reencoded = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), readerByFingerprint.get(fpHex)).encode(record);
      byte[] out = new byte[reencoded.remaining()];
      reencoded.get(out);
      System.out.println("{\"kind\":\"message\",\"type\":\"" + record.getSchema().getName() + "\",\"record\":"
          + GenericData.get().toString(record) + ",\"reencoded\":\"" + hex.formatHex(out) + "\"}");
    }
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
