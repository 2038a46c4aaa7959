package sleb.backend.cuda;

import java.util.StringJoiner;
import sleb.backend.Backend;
import sleb.backend.LoadedModel;
import sleb.backend.SplitLoadedModel;
import sleb.model.Model;

/**
 * `--device cuda:0,1`: the blocks of one model split over several GPUs in layer order (contiguous, equal
 * ranges), so a model too large for one card runs on two. Every device also holds the embedding, final
 * norm and lm_head; hidden states cross devices once per boundary through host memory.
 */
final class CudaSplitBackend implements Backend {
    private final CudaBackend[] devices;

    CudaSplitBackend(CudaBackend[] devices) { this.devices = devices.clone(); }

    CudaSplitBackend(int[] ordinals) {
        devices = new CudaBackend[ordinals.length];
        try {
            for (int i = 0; i < ordinals.length; i++) devices[i] = new CudaBackend(ordinals[i]);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public String kind() { return "cuda"; }

    @Override
    public String describe() {
        StringJoiner j = new StringJoiner(" + ", "blocks split in layer order over ", "");
        for (CudaBackend d : devices) j.add(d.describe());
        return j.toString();
    }

    @Override
    public LoadedModel load(Model model) {
        int layers = model.config().nLayers;
        int[] owner = SplitLoadedModel.layerOrder(layers, devices.length);
        LoadedModel[] parts = new LoadedModel[devices.length];
        try {
            for (int d = 0; d < devices.length; d++) {
                boolean[] resident = new boolean[layers];
                for (int l = 0; l < layers; l++) resident[l] = owner[l] == d;
                parts[d] = devices[d].loadPart(model, resident);
            }
        } catch (RuntimeException e) {
            for (LoadedModel p : parts) if (p != null) p.close();
            throw e;
        }
        return new SplitLoadedModel(this, parts, owner);
    }

    @Override
    public void close() {
        for (CudaBackend d : devices) if (d != null) d.close();
    }
}
