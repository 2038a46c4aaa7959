package sleb.backend.cuda;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import sleb.model.DType;

/**
 * What stands behind a {@link CudaDevice} made by {@link CudaDevice#dryRun}: no GPU, but the host side
 * of the backend runs for real against it. Allocations get fake addresses; every launch is checked
 * against the launch limits (its PTX parameter list is checked by CudaDevice, as on a GPU), and every pointer it passes must lie in
 * a block that is allocated and not returned to the pool; GEMMs and copies are checked against the
 * extents of their operands; a graph capture must not allocate or copy, and a replay re-checks the
 * captured launches. Nothing is computed: downloads return zeros. Tests use it to run the CUDA host code
 * on machines without a GPU (CudaHostProtocolTest).
 */
class DryRun implements CudaDriver {
    enum State { LIVE, POOLED }

    static final class Block {
        final long base, size;
        final String what;
        State state = State.LIVE;

        Block(long base, long size, String what) {
            this.base = base;
            this.size = size;
            this.what = what;
        }
    }

    /** One recorded launch: kernel name (or "gemm"/"copy"), the pointer arguments it passed, and what runs it again. */
    static final class Launch {
        final String fn;
        final List<Pointer> pointers;
        final Runnable run;

        Launch(String fn, List<Pointer> pointers, Runnable run) {
            this.fn = fn;
            this.pointers = pointers;
            this.run = run;
        }
    }

    final long memory;
    private final String name;
    private final TreeMap<Long, Block> blocks = new TreeMap<>();
    private long next = 0x1000_0000L, used;
    private List<Launch> capturing;
    final List<Launch> launches = new ArrayList<>();
    int replays;

    DryRun(long memory, String name) {
        this.memory = memory;
        this.name = name;
    }

    @Override public String name() { return name; }
    /** A dry run claims sm_90, so that every kernel's launch limits apply. */
    @Override public int computeMajor() { return 9; }
    @Override public int computeMinor() { return 0; }
    @Override public boolean usesCublas() { return false; }
    @Override public void makeCurrent() {}
    @Override public long[] memInfo() { return new long[] {free(), memory}; }
    @Override public void allowSharedMemory(String fn, int bytes) {} // launch checks against smemAllowed
    @Override public void synchronize() {}
    @Override public void close() {}

    // ---- fake addresses ---------------------------------------------------------------------------

