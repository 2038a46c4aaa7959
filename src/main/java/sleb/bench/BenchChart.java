package sleb.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;
import sleb.util.AtomicFiles;

/** A bar chart of tokens/s per variant with the 95% interval as error bars, written as PNG. */
public final class BenchChart {
    private BenchChart() {}

    public static void write(Path png, String title, List<String> labels, double[] tokensPerSecond, double[] errLow, double[] errHigh) throws IOException {
        System.setProperty("java.awt.headless", "true");
        CategoryChart chart = new CategoryChartBuilder().width(720).height(480).title(title)
                .xAxisTitle("blocks run").yAxisTitle("tokens/s (median, 95% CI of the mean)").build();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setChartTitleFont(chart.getStyler().getChartTitleFont().deriveFont(13f));
        chart.getStyler().setErrorBarsColor(java.awt.Color.DARK_GRAY);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        List<Double> y = new ArrayList<>(), e = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++) {
            y.add(tokensPerSecond[i]);
            // XChart draws symmetric bars: the larger half of the interval, never hiding it
            double err = Math.max(errLow[i], errHigh[i]);
            e.add(Double.isFinite(err) ? err : 0.0);
        }
        chart.addSeries("tokens/s", new ArrayList<>(labels), y, e);
        byte[] bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        Path abs = png.toAbsolutePath();
        if (abs.getParent() != null) Files.createDirectories(abs.getParent());
        AtomicFiles.write(abs, bytes);
    }
}
