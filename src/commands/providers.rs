//! `keysweep providers`: the capability matrix (what keysweep detects, verifies, revokes and rotates
//! for each provider) as text, JSON, or the README's markdown tables.

use std::io::Write;

use anyhow::Result;
use keysweep_provider::catalog;

use crate::cli::{ProvidersArgs, ProvidersFormat};

pub fn run(args: &ProvidersArgs) -> Result<()> {
    let rows = catalog::rows();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        ProvidersFormat::Human => out.write_all(catalog::human(&rows).as_bytes())?,
        ProvidersFormat::Markdown => out.write_all(catalog::markdown(&rows).as_bytes())?,
        ProvidersFormat::Json => {
            let (providers, verify, revoke, rotate) = catalog::totals(&rows);
            let doc = serde_json::json!({
                "providers": rows,
                "totals": {"providers": providers, "verify": verify, "revoke": revoke, "rotate": rotate},
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
    }
    Ok(())
}
