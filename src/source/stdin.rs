//! `-`: scan what arrives on stdin, under the same size limit and binary rule as files.

use std::io::Read;

use anyhow::{Context, Result};

use crate::engine::is_binary;
use crate::ui::Stats;

/// The name stdin findings carry in reports.
pub const STDIN_NAME: &str = "stdin";

/// Reads stdin whole; returns `None` (counted as skipped) when it is binary or over `max` bytes.
pub fn read(max: u64, stats: &Stats) -> Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(max + 1)
        .read_to_end(&mut buf)
        .context("cannot read stdin")?;
    if buf.len() as u64 > max {
        Stats::add(&stats.skipped_large, 1);
        return Ok(None);
    }
    if is_binary(&buf) {
        Stats::add(&stats.skipped_binary, 1);
        return Ok(None);
    }
    Stats::add(&stats.files, 1);
    Stats::add(&stats.bytes, buf.len() as u64);
    Ok(Some(buf))
}
