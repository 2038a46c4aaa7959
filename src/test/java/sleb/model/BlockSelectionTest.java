package sleb.model;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.expectThrows;

import java.util.List;
import org.testng.annotations.Test;

public class BlockSelectionTest {
    /** ceil(R x n) on R as written, the one rule of prune's --remove-ratio and bench's --remove-last-ratio. */
    @Test
    public void ratioRoundsUp() {
        assertEquals(BlockSelection.countFromRatio(0.2, 32), 7); // ceil(6.4), as the official latency.py
        assertEquals(BlockSelection.countFromRatio(0.25, 32), 8);
        assertEquals(BlockSelection.countFromRatio(0.2, 5), 1);
        assertEquals(BlockSelection.countFromRatio(0.2, 12), 3);  // 2.4 -> 3
        assertEquals(BlockSelection.countFromRatio(0.1, 30), 3);  // exactly 3 as written (the binary product is 3.0000000000000004)
        assertEquals(BlockSelection.countFromRatio(0.07, 100), 7); // the binary product is 7.000000000000001
        assertEquals(BlockSelection.countFromRatio(0.30000000001, 10), 4); // 3.0000000001 -> 4 (a 1e-9 nudge said 3)
        // bench's --remove-last-ratio counts with the same rule: the last 4 before the final block of 10
        assertEquals(BlockSelection.lastBeforeFinal(10, 0.30000000001).removed(), List.of(5, 6, 7, 8));
    }

    /** The kept blocks are the complement in layer order, whatever order the removal list has (SLEB's removal order). */
    @Test
    public void keptIsTheComplementInLayerOrder() {
        BlockSelection s = BlockSelection.removing(6, List.of(4, 1));
        assertEquals(s.kept(), new int[] {0, 2, 3, 5});
        assertEquals(s.removed(), List.of(4, 1));
        assertEquals(s.removedSorted(), List.of(1, 4));
        assertEquals(s.all(), new int[] {0, 1, 2, 3, 4, 5});
        assertEquals(BlockSelection.dense(3).kept(), new int[] {0, 1, 2});
    }

    /** Refusals say what is wrong without naming a flag; the command puts its flag in front of {@code problem()}. */
    @Test
    public void refusesListsTheModelCannotTake() {
        assertEquals(expectThrows(BlockSelection.Invalid.class, () -> BlockSelection.removing(4, List.of(4))).problem(),
                "4 is not a block of this model (blocks 0..3)");
        assertEquals(expectThrows(BlockSelection.Invalid.class, () -> BlockSelection.removing(4, List.of(-1))).problem(),
                "-1 is not a block of this model (blocks 0..3)");
        assertEquals(expectThrows(BlockSelection.Invalid.class, () -> BlockSelection.removing(4, List.of(2, 2))).problem(), "lists block 2 twice");
        assertEquals(expectThrows(BlockSelection.Invalid.class, () -> BlockSelection.removing(2, List.of(0, 1))).problem(),
                "would remove all 2 blocks; keep at least one");
        assertEquals(expectThrows(BlockSelection.Invalid.class, () -> BlockSelection.lastBeforeFinal(2, 0.9)).problem(),
                "0.9 would remove 2 of 2 blocks; keep at least one");
        assertEquals(expectThrows(BlockSelection.Invalid.class, () -> BlockSelection.countFromRatio(1.0, 10)).getMessage(),
                "removal ratio must be between 0 and 1 (exclusive), got 1.0");
    }
}
