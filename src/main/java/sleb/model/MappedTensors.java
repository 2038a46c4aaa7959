package sleb.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Maps a tensor's region of a file read-only, in chunks of whole rows under 1 GiB each. */
public final class MappedTensors {
    private static final long MAX_CHUNK = 1L << 30;

    private MappedTensors() {}

    public static Tensor map(FileChannel ch, String name, DType dtype, long[] shape, long offset) throws IOException {
        long rows = shape.length <= 1 ? 1 : shape[0];
        long rowBytes = Tensor.numel(shape) / rows * dtype.bytes;
        if (rowBytes > MAX_CHUNK) throw new ModelFormatException(name + ": a single row of " + rowBytes + " bytes is too large to map");
        long rowsPerChunk = rowBytes == 0 ? rows : Math.max(1, Math.min(rows, MAX_CHUNK / rowBytes));
        int nChunks = (int) ((rows + rowsPerChunk - 1) / rowsPerChunk);
        ByteBuffer[] chunks = new ByteBuffer[Math.max(1, nChunks)];
        if (rows == 0 || rowBytes == 0) {
            chunks[0] = ByteBuffer.allocate(0);
        } else {
            for (int c = 0; c < nChunks; c++) {
                long r0 = c * rowsPerChunk;
                long r = Math.min(rowsPerChunk, rows - r0);
                chunks[c] = ch.map(FileChannel.MapMode.READ_ONLY, offset + r0 * rowBytes, r * rowBytes);
            }
        }
        return new Tensor(name, dtype, shape, chunks, rowsPerChunk);
    }
}
