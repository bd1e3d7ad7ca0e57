//! Grid search (placeholder, being written).
