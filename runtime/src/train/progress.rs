//! The optional progress bar: shown on an interactive stderr, silent in pipes, CI and tests.
//! Without the `progress` feature (indicatif) the bar is a no-op and [`Progress`] only exists
//! so that code configuring it builds in both configurations.

#[cfg(feature = "progress")]
use std::io::IsTerminal;

#[cfg(feature = "progress")]
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::history::EpochRecord;

/// When the trainer draws a progress bar on stderr (never, without the `progress` feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// Only when stderr is a terminal.
    #[default]
    Auto,
    /// Always (indicatif still hides it when stderr is not drawable).
    Always,
    /// Never.
    Never,
}

/// A progress bar that may not exist; every method is a no-op when hidden.
#[cfg(feature = "progress")]
pub(crate) struct Bar(Option<ProgressBar>);

#[cfg(feature = "progress")]
impl Bar {
    /// `total` is the number of steps the run may take, if bounded.
    pub fn new(mode: Progress, total: Option<usize>) -> Self {
        let show = match mode {
            Progress::Auto => std::io::stderr().is_terminal(),
            Progress::Always => true,
            Progress::Never => false,
        };
        if !show {
            return Bar(None);
        }
        let bar = match total {
            Some(n) => ProgressBar::with_draw_target(Some(n as u64), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        // The template is a constant; if indicatif ever rejects it, keep its default style.
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {elapsed_precise}  {msg}") {
            bar.set_style(style);
        }
        Bar(Some(bar))
    }

    pub fn step(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }

    pub fn epoch(&self, record: &EpochRecord) {
        if let Some(bar) = &self.0 {
            bar.set_message(format!("epoch {}  cost {:.6e}", record.epoch, record.cost));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish();
        }
    }
}

/// The bar of a build without indicatif: nothing to draw.
#[cfg(not(feature = "progress"))]
pub(crate) struct Bar;

#[cfg(not(feature = "progress"))]
impl Bar {
    pub fn new(_mode: Progress, _total: Option<usize>) -> Self {
        Bar
    }

    pub fn step(&self) {}

    pub fn epoch(&self, _record: &EpochRecord) {}

    pub fn finish(&self) {}
}
