//! The runtime's one error type: every misuse and every numerical failure is reported here
//! instead of panicking, with enough context (step, parameter name, setting name) to act on.

use std::fmt;
use std::path::PathBuf;

/// What went non-finite in [`Error::NonFinite`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// The cost returned by the user's function.
    Cost,
    /// One component of the gradient returned by the user's function.
    Gradient,
    /// A parameter after an optimizer update (e.g. a learning rate that made it overflow).
    Parameter,
    /// A validation metric.
    Validation,
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Quantity::Cost => "cost",
            Quantity::Gradient => "gradient",
            Quantity::Parameter => "parameter",
            Quantity::Validation => "validation metric",
        })
    }
}

/// Errors reported by the runtime.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Two flat views that must have the same length do not.
    ShapeMismatch {
        /// What was being combined, e.g. "copy_from_slice" or "gradient".
        context: String,
        /// The length required.
        expected: usize,
        /// The length supplied.
        found: usize,
    },
    /// A cost, gradient component or parameter became NaN or infinite.
    NonFinite {
        /// Which quantity.
        quantity: Quantity,
        /// The optimizer step (0-based) at which it was observed.
        step: usize,
        /// The parameter's name from `Params::describe`, when the quantity has one.
        parameter: Option<String>,
        /// The offending value.
        value: f64,
    },
    /// Training or checking was asked to run over an empty data set.
    EmptyDataSet,
    /// A batch size of zero (or otherwise unusable) was requested.
    InvalidBatchSize {
        /// The requested size.
        batch_size: usize,
    },
    /// A hyper-parameter is outside its valid range.
    InvalidHyperParameter {
        /// Who owns the setting, e.g. "Adam" or "Trainer".
        owner: &'static str,
        /// The setting's name, e.g. "learning_rate".
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// The rule it broke, e.g. "must be positive and finite".
        requirement: &'static str,
    },
    /// A trainer was run with no bound on its length.
    Unbounded,
    /// Writing a CSV or plot file failed.
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A weights file cannot be written or read into the parameters: unreadable, malformed,
    /// a tensor missing or extra, a dtype that does not fit.
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What is wrong, naming the tensor when there is one.
        message: String,
    },
    /// A tensor in a weights file has a different shape than the parameter field it is
    /// loaded into.
    TensorShape {
        /// The weights file.
        path: PathBuf,
        /// The tensor's (field's) name, e.g. `w1`.
        tensor: String,
        /// The field's shape in the parameters.
        expected: Vec<usize>,
        /// The tensor's shape in the file.
        found: Vec<usize>,
    },
    /// The plotting backend failed (font, encoder, ...).
    Plot {
        /// The file being drawn.
        path: PathBuf,
        /// The backend's message.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ShapeMismatch { context, expected, found } => {
                write!(f, "shape mismatch in {context}: expected {expected} scalars, found {found}")
            }
            Error::NonFinite { quantity, step, parameter: Some(name), value } => {
                write!(f, "non-finite {quantity} at step {step}: `{name}` = {value}")
            }
            Error::NonFinite { quantity, step, parameter: None, value } => {
                write!(f, "non-finite {quantity} at step {step}: {value}")
            }
            Error::EmptyDataSet => f.write_str("the data set is empty"),
            Error::InvalidBatchSize { batch_size } => {
                write!(f, "invalid batch size {batch_size}: must be at least 1")
            }
            Error::InvalidHyperParameter { owner, name, value, requirement } => {
                write!(f, "`{owner}`: `{name}` {requirement}, got {value}")
            }
            Error::Unbounded => {
                f.write_str("the trainer has no bound on its length: call `epochs(n)` or `max_steps(n)`")
            }
            Error::Io { path, source } => write!(f, "cannot write {}: {source}", path.display()),
            Error::Weights { path, message } => write!(f, "weights file {}: {message}", path.display()),
            Error::TensorShape { path, tensor, expected, found } => write!(
                f,
                "weights file {}: tensor `{tensor}` has shape {found:?} in the file but the parameters' \
                 `{tensor}` has shape {expected:?}; nothing was loaded",
                path.display()
            ),
            Error::Plot { path, message } => {
                write!(f, "cannot draw plot {}: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Checks that a hyper-parameter is finite and strictly positive.
pub(crate) fn positive(owner: &'static str, name: &'static str, value: f64) -> Result<f64, Error> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidHyperParameter { owner, name, value, requirement: "must be positive and finite" })
    }
}

/// Checks that a hyper-parameter is finite and non-negative.
pub(crate) fn non_negative(owner: &'static str, name: &'static str, value: f64) -> Result<f64, Error> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidHyperParameter { owner, name, value, requirement: "must be non-negative and finite" })
    }
}

/// Checks that a decay factor lies in `[0, 1)`, the range where a moving average forgets.
pub(crate) fn unit_interval(owner: &'static str, name: &'static str, value: f64) -> Result<f64, Error> {
    if (0.0..1.0).contains(&value) {
        Ok(value)
    } else {
        Err(Error::InvalidHyperParameter { owner, name, value, requirement: "must lie in [0, 1)" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem() {
        let e =
            Error::NonFinite { quantity: Quantity::Gradient, step: 7, parameter: Some("w[1]".into()), value: f64::NAN };
        assert_eq!(e.to_string(), "non-finite gradient at step 7: `w[1]` = NaN");
        let e = positive("Adam", "learning_rate", -1.0).unwrap_err();
        assert_eq!(e.to_string(), "`Adam`: `learning_rate` must be positive and finite, got -1");
        let e = Error::ShapeMismatch { context: "copy_from_slice".into(), expected: 3, found: 2 };
        assert_eq!(e.to_string(), "shape mismatch in copy_from_slice: expected 3 scalars, found 2");
        assert!(unit_interval("Adam", "beta1", 1.0).is_err());
        assert_eq!(unit_interval("Adam", "beta1", 0.0).ok(), Some(0.0));
        assert!(non_negative("AdamW", "weight_decay", f64::NAN).is_err());
    }
}
