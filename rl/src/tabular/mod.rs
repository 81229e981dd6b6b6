//! Tabular methods (in progress).
