package sleb.util;

import static org.testng.Assert.assertEquals;
import static org.testng.Assert.assertNull;

import com.google.gson.reflect.TypeToken;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.testng.annotations.Test;

public class SettingsDiffTest {
    private static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    /** What a resumable file holds once read back: Gson gives every number as a double. */
    private static Map<String, Object> readBack(Map<String, Object> written) {
        return Json.GSON.fromJson(Json.GSON.toJson(written), new TypeToken<Map<String, Object>>() {}.getType());
    }

    @Test
    public void aSettingReadBackEqualsWhatWasWritten() {
        Map<String, Object> now = map("seqlen", 512, "removed", List.of(1, 3), "bos", true, "ratio", 0.2);
        assertNull(SettingsDiff.first(readBack(now), now));
    }

    @Test
    public void theFirstChangeShowsBothValuesAsWritten() {
        Map<String, Object> recorded = readBack(map("seqlen", 512, "removed", List.of(1, 3)));
        assertEquals(SettingsDiff.first(recorded, map("seqlen", 256, "removed", List.of(1, 4))), new SettingsDiff.Change("seqlen", "512", "256"));
        assertEquals(SettingsDiff.first(recorded, map("seqlen", 512, "removed", List.of(1, 4))), new SettingsDiff.Change("removed", "[1,3]", "[1,4]"));
        assertEquals(SettingsDiff.first(map(), map("bos", false)), new SettingsDiff.Change("bos", "null", "false"));
    }

    @Test
    public void aRecordedSettingMissingNowIsAChange() {
        assertEquals(SettingsDiff.first(readBack(map("seqlen", 512, "seed", 3)), map("seqlen", 512)), new SettingsDiff.Change("seed", "3", null));
    }
}
