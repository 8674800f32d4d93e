//! Human output: one line per finding (`file:line:col  rule  secret`), a detail line under it.

use std::io::Write;

use anyhow::Result;

use super::Report;
use crate::finding::{Finding, Status};
use crate::rules::Severity;

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

pub fn write(report: &Report, out: &mut dyn Write) -> Result<()> {
    let p = Paint { on: report.color };
    for f in report.findings {
        write_one(f, report.show_secrets, &p, out)?;
    }
    Ok(())
}

fn write_one(f: &Finding, show: bool, p: &Paint, out: &mut dyn Write) -> Result<()> {
    let sev_code = match f.severity {
        Severity::Critical | Severity::High => "1;31",
        Severity::Medium => "33",
        Severity::Low => "36",
    };
    let location = format!("{}:{}:{}", f.file, f.line, f.column);
    write!(
        out,
        "{}  {} {}  {}",
        p.wrap("1", &location),
        p.wrap(sev_code, &f.rule_id),
        p.wrap("2", &format!("({})", f.severity)),
        f.shown_secret(show)
    )?;
    if let Some(pair) = f.shown_pair(show) {
        write!(out, " + {pair}")?;
    }
    if let Some(v) = &f.verification {
        let code = match v.status {
            Status::Live => "1;31",
            Status::Dead => "32",
            _ => "33",
        };
        write!(
            out,
            "  {}",
            p.wrap(code, &format!("[{}]", v.status.as_str()))
        )?;
    }
    writeln!(out)?;
    let mut detail = vec![f.description.clone()];
    if let Some(c) = &f.commit {
        let short = &c.commit[..c.commit.len().min(12)];
        detail.push(format!(
            "commit {short} by {} <{}> on {}",
            c.author, c.email, c.date
        ));
    }
    if let Some(v) = &f.verification {
        let mut said = Vec::new();
        if let Some(d) = &v.detail {
            said.push(d.clone());
        }
        if let Some(i) = &v.identity {
            said.push(format!("identity {i}"));
        }
        if let Some(s) = &v.scopes {
            said.push(format!("scopes {}", s.join(",")));
        }
        if let Some(e) = &v.expires_at {
            said.push(format!("expires {e}"));
        }
        if !said.is_empty() {
            detail.push(said.join(", "));
        }
    }
    writeln!(out, "    {}", p.wrap("2", &detail.join(" · ")))?;
    Ok(())
}
