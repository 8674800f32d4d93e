//! `-`: scan what arrives on stdin, under the same size limit and binary rule as files.

use std::io::Read;

use super::{Consumer, Origin};
use crate::engine::is_binary;
use crate::error::{Error, Result};
use crate::stats::Stats;

/// The name stdin findings carry in reports.
pub const STDIN_NAME: &str = "stdin";

/// Reads stdin whole and hands it to `consume`, unless it is binary or over `max` bytes (counted as
/// skipped).
pub fn read(max: u64, stats: &Stats, consume: &Consumer) -> Result<()> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(max.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| Error::read(std::path::Path::new("stdin"), e))?;
    if buf.len() as u64 > max {
        Stats::add(&stats.skipped_large, 1);
        return Ok(());
    }
    if is_binary(&buf) {
        Stats::add(&stats.skipped_binary, 1);
        return Ok(());
    }
    Stats::add(&stats.files, 1);
    Stats::add(&stats.bytes, buf.len() as u64);
    consume(&Origin::path(STDIN_NAME), &buf);
    Ok(())
}