    private static final Field NATIVE, OFFSET;
    static {
        try {
            NATIVE = jcuda.NativePointerObject.class.getDeclaredField("nativePointer");
            OFFSET = Pointer.class.getDeclaredField("byteOffset");
            NATIVE.setAccessible(true);
            OFFSET.setAccessible(true);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static long address(Pointer p) {
        try {
            return NATIVE.getLong(p) + OFFSET.getLong(p);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    static CUdeviceptr at(long address) {
        CUdeviceptr p = new CUdeviceptr();
        try {
            NATIVE.setLong(p, address);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        return p;
    }

    // ---- memory -----------------------------------------------------------------------------------

    /** A fresh block, or null when the fake device is full. */
    @Override
    public CUdeviceptr alloc(long size, String what) {
        notCapturing("allocate " + what);
        if (used + size > memory) return null;
        long base = newAddress(size, what);
        blocks.put(base, new Block(base, size, what));
        used += size;
        return at(base);
    }

    long free() { return memory - used; }

    /** Where a new block starts: fake addresses with gaps, so that an overrun is not inside a neighbour. */
    protected long newAddress(long size, String what) {
        long base = next;
        next += (size + 0xFFFF) & ~0xFFFFL;
        next += 0x10000;
        return base;
    }

    /** A block leaves for good. */
    protected void freed(long base) {}

    /** What a launch, GEMM or copy does beyond being checked and recorded: nothing here. */
    protected Runnable kernel(String fn, int gx, int gy, int gz, int bx, int by, int smem, Object[] args) { return null; }

    protected Runnable gemmWork(Pointer a, Pointer w, Pointer c, int m, int n, int k, int dtype, float beta) { return null; }

    protected Runnable copyWork(Pointer dst, Pointer src, long bytes) { return null; }

    protected void toDevice(Pointer dst, Pointer host, long bytes) {}

    protected void toHost(Pointer host, Pointer src, long bytes) {}

    protected void fill(Pointer dst, int bits, long count) {}

    private Block block(CUdeviceptr p) {
        Block b = blocks.get(address(p));
        if (b == null) throw new IllegalStateException("not the start of an allocated block: 0x" + Long.toHexString(address(p)));
        return b;
    }

    @Override
    public void pooled(CUdeviceptr p) {
        notCapturing("free a block");
        Block b = block(p);
        if (b.state == State.POOLED) throw new IllegalStateException("block freed twice: " + b.what);
        b.state = State.POOLED;
    }

    @Override
    public void reused(CUdeviceptr p) { block(p).state = State.LIVE; }

    @Override
    public void release(CUdeviceptr p) {
        notCapturing("release a block");
        Block b = blocks.remove(address(p));
        if (b == null) throw new IllegalStateException("release of an unknown block");
        used -= b.size;
        freed(b.base);
    }

    /** Blocks handed out and not returned: what a closed model and session must leave empty. */
    List<String> live() {
        List<String> out = new ArrayList<>();
        for (Block b : blocks.values()) if (b.state == State.LIVE) out.add(b.what + " (" + b.size + " B)");
        return out;
    }

    /** Checks that [p, p + bytes) lies inside one live block. */
    void checkExtent(String ctx, Pointer p, long bytes) {
        long a = address(p);
        Map.Entry<Long, Block> e = blocks.floorEntry(a);
        if (e == null || a >= e.getValue().base + e.getValue().size)
            throw new IllegalStateException(ctx + ": pointer 0x" + Long.toHexString(a) + " is in no allocated block");
        Block b = e.getValue();
        if (b.state != State.LIVE) throw new IllegalStateException(ctx + ": pointer into a block already freed (" + b.what + ")");
        if (a + bytes > b.base + b.size)
            throw new IllegalStateException(ctx + ": " + bytes + " bytes at offset " + (a - b.base) + " overrun " + b.what + " (" + b.size + " B)");
    }

    // ---- work ---------------------------------------------------------------------------------------

    @Override
    public void launch(String fn, int gx, int gy, int gz, int bx, int by, int smem, int smemAllowed, Object[] args) {
        if (gx <= 0 || gy <= 0 || gz <= 0 || gy > 65535 || gz > 65535)
            throw new IllegalStateException(fn + ": grid (" + gx + ", " + gy + ", " + gz + ") is outside the launch limits");
        if (bx <= 0 || by <= 0 || (long) bx * by > 1024) throw new IllegalStateException(fn + ": block (" + bx + ", " + by + ") is outside the launch limits");
        if (smem > Math.max(48 * 1024, smemAllowed)) throw new IllegalStateException(fn + ": " + smem + " B of dynamic shared memory without opting in");
        List<Pointer> ptrs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (!(args[i] instanceof Pointer)) continue;
            Pointer p = (Pointer) args[i];
            if (address(p) != 0) {
                checkExtent(fn + " argument " + i, p, 1);
                ptrs.add(p);
            }
        }
        record(new Launch(fn, ptrs, kernel(fn, gx, gy, gz, bx, by, smem, args)));
    }

    /** Whether GEMMs launch our kernels instead of being recorded as one "gemm" (an emulator under -Dsleb.cuda.gemm=fallback). */
    protected boolean runsGemmKernels() { return false; }

    @Override
    public boolean gemm(DType t, CUdeviceptr a, CUdeviceptr w, CUdeviceptr c, int m, int n, int k, float beta) {
        if (runsGemmKernels()) return false;
        int dtype = t == DType.F32 ? 0 : t == DType.BF16 ? 1 : 2; // the emulator's code
        int elemBytes = dtype == 0 ? 4 : 2;
        String ctx = "gemm [" + m + " x " + k + "] x [" + n + " x " + k + "]^T";
        checkExtent(ctx + " A", a, (long) m * k * elemBytes);
        checkExtent(ctx + " W", w, (long) n * k * elemBytes);
        checkExtent(ctx + " C", c, 4L * m * n);
        record(new Launch("gemm", List.of(a, w, c), gemmWork(a, w, c, m, n, k, dtype, beta)));
        return true;
    }

    @Override
    public void copyToHost(Pointer host, CUdeviceptr src, long bytes) {
        notCapturing("copy to the host");
        checkExtent("device-to-host copy", src, bytes);
        toHost(host, src, bytes);
    }

    @Override
    public void copyToDevice(CUdeviceptr dst, Pointer host, long bytes) {
        notCapturing("copy to the device");
        checkExtent("host-to-device copy", dst, bytes);
        toDevice(dst, host, bytes);
    }

    @Override
    public void fill32(CUdeviceptr dst, int bits, long count) {
        notCapturing("fill memory");
        checkExtent("fill", dst, 4L * count);
        fill(dst, bits, count);
    }

    @Override
    public void copyOnDevice(CUdeviceptr dst, CUdeviceptr src, long bytes) {
        notCapturing("copy on the device through the legacy stream");
        checkExtent("device-to-device copy (destination)", dst, bytes);
        checkExtent("device-to-device copy (source)", src, bytes);
        record(new Launch("copy", List.of(dst, src), copyWork(dst, src, bytes)));
    }

    /** Keeps the launch for a graph being captured, or records and runs it now. */
    private void record(Launch l) {
        if (capturing != null) {
            capturing.add(l);
            return;
        }
        launches.add(l);
        if (l.run != null) l.run.run();
    }

    private void notCapturing(String what) {
        if (capturing != null) throw new IllegalStateException("tried to " + what + " while capturing a CUDA graph");
    }

    // ---- graphs -------------------------------------------------------------------------------------

    /** A captured graph: the launches, checked again and run again at each replay. */
    private static final class Recorded implements Graph {
        final List<Launch> launches;

        Recorded(List<Launch> launches) { this.launches = launches; }
    }

    @Override
    public Graph capture(Runnable work) {
        if (capturing != null) throw new IllegalStateException("nested graph capture");
        capturing = new ArrayList<>();
        try {
            work.run();
            return new Recorded(capturing);
        } finally {
            capturing = null;
        }
    }

    @Override public void destroy(Graph g) {}

    @Override
    public void replay(Graph g) {
        List<Launch> graph = ((Recorded) g).launches;
        for (Launch l : graph)
            for (Pointer p : l.pointers) checkExtent("replay of " + l.fn, p, 1);
        launches.addAll(graph);
        for (Launch l : graph) if (l.run != null) l.run.run();
        replays++;
    }
}
