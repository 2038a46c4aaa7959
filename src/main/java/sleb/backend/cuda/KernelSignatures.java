package sleb.backend.cuda;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.Pointer;

/**
 * The parameter lists the PTX declares for each kernel (.u64, .u32, .f32, .f64), read from the PTX
 * itself, so that a launch whose Java arguments disagree with the kernel fails with a message instead
 * of reading garbage: cuLaunchKernel cannot check them.
 */
final class KernelSignatures {
    private final Map<String, List<String>> params = new HashMap<>();

    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)");
    private static final Pattern PARAM = Pattern.compile("\\.param\\s+\\.(\\w+)\\s+\\w+");

    private static KernelSignatures resources;

    /** The signatures of the PTX resources, read once per process. */
    static synchronized KernelSignatures ofResources() {
        if (resources == null) {
            KernelSignatures s = new KernelSignatures();
            for (String module : Kernels.MODULES.keySet()) s.add(new String(Kernels.ptx(module), StandardCharsets.US_ASCII));
            resources = s;
        }
        return resources;
    }

    void add(String ptx) {
        Matcher e = ENTRY.matcher(ptx);
        while (e.find()) {
            List<String> types = new ArrayList<>();
            Matcher p = PARAM.matcher(e.group(2));
            while (p.find()) types.add(p.group(1));
            params.put(e.group(1), types);
        }
    }

    List<String> of(String fn) {
        List<String> t = params.get(fn);
        if (t == null) throw new IllegalArgumentException("no kernel " + fn + " in the PTX resources");
        return t;
    }

    /** The PTX parameter type a Java launch argument is passed as. */
    static String typeOf(Object a) {
        if (a instanceof Pointer || a instanceof Long) return "u64";
        if (a instanceof Integer) return "u32";
        if (a instanceof Float) return "f32";
        if (a instanceof Double) return "f64";
        return a == null ? "null" : a.getClass().getSimpleName();
    }

    /** Throws when args do not match fn's parameters in number and width. */
    void check(String fn, Object[] args) {
        List<String> want = of(fn);
        boolean ok = want.size() == args.length;
        for (int i = 0; ok && i < args.length; i++) {
            String w = want.get(i), got = typeOf(args[i]);
            // the PTX may declare an integer parameter as signed or untyped bits of the same width
            ok = got.equals(w) || (w.matches("[bs]64") && got.equals("u64")) || (w.matches("[bs]32") && got.equals("u32"));
        }
        if (!ok) {
            List<String> got = new ArrayList<>();
            for (Object a : args) got.add(typeOf(a));
            throw new IllegalArgumentException("kernel " + fn + " takes (" + String.join(", ", want) + "), launched with (" + String.join(", ", got) + ")");
        }
    }
}
