//! weft end to end: real solids built from source, run through the host library and the
//! `weft` binary, recorded in real redb files.

mod browser;
mod cli;
mod config;
mod contract;
mod daemon;
mod failures;
mod fast_path;
mod history;
mod languages;
mod loading;
mod manifest_cases;
mod partitions;
mod resources;
mod sandbox;
mod scheduling;
mod serial;
mod ui;
