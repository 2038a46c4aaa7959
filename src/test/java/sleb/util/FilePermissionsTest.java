package sleb.util;

import static org.testng.Assert.assertEquals;

import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.testng.SkipException;
import org.testng.annotations.BeforeClass;
import org.testng.annotations.Test;
import sleb.CliRun;
import sleb.SharedData;
import sleb.model.DType;
import sleb.model.SafetensorsWriter;
import sleb.model.Tensor;

/**
 * What sleb writes gets the permissions any other program gets under this JVM's umask (0644 files and 0755
 * directories under 022), not the owner-only 0600/0700 of Java's temporary files. The expectation is a file and
 * a directory made in the same test with plain Files.createFile / Files.createDirectory.
 */
public class FilePermissionsTest {
    private Path dir;
    private Set<PosixFilePermission> fileMode, dirMode;

    @BeforeClass
    public void reference() throws Exception {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) throw new SkipException("skipped: no POSIX permissions here");
        dir = Files.createTempDirectory("perm");
        fileMode = Files.getPosixFilePermissions(Files.createFile(dir.resolve("plain-file")));
        dirMode = Files.getPosixFilePermissions(Files.createDirectory(dir.resolve("plain-dir")));
    }

    private void assertLikeOthers(Path p) throws Exception {
        Set<PosixFilePermission> want = Files.isDirectory(p) ? dirMode : fileMode;
        assertEquals(PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), PosixFilePermissions.toString(want), p.toString());
    }

    @Test
    public void atomicWritesAndSafetensorsFollowTheUmask() throws Exception {
        Path json = dir.resolve("a.json");
        AtomicFiles.writeString(json, "{}\n");
        assertLikeOthers(json);
        AtomicFiles.writeString(json, "{\"again\": 1}\n"); // replacing keeps the usual mode
        assertLikeOthers(json);
        Path st = dir.resolve("m.safetensors");
        SafetensorsWriter.write(st, Map.of("w", Tensor.ofFloats("w", DType.F32, new long[] {2, 2}, new float[] {1, 2, 3, 4})));
        assertLikeOthers(st);
        Path d = AtomicFiles.newTempDir(dir, "d");
        assertLikeOthers(d);
    }

    /** An exported model directory and every file in it, as `sleb export` writes them. */
    @Test
    public void exportedModelFollowsTheUmask() throws Exception {
        String model = SharedData.require("models/stories260K/stories260K.bin").toString();
        Path out = dir.resolve("exported");
        CliRun r = CliRun.run("export", "--model", model, "--remove", "1", "--out", out.toString(), "--format", "hf");
        assertEquals(r.code, 0, r.err);
        assertLikeOthers(out);
        try (Stream<Path> s = Files.list(out)) {
            // the copied tokenizer too: a new file under the umask, not the (read-only) source's mode
            for (Path p : (Iterable<Path>) s::iterator) assertLikeOthers(p);
        }
    }
}
