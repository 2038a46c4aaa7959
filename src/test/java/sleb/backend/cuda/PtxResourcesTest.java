package sleb.backend.cuda;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertNotNull;
import static org.testng.Assert.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.testng.annotations.Test;

/** Runs without a GPU: the PTX resources are on the class path and declare what docs/cuda.md promises. */
public class PtxResourcesTest {
    private static String read(String module) throws Exception {
        try (InputStream in = Kernels.class.getResourceAsStream(Kernels.DIR + module + ".ptx")) {
            assertNotNull(in, "missing resource " + Kernels.DIR + module + ".ptx (run make kernels)");
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    private static String directive(String ptx, String name) {
        Matcher m = Pattern.compile("(?m)^\\." + name + " (\\S+)\\s*$").matcher(ptx);
        assertTrue(m.find(), "no ." + name + " line");
        return m.group(1);
    }

    @Test
    public void everyModuleHasItsKernelsAndTheDocumentedVersion() throws Exception {
        for (Map.Entry<String, List<String>> e : Kernels.MODULES.entrySet()) {
            String ptx = read(e.getKey());
            assertEquals(directive(ptx, "version"), Kernels.PTX_VERSION, e.getKey() + ".ptx .version");
            assertEquals(directive(ptx, "target"), Kernels.PTX_TARGET, e.getKey() + ".ptx .target");
            assertEquals(directive(ptx, "address_size"), "64", e.getKey() + ".ptx .address_size");
            for (String fn : e.getValue())
                assertTrue(Pattern.compile("\\.entry " + fn + "\\(").matcher(ptx).find(), e.getKey() + ".ptx lacks kernel " + fn);
        }
    }

    @Test
    public void docsPromiseTheSameVersionAndTarget() throws Exception {
        Path doc = Path.of("docs", "cuda.md");
        assertTrue(Files.exists(doc), "docs/cuda.md is missing (tests run from the project root)");
        String text = Files.readString(doc);
        Matcher m = Pattern.compile("PTX contract: `\\.version ([0-9.]+)`, `\\.target (sm_[0-9]+)`").matcher(text);
        assertTrue(m.find(), "docs/cuda.md has no 'PTX contract: `.version X`, `.target sm_NN`' line");
        assertEquals(m.group(1), Kernels.PTX_VERSION);
        assertEquals(m.group(2), Kernels.PTX_TARGET);
    }

    @Test
    public void everyKernelSourceHasAResource() throws Exception {
        Path src = Path.of("native-kernels");
        if (!Files.isDirectory(src)) throw new org.testng.SkipException("native-kernels/ is not here: run from the repository root");
        try (var files = Files.list(src)) {
            for (Path p : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".cu"))::iterator) {
                String module = p.getFileName().toString().replace(".cu", "");
                assertTrue(Kernels.MODULES.containsKey(module), module + ".cu is not listed in Kernels.MODULES");
                read(module);
            }
        }
    }
}
