//! The optional progress bar: shown on an interactive stderr, silent in pipes, CI and tests.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::history::EpochRecord;

/// When the trainer draws a progress bar on stderr.
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
pub(crate) struct Bar(Option<ProgressBar>);

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
