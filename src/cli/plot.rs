//! SVG plots with plotters: learning curves (optionally with a min–max band), the states and
//! controls of the control demonstrations, and grid heatmaps (a value per cell of a grid world).

use std::path::Path;

use plotters::prelude::*;

/// One curve, with an optional band `(lower, upper)` drawn under it.
pub struct Series {
    pub label: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub band: Option<(Vec<f64>, Vec<f64>)>,
    /// The palette index of its colour (default: its position), so that several curves can
    /// share one (a skill's trajectories).
    pub color: Option<usize>,
}

impl Series {
    pub fn line(label: &str, x: Vec<f64>, y: Vec<f64>) -> Self {
        Series {
            label: label.to_string(),
            x,
            y,
            band: None,
            color: None,
        }
    }
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((high - low) * 0.05).max(1e-6 * low.abs().max(1.0));
    (low - pad, high + pad)
}

/// Points of a curve where both coordinates are finite.
fn points(x: &[f64], y: &[f64]) -> Vec<(f64, f64)> {
    x.iter()
        .zip(y)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(&x, &y)| (x, y))
        .collect()
}

/// Draws `series` against a shared x axis into the SVG file `path`.
pub fn line_plot(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), String> {
    let error = |e: &dyn std::fmt::Display| format!("cannot draw {}: {e}", path.display());
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| error(&e))?;
    let x_range = range(series.iter().flat_map(|s| s.x.iter().copied()));
    let y_range = range(series.iter().flat_map(|s| {
        let band = s.band.iter().flat_map(|(lo, hi)| lo.iter().chain(hi));
        s.y.iter().chain(band).copied()
    }));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
        .map_err(|e| error(&e))?;
    chart
        .configure_mesh()
        .max_light_lines(4)
        .light_line_style(BLACK.mix(0.05))
        .x_desc(x_label)
        .y_desc(y_label)
        .draw()
        .map_err(|e| error(&e))?;
    for (index, s) in series.iter().enumerate() {
        let color = Palette99::pick(s.color.unwrap_or(index)).to_rgba();
        if let Some((lower, upper)) = &s.band {
            let mut outline = points(&s.x, upper);
            let mut below = points(&s.x, lower);
            below.reverse();
            outline.extend(below);
            chart
                .draw_series(std::iter::once(Polygon::new(
                    outline,
                    color.mix(0.2).filled(),
                )))
                .map_err(|e| error(&e))?;
        }
        let drawn = chart
            .draw_series(LineSeries::new(points(&s.x, &s.y), color.stroke_width(2)))
            .map_err(|e| error(&e))?;
        if !s.label.is_empty() {
            drawn.label(s.label.clone()).legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
            });
        }
    }
    if series.len() > 1 || !series.iter().all(|s| s.label.is_empty()) {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| error(&e))?;
    }
    root.present().map_err(|e| error(&e))
}

/// One cell of a grid heatmap: the value that sets its colour and the lines written in it.
pub struct Cell {
    pub value: f64,
    pub lines: Vec<String>,
}

/// The colour of `t ∈ [0, 1]` on a white → blue ramp.
fn ramp(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mix = |from: f64, to: f64| (from + (to - from) * t).round() as u8;
    RGBColor(mix(247.0, 8.0), mix(251.0, 69.0), mix(255.0, 148.0))
}

/// Draws an `nrow × ncol` grid of `cells` (row by row) into the SVG file `path`: one square
/// per cell coloured by its value (lowest white, highest dark blue), with its lines of text.
pub fn grid_heatmap(
    path: &Path,
    title: &str,
    nrow: usize,
    ncol: usize,
    cells: &[Cell],
) -> Result<(), String> {
    if cells.len() != nrow * ncol {
        return Err(format!(
            "cannot draw {}: {} cells for a {nrow}×{ncol} grid; expected {}",
            path.display(),
            cells.len(),
            nrow * ncol
        ));
    }
    let error = |e: &dyn std::fmt::Display| format!("cannot draw {}: {e}", path.display());
    let side = 80_i32;
    let (margin, top) = (10_i32, 40_i32);
    let size = (
        (2 * margin + side * ncol as i32) as u32,
        (top + margin + side * nrow as i32) as u32,
    );
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| error(&e))?;
    let centre = plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Center,
        plotters::style::text_anchor::VPos::Center,
    );
    root.draw(&Text::new(
        title.to_string(),
        (size.0 as i32 / 2, top / 2),
        ("sans-serif", 18).into_font().color(&BLACK).pos(centre),
    ))
    .map_err(|e| error(&e))?;
    let (low, high) = range(cells.iter().map(|c| c.value));
    for (index, cell) in cells.iter().enumerate() {
        let (row, col) = ((index / ncol) as i32, (index % ncol) as i32);
        let (x, y) = (margin + col * side, top + row * side);
        let t = (cell.value - low) / (high - low);
        root.draw(&Rectangle::new(
            [(x, y), (x + side - 1, y + side - 1)],
            ramp(t).filled(),
        ))
        .map_err(|e| error(&e))?;
        let ink = if t > 0.55 { WHITE } else { BLACK };
        let spacing = 18;
        let first = y + side / 2 - spacing * (cell.lines.len() as i32 - 1) / 2;
        for (k, line) in cell.lines.iter().enumerate() {
            root.draw(&Text::new(
                line.clone(),
                (x + side / 2, first + spacing * k as i32),
                ("sans-serif", 15).into_font().color(&ink).pos(centre),
            ))
            .map_err(|e| error(&e))?;
        }
    }
    root.present().map_err(|e| error(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plot_has_one_polyline_per_series_and_a_band_polygon() {
        let path = std::env::temp_dir().join(format!("wengert-plot-{}.svg", std::process::id()));
        let mut banded = Series::line("b", vec![0.0, 1.0, 2.0], vec![1.0, 2.0, 3.0]);
        banded.band = Some((vec![0.5, 1.5, 2.5], vec![1.5, 2.5, 3.5]));
        line_plot(
            &path,
            "title",
            "x",
            "y",
            &[
                Series::line("a", vec![0.0, 1.0, 2.0], vec![0.0, f64::NAN, 4.0]),
                banded,
            ],
        )
        .unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"));
        // Two curves plus two legend samples; the band is a polygon.
        assert!(svg.matches("<polyline").count() >= 2, "{svg}");
        assert_eq!(svg.matches("<polygon").count(), 1);
        assert!(svg.contains("title"));
        std::fs::remove_file(&path).unwrap();
    }
}
