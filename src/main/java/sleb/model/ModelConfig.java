package sleb.model;

/**
 * Shape and hyper-parameters of a LLaMA-family or OPT decoder. Immutable; {@link #withLayers} makes the
 * config of a model with fewer blocks (export, synthetic shapes). OPT configs carry an {@link OptLayout}
 * in {@link #opt} (which says what the shared fields mean for OPT); LLaMA-family ones carry null.
 */
public final class ModelConfig {
    public final String architecture;   // e.g. LlamaForCausalLM
    public final String modelType;      // llama, mistral, qwen2
    public final int dim;
    public final int hiddenDim;
    public final int nLayers;
    public final int nHeads;
    public final int nKvHeads;
    public final int headDim;
    public final int vocabSize;
    public final int maxSeqLen;
    public final float normEps;
    public final double ropeTheta;
    public final RopeStyle ropeStyle;
    public final boolean tiedEmbeddings;
    public final boolean qkvBias;
    /** LLaMA-3.1 style rope scaling ("llama3"); null when absent. */
    public final Llama3RopeScaling ropeScaling;
    public final int bosId;
    public final int eosId;
    /** OPT's layout (LayerNorm, biases, ReLU, learned positions, project_in/out); null for LLaMA-family models. */
    public final OptLayout opt;
    /** Sliding-window size per layer (original layer index), 0 where the layer attends to every earlier position. */
    private final int[] slidingWindows;
    /**
     * Per rotary pair i, the divisor of its frequency theta^(-2i/head_dim), as llama.cpp's rope_freqs tensor (what
     * convert_hf_to_gguf writes for LLaMA-3.1 rope scaling) holds it; null when the frequencies come from
     * {@link #ropeScaling} or are unscaled.
     */
    private final double[] ropeFreqFactors;

    public static final class Llama3RopeScaling {
        public final double factor, lowFreqFactor, highFreqFactor;
        public final int originalMaxPositions;

