package sleb.prune;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import sleb.util.AtomicFiles;

/**
 * run.png: one line per phase, the candidate's score (loss, or mean cosine) against its original block
 * index, with the block removed in that phase ringed. Lower is better for losses, higher for cosine.
 */
public final class PruneChart {
    private PruneChart() {}

    public static void write(PruneState s, Path png) throws IOException {
        boolean cosine = "cosine".equals(s.settings.get("metric")), sleb = "sleb".equals(s.settings.get("metric"));
        String title = String.format("SLEB-J %s: removal order %s", s.settings.get("metric"), s.removal_order);
        XYChart c = new XYChartBuilder().width(900).height(560).title(title)
                .xAxisTitle("original block index (candidate skipped)")
                .yAxisTitle(cosine ? "mean cos(block input, block output)  (higher = removed first)" : "calibration NLL, summed  (lower = removed first)")
                .build();
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setPlotGridLinesVisible(true);
        c.getStyler().setXAxisDecimalPattern("0");
        c.getStyler().setMarkerSize(7);
        List<Double> selX = new ArrayList<>(), selY = new ArrayList<>();
        for (PruneState.Phase ph : s.phases) {
            if (ph.candidates.isEmpty()) continue;
            List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
            for (PruneState.Candidate cand : ph.candidates) {
                xs.add((double) cand.block);
                ys.add(cand.score());
            }
            String name = "phase " + ph.phase + (ph.selected != null && sleb
                    ? ": removed " + ph.selected : (ph.complete ? "" : " (running)"));
            XYSeries ser = c.addSeries(name, xs, ys);
            ser.setMarker(SeriesMarkers.CIRCLE);
            if (ph.selected != null && sleb) {
                selX.add((double) ph.selected);
                selY.add(ph.selected_score);
            }
        }
        if (!sleb && !s.phases.isEmpty()) {
            for (PruneState.Candidate cand : s.phases.get(0).candidates) {
                if (s.removal_order.contains(cand.block)) {
                    selX.add((double) cand.block);
                    selY.add(cand.score());
                }
            }
        }
        if (!selX.isEmpty()) {
            XYSeries sel = c.addSeries("removed", selX, selY);
            sel.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            sel.setMarker(SeriesMarkers.DIAMOND);
            sel.setMarkerColor(Color.RED);
            sel.setLineStyle(new BasicStroke(0f));
        }
        if (c.getSeriesMap().isEmpty()) return;
        byte[] bytes = BitmapEncoder.getBitmapBytes(c, BitmapEncoder.BitmapFormat.PNG);
        AtomicFiles.write(png, bytes);
    }
}
