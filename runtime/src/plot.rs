//! Loss-curve plots from a [`History`], as SVG (plotters; the `plot` feature).
//!
//! SVG only: its text is drawn by the viewer, so no font has to be found or shipped and the
//! build needs no system library (plotters' PNG backend rasterises text through fontconfig).
//! Costs that are all positive are drawn on a log scale, where training curves are readable;
//! otherwise on a linear one.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::train::History;
use crate::Error;

/// Most points drawn per series; longer histories are thinned evenly so a 100 000-step run does
/// not produce a 100 000-segment SVG.
const MAX_POINTS: usize = 2000;

const SIZE: (u32, u32) = (800, 500);

/// `(x, y)` points of one curve.
type Points = Vec<(f64, f64)>;

/// Draws the loss curve of `history` to `path`, an `.svg` file.
///
/// The x axis is the epoch, or the step when the run had fewer than two epochs. A validation
/// series is added when the history has one.
///
/// # Errors
/// [`Error::Plot`] for an empty history, an extension other than `.svg` or a backend failure;
/// [`Error::Io`] is not used because plotters reports file errors through its backend.
pub fn plot_loss(history: &History, path: impl AsRef<Path>) -> Result<(), Error> {
    let path = path.as_ref();
    let fail = |message: String| Error::Plot { path: path.to_path_buf(), message };
    let curves = Curves::from_history(history).ok_or_else(|| fail("the history is empty".into()))?;
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => {
            let root = SVGBackend::new(path, SIZE).into_drawing_area();
            draw(&root, &curves).map_err(fail)?;
            root.present().map_err(|e| fail(e.to_string()))
        }
        _ => Err(fail("unsupported extension: loss plots are written as .svg".into())),
    }
}

/// The series to draw, already thinned and (for log scale) transformed.
struct Curves {
    x_label: &'static str,
    log_scale: bool,
    cost: Points,
    validation: Points,
}

impl Curves {
    fn from_history(history: &History) -> Option<Self> {
        let (x_label, cost, validation): (_, Points, Points) = if history.epochs.len() >= 2 {
            (
                "epoch",
                history.epochs.iter().map(|e| (e.epoch as f64, e.cost)).collect(),
                history.epochs.iter().filter_map(|e| e.validation.map(|v| (e.epoch as f64, v))).collect(),
            )
        } else {
            ("step", history.steps.iter().map(|s| (s.step as f64, s.cost)).collect(), vec![])
        };
        if cost.is_empty() {
            return None;
        }
        let all = cost.iter().chain(&validation);
        let log_scale = all.clone().all(|&(_, y)| y > 0.0 && y.is_finite());
        let prepare = |points: Points| {
            let stride = points.len().div_ceil(MAX_POINTS).max(1);
            let last = points.last().copied();
            let mut thinned: Points = points.into_iter().step_by(stride).collect();
            // Keep the final point so the curve ends where training ended.
            if let Some(p) = last {
                if thinned.last() != Some(&p) {
                    thinned.push(p);
                }
            }
            if log_scale {
                thinned.iter_mut().for_each(|(_, y)| *y = y.log10());
            }
            thinned
        };
        Some(Curves { x_label, log_scale, cost: prepare(cost), validation: prepare(validation) })
    }

    fn bounds(&self) -> ((f64, f64), (f64, f64)) {
        let points = || self.cost.iter().chain(&self.validation);
        let fold = |f: fn(&(f64, f64)) -> f64| {
            points()
                .map(f)
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
        };
        let pad = |(lo, hi): (f64, f64)| {
            if !(lo.is_finite() && hi.is_finite()) {
                (0.0, 1.0)
            } else if hi - lo < 1e-12 {
                (lo - 0.5, hi + 0.5)
            } else {
                let m = 0.05 * (hi - lo);
                (lo - m, hi + m)
            }
        };
        (pad(fold(|p| p.0)), pad(fold(|p| p.1)))
    }
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, curves: &Curves) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let ((x0, x1), (y0, y1)) = curves.bounds();
    let mut chart = ChartBuilder::on(root)
        .caption("Training loss", ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    let log = curves.log_scale;
    // On the log scale the axis holds log10(cost); label it with the cost itself.
    let y_fmt = move |y: &f64| {
        if log {
            format!("{:.1e}", 10f64.powf(*y))
        } else {
            format!("{y:.3e}")
        }
    };
    chart
        .configure_mesh()
        .x_desc(curves.x_label)
        .y_desc(if log { "cost (log scale)" } else { "cost" })
        .x_label_formatter(&|x: &f64| format!("{x:.0}"))
        .y_label_formatter(&y_fmt)
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(curves.cost.iter().copied(), RED.stroke_width(2)))
        .map_err(err)?
        .label("training cost")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    if !curves.validation.is_empty() {
        chart
            .draw_series(LineSeries::new(curves.validation.iter().copied(), BLUE.stroke_width(2)))
            .map_err(err)?
            .label("validation")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{EpochRecord, StopReason};

    fn history(costs: &[f64]) -> History {
        History {
            steps: vec![],
            epochs: costs
                .iter()
                .enumerate()
                .map(|(i, &cost)| EpochRecord {
                    epoch: i,
                    steps: i + 1,
                    cost,
                    grad_norm: 1.0,
                    validation: Some(cost * 1.1),
                    learning_rate: 0.1,
                })
                .collect(),
            stop_reason: StopReason::MaxEpochs,
        }
    }

    #[test]
    fn curves_use_log_scale_for_positive_costs_and_thin_long_runs() {
        let c = Curves::from_history(&history(&[100.0, 10.0, 1.0])).unwrap();
        assert!(c.log_scale);
        assert_eq!(c.cost, vec![(0.0, 2.0), (1.0, 1.0), (2.0, 0.0)]);
        let c = Curves::from_history(&history(&[1.0, -1.0])).unwrap();
        assert!(!c.log_scale);
        let long: Vec<f64> = (1..=10_001).map(|i| 1.0 / i as f64).collect();
        let c = Curves::from_history(&history(&long)).unwrap();
        assert!(c.cost.len() <= MAX_POINTS + 1, "{}", c.cost.len());
        assert_eq!(c.cost.last().unwrap().0, 10_000.0);
    }

    #[test]
    fn empty_history_and_unknown_extension_are_errors() {
        let err = plot_loss(&history(&[]), "loss.svg").unwrap_err();
        assert_eq!(err.to_string(), "cannot draw plot loss.svg: the history is empty");
        for name in ["loss.gif", "loss.png", "loss"] {
            let err = plot_loss(&history(&[1.0, 0.5]), name).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("cannot draw plot {name}: unsupported extension: loss plots are written as .svg")
            );
        }
    }
}
