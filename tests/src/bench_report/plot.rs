//! Broadcast latency (p50 and p99) against delivered messages per second,
//! one line per server, drawn as a PNG with `plotters`.

use super::{number, runs_of};
use anyhow::Context;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use serde_json::Value;
use std::path::Path;

const SERIES: [(&str, RGBColor); 2] = [
    ("rust", RGBColor(200, 80, 20)),
    ("node", RGBColor(40, 110, 190)),
];

/// Draws the broadcast runs of `runs` into `path`, with text in `font`.
pub fn broadcast_latency(runs: &[Value], path: &Path, font: &Path) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(font).with_context(|| format!("reading the font {}", font.display()))?;
    register_font(
        "sans-serif",
        FontStyle::Normal,
        Box::leak(bytes.into_boxed_slice()),
    )
    .map_err(|_| anyhow::anyhow!("{} is not a usable font", font.display()))?;
    let points = |server: &str, path: &str| -> Vec<(f64, f64)> {
        runs_of(runs, "broadcast", server)
            .into_iter()
            .filter_map(|run| {
                Some((
                    number(run, "deliveredPerSecond")? / 1000.0,
                    number(run, path)?,
                ))
            })
            .collect()
    };
    let all: Vec<(f64, f64)> = SERIES
        .iter()
        .flat_map(|(server, _)| points(server, "latency.p99_ms"))
        .collect();
    anyhow::ensure!(!all.is_empty(), "no broadcast runs to plot");
    let max_x = all.iter().map(|p| p.0).fold(1.0, f64::max) * 1.1;
    let max_y = all.iter().map(|p| p.1).fold(1.0, f64::max) * 1.5;

    let root = BitMapBackend::new(path, (1000, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Broadcast: send-to-receive latency against load",
            ("sans-serif", 26),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..max_x, (0.1..max_y).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("delivered messages per second (thousands)")
        .y_desc("latency, ms (log scale)")
        .label_style(("sans-serif", 16))
        .draw()?;
    for (server, color) in SERIES {
        let p99 = points(server, "latency.p99_ms");
        let p50 = points(server, "latency.p50_ms");
        if p99.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(p99.clone(), color.stroke_width(3)))?
            .label(format!("{server} p99"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], color.stroke_width(3)));
        chart.draw_series(p99.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
        chart
            .draw_series(LineSeries::new(p50, color.mix(0.5).stroke_width(2)))?
            .label(format!("{server} p50"))
            .legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 24, y)], color.mix(0.5).stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()?;
    root.present()?;
    Ok(())
}
