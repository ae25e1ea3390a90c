//! Schedules: when a pipeline runs by itself, from a cron expression in a time zone.

pub mod cron;
