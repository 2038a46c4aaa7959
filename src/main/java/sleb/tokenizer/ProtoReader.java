package sleb.tokenizer;

import java.nio.charset.StandardCharsets;

/** Minimal protobuf wire-format reader: enough to walk SentencePiece's ModelProto. */
final class ProtoReader {
    private final byte[] buf;
    private int pos;
    private final int end;
    private final String what;

    ProtoReader(byte[] buf, int start, int end, String what) {
        this.buf = buf;
        this.pos = start;
        this.end = end;
        this.what = what;
    }

    boolean hasMore() { return pos < end; }

    /** Next tag: field number << 3 | wire type. */
    int tag() { return (int) varint(); }

    long varint() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte b = next();
            v |= (long) (b & 0x7f) << shift;
            if (b >= 0) return v;
        }
        throw corrupt("a varint longer than 10 bytes");
    }

    float fixed32Float() {
        need(4);
        int v = (buf[pos] & 0xff) | (buf[pos + 1] & 0xff) << 8 | (buf[pos + 2] & 0xff) << 16 | (buf[pos + 3] & 0xff) << 24;
        pos += 4;
        return Float.intBitsToFloat(v);
    }

    /** A length-delimited field as a reader over its bytes. */
    ProtoReader message() {
        int len = length();
        ProtoReader r = new ProtoReader(buf, pos, pos + len, what);
        pos += len;
        return r;
    }

    String string() {
        int len = length();
        String s = new String(buf, pos, len, StandardCharsets.UTF_8);
        pos += len;
        return s;
    }

    void skip(int wireType) {
        switch (wireType) {
            case 0 -> varint();
            case 1 -> { need(8); pos += 8; }
            case 2 -> { int len = length(); pos += len; }
            case 5 -> { need(4); pos += 4; }
            default -> throw corrupt("unknown wire type " + wireType);
        }
    }

    private int length() {
        long len = varint();
        if (len < 0 || len > end - pos) throw corrupt("a field of " + len + " bytes past the end");
        return (int) len;
    }

    private byte next() {
        need(1);
        return buf[pos++];
    }

    private void need(int n) {
        if (end - pos < n) throw corrupt("data ending mid-field");
    }

    private TokenizerException corrupt(String why) {
        return new TokenizerException(what + " is truncated or not a SentencePiece model (" + why + " at byte " + pos + ")");
    }
}