        public Llama3RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
            this.factor = factor;
            this.lowFreqFactor = lowFreqFactor;
            this.highFreqFactor = highFreqFactor;
            this.originalMaxPositions = originalMaxPositions;
        }
    }

    public ModelConfig(String architecture, String modelType, int dim, int hiddenDim, int nLayers, int nHeads,
                       int nKvHeads, int headDim, int vocabSize, int maxSeqLen, float normEps, double ropeTheta,
                       RopeStyle ropeStyle, boolean tiedEmbeddings, boolean qkvBias, Llama3RopeScaling ropeScaling,
                       int bosId, int eosId) {
        this(architecture, modelType, dim, hiddenDim, nLayers, nHeads, nKvHeads, headDim, vocabSize, maxSeqLen, normEps, ropeTheta,
                ropeStyle, tiedEmbeddings, qkvBias, ropeScaling, bosId, eosId, null);
    }

    /**
     * @param slidingWindows per layer, the number of positions a query sees (itself and the window - 1 before
     *     it, as transformers' sliding-window mask {@code i - window < j <= i}); 0 for full causal attention.
     *     null: no layer has a window.
     */
    public ModelConfig(String architecture, String modelType, int dim, int hiddenDim, int nLayers, int nHeads,
                       int nKvHeads, int headDim, int vocabSize, int maxSeqLen, float normEps, double ropeTheta,
                       RopeStyle ropeStyle, boolean tiedEmbeddings, boolean qkvBias, Llama3RopeScaling ropeScaling,
                       int bosId, int eosId, int[] slidingWindows) {
        this(architecture, modelType, dim, hiddenDim, nLayers, nHeads, nKvHeads, headDim, vocabSize, maxSeqLen, normEps, ropeTheta,
                ropeStyle, tiedEmbeddings, qkvBias, ropeScaling, bosId, eosId, slidingWindows, (OptLayout) null);
    }

    /** @param opt OPT's layout, or null for a LLaMA-family decoder. */
    public ModelConfig(String architecture, String modelType, int dim, int hiddenDim, int nLayers, int nHeads,
                       int nKvHeads, int headDim, int vocabSize, int maxSeqLen, float normEps, double ropeTheta,
                       RopeStyle ropeStyle, boolean tiedEmbeddings, boolean qkvBias, Llama3RopeScaling ropeScaling,
                       int bosId, int eosId, int[] slidingWindows, OptLayout opt) {
        this(architecture, modelType, dim, hiddenDim, nLayers, nHeads, nKvHeads, headDim, vocabSize, maxSeqLen, normEps, ropeTheta,
                ropeStyle, tiedEmbeddings, qkvBias, ropeScaling, bosId, eosId, slidingWindows, opt, null);
    }

    /** @param ropeFreqFactors head_dim/2 divisors of the rotary frequencies (GGUF rope_freqs), or null */
    ModelConfig(String architecture, String modelType, int dim, int hiddenDim, int nLayers, int nHeads,
                int nKvHeads, int headDim, int vocabSize, int maxSeqLen, float normEps, double ropeTheta,
                RopeStyle ropeStyle, boolean tiedEmbeddings, boolean qkvBias, Llama3RopeScaling ropeScaling,
                int bosId, int eosId, int[] slidingWindows, OptLayout opt, double[] ropeFreqFactors) {
        this.architecture = architecture;
        this.modelType = modelType;
        this.dim = dim;
        this.hiddenDim = hiddenDim;
        this.nLayers = nLayers;
        this.nHeads = nHeads;
        this.nKvHeads = nKvHeads;
        this.headDim = headDim;
        this.vocabSize = vocabSize;
        this.maxSeqLen = maxSeqLen;
        this.normEps = normEps;
        this.ropeTheta = ropeTheta;
        this.ropeStyle = ropeStyle;
        this.tiedEmbeddings = tiedEmbeddings;
        this.qkvBias = qkvBias;
        this.ropeScaling = ropeScaling;
        this.bosId = bosId;
        this.eosId = eosId;
        this.opt = opt;
        if (dim <= 0 || hiddenDim <= 0 || nLayers <= 0 || nHeads <= 0 || nKvHeads <= 0 || headDim <= 0 || vocabSize <= 0)
            throw new ModelFormatException("config has a non-positive size (dim, hidden, layers, heads or vocab)");
        if (nHeads % nKvHeads != 0)
            throw new ModelFormatException("num_attention_heads " + nHeads + " is not a multiple of num_key_value_heads " + nKvHeads);
        if (opt != null && (nKvHeads != nHeads || headDim * nHeads != dim))
            throw new ModelFormatException("hidden_size " + dim + " is not num_attention_heads " + nHeads + " x head_dim; OPT needs hidden_size divisible by num_attention_heads");
        if (opt != null && opt.wordEmbedProjDim <= 0) throw new ModelFormatException("word_embed_proj_dim " + opt.wordEmbedProjDim + " must be positive");
        if (opt != null && opt.projectInOut != (opt.wordEmbedProjDim != dim))
            throw new IllegalArgumentException("project_in/out exist exactly when word_embed_proj_dim " + opt.wordEmbedProjDim + " differs from hidden_size " + dim);
        if (opt == null && headDim % 2 != 0) throw new ModelFormatException("head_dim " + headDim + " must be even for RoPE");
        this.slidingWindows = slidingWindows == null ? new int[nLayers] : slidingWindows.clone();
        if (this.slidingWindows.length != nLayers)
            throw new IllegalArgumentException(this.slidingWindows.length + " sliding windows for " + nLayers + " layers");
        for (int w : this.slidingWindows) if (w < 0) throw new ModelFormatException("sliding window " + w + " is negative");
        if (ropeFreqFactors != null && ropeFreqFactors.length != headDim / 2)
            throw new ModelFormatException(ropeFreqFactors.length + " rope frequency factors for head_dim " + headDim + " (expected " + headDim / 2 + ")");
        if (ropeFreqFactors != null && ropeScaling != null) throw new IllegalArgumentException("both rope scaling and rope frequency factors");
        this.ropeFreqFactors = ropeFreqFactors == null ? null : ropeFreqFactors.clone();
    }

    /** The per-pair frequency divisors (GGUF rope_freqs), or null. */
    public double[] ropeFreqFactors() { return ropeFreqFactors == null ? null : ropeFreqFactors.clone(); }

    /**
     * The config of a model with {@code layers} blocks: the first ones keep their windows, added ones
     * take the last layer's (synthetic shapes).
     */
    public ModelConfig withLayers(int layers) {
        int[] w = new int[layers];
        for (int i = 0; i < layers; i++) w[i] = slidingWindows[Math.min(i, nLayers - 1)];
        return new ModelConfig(architecture, modelType, dim, hiddenDim, layers, nHeads, nKvHeads, headDim, vocabSize,
                maxSeqLen, normEps, ropeTheta, ropeStyle, tiedEmbeddings, qkvBias, ropeScaling, bosId, eosId, w, opt, ropeFreqFactors);
    }

    /** Positions a query of layer {@code layer} (original index) sees, itself included; 0: all earlier positions. */
    public int slidingWindow(int layer) { return slidingWindows[layer]; }

    /** Whether any layer has a sliding window. */
    public boolean hasSlidingWindow() {
        for (int w : slidingWindows) if (w > 0) return true;
        return false;
    }

    /** Whether this is an OPT decoder ({@link #opt} is set). */
    public boolean isOpt() { return opt != null; }

    /** Width of the token embedding and lm_head rows: word_embed_proj_dim for OPT, else dim. */
    public int embedDim() { return opt != null ? opt.wordEmbedProjDim : dim; }

    public int qDim() { return nHeads * headDim; }
    public int kvDim() { return nKvHeads * headDim; }

    /** Parameters of one block. */
    public long blockParams() {
        if (opt != null) return OptLayout.blockParams(this);
        long attn = (long) dim * qDim() + 2L * dim * kvDim() + (long) qDim() * dim;
        if (qkvBias) attn += qDim() + 2L * kvDim();
        return attn + 3L * dim * hiddenDim + 2L * dim;
    }

    public long totalParams() {
        if (opt != null) return OptLayout.outerParams(this) + nLayers * blockParams();
        long embed = (long) vocabSize * dim;
        return embed + (tiedEmbeddings ? 0 : embed) + nLayers * blockParams() + dim;
    }

    /** Inverse frequencies for RoPE, including llama3 scaling (as transformers computes them). */
    public double[] ropeInvFreq() {
        int half = headDim / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) inv[i] = 1.0 / Math.pow(ropeTheta, (2.0 * i) / headDim);
        if (ropeFreqFactors != null) for (int i = 0; i < half; i++) inv[i] /= ropeFreqFactors[i];
        if (ropeScaling != null) {
            Llama3RopeScaling s = ropeScaling;
            double lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
            double highWavelen = s.originalMaxPositions / s.highFreqFactor;
            for (int i = 0; i < half; i++) {
                double wavelen = 2 * Math.PI / inv[i];
                if (wavelen > lowWavelen) {
                    inv[i] = inv[i] / s.factor;
                } else if (wavelen >= highWavelen) {
                    double smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
                    inv[i] = (1 - smooth) * inv[i] / s.factor + smooth * inv[i];
                }
            }
        }
        return inv;
    }

    public String describe() {
        if (opt != null)
            return String.format("%s (%s): dim %d, ffn_dim %d, %d blocks, %d heads, head_dim %d, vocab %d, learned positions %d%s",
                    architecture, modelType, dim, hiddenDim, nLayers, nHeads, headDim, vocabSize, maxSeqLen, opt.describe());
        return String.format("%s (%s): dim %d, hidden %d, %d blocks, %d heads (%d KV), head_dim %d, vocab %d, rope_theta %.0f%s%s%s",
                architecture, modelType, dim, hiddenDim, nLayers, nHeads, nKvHeads, headDim, vocabSize, ropeTheta,
                ropeScaling != null ? ", llama3 rope scaling x" + ropeScaling.factor : ropeFreqFactors != null ? ", rope_freqs factors" : "",
                qkvBias ? ", q/k/v bias" : "", describeWindows());
    }

    /** ", sliding window 4096" (every layer) or ", sliding window 4096 on layers 20..27", or "". */
    private String describeWindows() {
        if (!hasSlidingWindow()) return "";
        java.util.TreeSet<Integer> sizes = new java.util.TreeSet<>();
        java.util.List<Integer> on = new java.util.ArrayList<>();
        for (int i = 0; i < nLayers; i++) if (slidingWindows[i] > 0) { sizes.add(slidingWindows[i]); on.add(i); }
        String size = sizes.size() == 1 ? String.valueOf(sizes.first()) : sizes.toString();
        if (on.size() == nLayers) return ", sliding window " + size;
        boolean run = on.get(on.size() - 1) - on.get(0) == on.size() - 1;
        return ", sliding window " + size + " on layers " + (run ? on.get(0) + ".." + on.get(on.size() - 1) : on.toString());
    }
}
