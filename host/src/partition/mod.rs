//! Partitions: the keys a pipeline runs for, such as the time windows of a daily set.

mod set;
pub mod window;

pub use set::{PARTITION_SET_TAG, PARTITION_TAG, Partition, PartitionKind, PartitionSet};
