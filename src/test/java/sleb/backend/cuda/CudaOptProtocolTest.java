package sleb.backend.cuda;

import static org.testng.Assert.assertEquals;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.testng.annotations.DataProvider;
import org.testng.annotations.Test;
import sleb.backend.Activations;
import sleb.backend.LoadedModel;
import sleb.model.DType;
import sleb.model.Model;
import sleb.model.Tensor;

/**
 * The CUDA backend's OPT host code on a dry-run device (as CudaHostProtocolTest for LLaMA): the launches of an
 * OPT block, of the embedding and of the lm_head input, written out from modeling_opt.py's definition, for both
 * layouts and for fp32 and 16-bit GEMMs; a decode step captured once and replayed; nothing left allocated.
 * The models are the shared opt-tiny fixtures with every tensor re-stored in the dtype under test (numbers are
 * not computed on a dry-run device). Skips without ../shared.
 */
public class CudaOptProtocolTest {
    /** The fixture with every tensor stored as t. */
    private static Model restored(Model m, DType t) {
        Map<String, Tensor> ts = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : m.tensors().entrySet()) {
            Tensor s = e.getValue();
            float[] v = new float[(int) s.numel()];
            for (int i = 0; i < v.length; i++) v[i] = (float) s.get(i);
            ts.put(e.getKey(), Tensor.ofFloats(e.getKey(), t, s.shape(), v));
        }
        return new Model(m.config(), ts, null, Model.SourceFormat.SYNTHETIC, null);
    }

    private static List<String> names(List<DryRun.Launch> ls) {
        List<String> out = new ArrayList<>();
        for (DryRun.Launch l : ls) out.add(l.fn);
        return out;
    }

    /** One OPT block's launches: pre-LN LN → attention → +out_proj → LN → fc1 → ReLU → +fc2; post-LN the LNs after the residual adds. */
    private static List<String> blockRecipe(DType t, boolean pre, boolean cache) {
        String s = CudaOps.suffix(t);
        boolean narrow = t != DType.F32;
        List<String> r = new ArrayList<>();
        if (pre) r.add("layernorm_" + s);
        else if (narrow) r.add("f32_to_" + s);
        r.addAll(List.of("gemm", "add_bias"));
        if (cache) r.add("kv_append");
        r.add(cache ? "attention_decode" : "attention_prefill");
        if (narrow) r.add("f32_to_" + s);
        r.addAll(List.of("gemm", "add_bias"));
        if (pre) r.add("layernorm_" + s);
        else {
            r.add("layernorm_f32");
            if (narrow) r.add("f32_to_" + s);
        }
        r.addAll(List.of("gemm", "bias_relu_" + s, "gemm", "add_bias"));
        if (!pre) r.add("layernorm_f32");
        return r;
    }

    /** Token rows: embed_tokens, project_in where present (its input narrowed for a 16-bit GEMM), + position rows. */
    private static List<String> embedRecipe(DType t, boolean project) {
        String s = CudaOps.suffix(t);
        List<String> r = new ArrayList<>(List.of("embedding_" + s));
        if (project) {
            if (t != DType.F32) r.add("f32_to_" + s);
            r.add("gemm");
        }
        r.add("position_embedding_add_" + s);
        return r;
    }

    /** The lm_head's input and the lm_head: final LayerNorm (pre-LN) or a narrowing (post-LN, 16-bit), project_out, lm_head. */
    private static List<String> headRecipe(DType t, boolean pre, boolean project) {
        String s = CudaOps.suffix(t);
        List<String> r = new ArrayList<>();
        if (pre) r.add("layernorm_" + s);
        else if (t != DType.F32) r.add("f32_to_" + s);
        if (project) {
            r.add("gemm");
            if (t != DType.F32) r.add("f32_to_" + s);
        }
        r.add("gemm");
        return r;
    }

    @DataProvider
    public Object[][] variants() {
        return new Object[][] {{"opt-tiny-preln", DType.F32}, {"opt-tiny-preln", DType.F16}, {"opt-tiny-postln-proj", DType.F32},
            {"opt-tiny-postln-proj", DType.BF16}};
    }

    @Test(dataProvider = "variants")
    public void forwardAndDecodeKeepTheProtocol(String fixture, DType t) throws Exception {
        try (Model src = CudaOptTest.fixture(fixture)) {
            Model m = restored(src, t);
            boolean pre = m.config().opt.layerNormBefore, project = m.config().opt.projectInOut;
            CudaDevice dev = CudaDevice.dryRun(1L << 30);
            CudaBackend be = new CudaBackend(dev);
            int[][] tokens = new int[2][19];
            for (int b = 0; b < 2; b++) for (int i = 0; i < 19; i++) tokens[b][i] = (i * 7 + b) % 512;
            try (CudaLoadedModel lm = (CudaLoadedModel) be.load(m)) {
                List<String> weights = dev.dry.live();
                dev.dry.launches.clear();
                try (Activations x = lm.embed(tokens)) {
                    assertEquals(names(dev.dry.launches), embedRecipe(t, project), "embedding");
                    dev.dry.launches.clear();
                    lm.runBlock(1, x);
                    assertEquals(names(dev.dry.launches), blockRecipe(t, pre, false), "prefill block");
                    dev.dry.launches.clear();
                    lm.lastLogits(x);
                    List<String> head = new ArrayList<>(List.of("copy", "copy")); // each sequence's last row
                    head.addAll(headRecipe(t, pre, project));
                    assertEquals(names(dev.dry.launches), head, "lm_head");
                    lm.nll(x, tokens);
                }
                int[] blocks = {0, 2, 3};
                for (boolean graphs : new boolean[] {true, false}) {
                    int replays0 = dev.dry.replays;
                    try (CudaDecodeSession s = lm.newSession(2, 24, blocks, graphs)) {
                        s.prefill(new int[][] {{1, 2, 3, 4}, {5, 6, 7, 8}});
                        dev.dry.launches.clear();
                        s.step(new int[] {9, 10});
                        List<String> want = new ArrayList<>(embedRecipe(t, project));
                        for (int b : blocks) want.addAll(blockRecipe(t, pre, true));
                        want.addAll(headRecipe(t, pre, project));
                        assertEquals(names(dev.dry.launches), want, graphs ? "captured step" : "eager step");
                        for (int i = 0; i < 19; i++) s.step(new int[] {i, i + 1});
                        assertEquals(s.position(), 24);
                        assertEquals(dev.dry.replays - replays0, graphs ? 20 : 0);
                    }
                }
                assertEquals(dev.dry.live(), weights, "blocks still allocated after the sessions were closed");
            }
            assertEquals(dev.dry.live(), List.of(), "blocks still allocated after the model was closed");
            be.close();
        }
    }
}
