package sleb.cli;

import java.util.List;
import sleb.model.BlockSelection;
import sleb.util.UsageException;

/** A block-list or ratio flag read into a {@link BlockSelection}; a refusal names the flag. */
final class BlockFlags {
    private BlockFlags() {}

    /** {@code --remove LIST}: the blocks to skip, checked against the model's block count. */
    static BlockSelection removing(String flag, int nLayers, List<Integer> removed) {
        try {
            return BlockSelection.removing(nLayers, removed);
        } catch (BlockSelection.Invalid e) {
            throw named(flag, e);
        }
    }

    /** ceil(ratio x nLayers), the one ratio rule ({@link BlockSelection#countFromRatio}). */
    static int countFromRatio(String flag, double ratio, int nLayers) {
        try {
            return BlockSelection.countFromRatio(ratio, nLayers);
        } catch (BlockSelection.Invalid e) {
            throw named(flag, e);
        }
    }

    /** bench's {@code --remove-last-ratio R}: the last ceil(R x n) blocks before the final one. */
    static BlockSelection lastBeforeFinal(String flag, int nLayers, double ratio) {
        try {
            return BlockSelection.lastBeforeFinal(nLayers, ratio);
        } catch (BlockSelection.Invalid e) {
            throw named(flag, e);
        }
    }

    private static UsageException named(String flag, BlockSelection.Invalid e) {
        return new UsageException(flag + " " + e.problem());
    }
}
