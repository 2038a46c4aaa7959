package sleb.model;

/** How rotary embeddings pair the dimensions of a head. */
public enum RopeStyle {
    /** llama2.c / Meta checkpoints: rotate (2i, 2i+1). */
    ADJACENT,
    /** Hugging Face layout: rotate (i, i + headDim/2). */
    HALF
}
