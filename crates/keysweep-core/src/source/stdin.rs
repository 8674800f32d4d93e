//! `-`: scan what arrives on stdin, under the same size limit, binary rule and UTF-16 decoding as
//! files.

use std::io::Read;

use super::Consumer;
use super::files::scan_buffer;
use crate::error::{Error, Result};
use crate::stats::Stats;

/// The name stdin findings carry in reports.
pub const STDIN_NAME: &str = "stdin";

/// Reads stdin up to `max` bytes and hands it to `consume`, unless it is binary or over `max` bytes
/// (counted as skipped).
pub fn read(max: u64, stats: &Stats, consume: &Consumer) -> Result<()> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(max.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| Error::read(std::path::Path::new("stdin"), e))?;
    scan_buffer(&buf, STDIN_NAME, max, stats, consume);
    Ok(())
}
