//! Benchmarks come with the performance issue.
