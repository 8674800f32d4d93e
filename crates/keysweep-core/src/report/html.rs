//! The audit report: one self-contained HTML page (no external script, style, font or image; a
//! Content-Security-Policy forbids loading any) for the questions a security team asks after a scan:
//! what is live, by provider; which live tokens never expire; what has been exposed longest; when each
//! secret entered and left the history; and, grouped by owner, what to revoke when a person leaves.
//!
//! Everything shown comes from the findings; secrets are redacted (SARIF-like: this page is meant to
//! be shared), and every text from the scanned repository or a provider is HTML-escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Printer, ReportOptions, Summary};
use crate::finding::{Finding, Status, redact};

pub struct Html<'a> {
    out: Box<dyn Write + 'a>,
    findings: Vec<Finding>,
    title: String,
}

impl<'a> Html<'a> {
    pub fn new(opts: &ReportOptions, out: Box<dyn Write + 'a>) -> Html<'a> {
        let title = match &opts.root {
            Some(r) => format!("keysweep report: {}", r.display()),
            None => "keysweep report".to_string(),
        };
        Html {
            out,
            findings: Vec::new(),
            title,
        }
    }
}

impl Printer for Html<'_> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        self.findings.push(f.clone());
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let page = render(&self.title, &self.findings, summary, &now());
        self.out.write_all(page.as_bytes())?;
        self.out.flush()
    }
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// HTML-escapes text for element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// One distinct secret and what the findings say about it.
struct Row<'f> {
    first: &'f Finding,
    locations: Vec<&'f Finding>,
    /// First exposed: the earliest commit date among its findings (history scans).
    entered: Option<time::OffsetDateTime>,
    /// Left the history: the latest removal known, when every place it was found no longer has it.
    left: Option<time::OffsetDateTime>,
    owner: String,
}

fn parse_date(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

fn day(t: time::OffsetDateTime) -> String {
    let d = t.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn status(f: &Finding) -> Status {
    f.verification
        .as_ref()
        .map_or(Status::NotChecked, |v| v.status)
}

fn group(findings: &[Finding]) -> Vec<Row<'_>> {
    let mut by: BTreeMap<(&str, &str), Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by.entry((&f.rule_id, &f.secret_sha256))
            .or_default()
            .push(f);
    }
    let mut rows: Vec<Row> = by
        .into_values()
        .map(|locations| {
            let first = locations[0];
            let entered = locations
                .iter()
                .filter_map(|f| f.commit.as_ref().and_then(|c| parse_date(&c.date)))
                .min();
            let exposure = locations.iter().find_map(|f| f.exposure.as_ref());
            let left = exposure
                .filter(|e| !e.at_head)
                .and_then(|e| e.removed_date.as_deref())
                .and_then(parse_date);
            let owner = first
                .verification
                .as_ref()
                .and_then(|v| v.identity.clone())
                .or_else(|| {
                    first
                        .commit
                        .as_ref()
                        .map(|c| format!("{} <{}>", c.author, c.email))
                })
                .unwrap_or_else(|| "unknown".to_string());
            Row {
                first,
                locations,
                entered,
                left,
                owner,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        a.entered
            .cmp(&b.entered)
            .then_with(|| a.first.rule_id.cmp(&b.first.rule_id))
    });
    rows
}

const STYLE: &str = "
:root{--fg:#1b1f24;--muted:#59636e;--line:#d1d9e0;--live:#cf222e;--dead:#1a7f37;--unk:#9a6700;--bg:#fff}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.muted{color:var(--muted)}.cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:120px}.card b{display:block;font-size:22px}
table{border-collapse:collapse;width:100%;margin-top:6px}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;background:#f6f8fa}code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
.live{color:var(--live);font-weight:600}.dead{color:var(--dead)}.unknown{color:var(--unk)}
.owner{border:1px solid var(--line);border-radius:8px;margin:10px 0;padding:4px 10px}.owner h3{font-size:15px;margin:6px 0}
input[type=search]{font:inherit;padding:6px 10px;width:360px;max-width:100%;border:1px solid var(--line);border-radius:6px}
svg text{font:11px system-ui,sans-serif;fill:var(--muted)}.bar-live{fill:var(--live)}.bar-dead{fill:var(--dead)}.bar-unknown{fill:var(--unk)}
";

/// Filters the owner groups by the search box; no network, no other script.
const SCRIPT: &str = "
document.getElementById('owner-filter').addEventListener('input', function (e) {
  var q = e.target.value.toLowerCase();
  var groups = document.querySelectorAll('.owner');
  var shown = 0;
  for (var i = 0; i < groups.length; i++) {
    var hit = groups[i].getAttribute('data-owner').toLowerCase().indexOf(q) !== -1;
    groups[i].hidden = !hit;
    if (hit) shown++;
  }
  document.getElementById('owner-count').textContent = String(shown);
});
";

/// A rotating kind (it expires by design) or a credential that lives until someone revokes it.
fn kind(f: &Finding) -> String {
    match f.details.get("lifetime") {
        Some(l) => format!("rotating: {l}"),
        None => "long-lived".to_string(),
    }
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Live => "live",
        s if s.is_dead() => "dead",
        _ => "unknown",
    }
}

/// The whole page.
pub fn render(
    title: &str,
    findings: &[Finding],
    summary: &Summary,
    now: &time::OffsetDateTime,
) -> String {
    let rows = group(findings);
    let count = |p: &dyn Fn(Status) -> bool| rows.iter().filter(|r| p(status(r.first))).count();
    let live = count(&|s| s == Status::Live);
    let dead = count(&|s| s.is_dead());
    let unknown = rows.len() - live - dead;
    let never: Vec<&Row> = rows
        .iter()
        .filter(|r| {
            status(r.first) == Status::Live
                && r.first
                    .verification
                    .as_ref()
                    .is_some_and(|v| v.never_expires)
        })
        .collect();

    let mut h = String::with_capacity(16 * 1024 + findings.len() * 512);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n",
        esc(title)
    );
    let _ = writeln!(
        h,
        "<h1>{}</h1><p class=\"muted\">Generated {} by keysweep {}. Secrets are redacted.</p>",
        esc(title),
        esc(&now
            .replace_nanosecond(0)
            .unwrap_or(*now)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()),
        env!("CARGO_PKG_VERSION")
    );

    // Summary cards: each number carries data-metric, which the browser test reads.
    // The longest exposure: from entering the history to leaving HEAD, or to now.
    let longest = rows
        .iter()
        .filter_map(|r| r.entered.map(|t| (r.left.unwrap_or(*now) - t).whole_days()))
        .max();
    let cards = [
        ("findings", "findings", summary.findings.to_string()),
        ("secrets", "distinct secrets", rows.len().to_string()),
        ("live", "live", live.to_string()),
        ("dead", "dead (invalid, revoked, expired)", dead.to_string()),
        ("unknown", "unknown or not checked", unknown.to_string()),
        (
            "never-expiring",
            "live, never expiring",
            never.len().to_string(),
        ),
        (
            "at-head",
            "still at HEAD",
            rows.iter()
                .filter(|r| r.first.exposure.as_ref().is_some_and(|e| e.at_head))
                .count()
                .to_string(),
        ),
        (
            "oldest-exposure-days",
            "longest exposure, days",
            longest.map_or("-".to_string(), |d| d.to_string()),
        ),
    ];
    h.push_str("<div class=\"cards\">");
    for (metric, label, value) in cards {
        let _ = write!(
            h,
            "<div class=\"card\"><b data-metric=\"{metric}\">{}</b><span class=\"muted\">{label}</span></div>",
            esc(&value)
        );
    }
    h.push_str("</div>\n");
    if summary.partial {
        let _ = write!(
            h,
            "<p class=\"unknown\">Partial scan: {} entries could not be read.</p>",
            summary.errors
        );
    }

    if !summary.policy_failures.is_empty() {
        let _ = write!(
            h,
            "<h2>Policy gates that failed</h2><table id=\"policy\"><tr><th>gate</th><th>rule</th><th>secret</th><th>where</th><th>why</th></tr>"
        );
        for v in &summary.policy_failures {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&v.gate),
                esc(&v.rule_id),
                esc(&v.secret),
                esc(&v.at),
                esc(&v.reason)
            );
        }
        h.push_str("</table>\n");
    }

    // By provider.
    let mut providers: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for r in &rows {
        let e = providers.entry(&r.first.provider).or_default();
        e[0] += 1;
        match status(r.first) {
            Status::Live => e[1] += 1,
            s if s.is_dead() => e[2] += 1,
            _ => e[3] += 1,
        }
    }
    h.push_str("<h2>By provider</h2><table id=\"providers\"><tr><th>provider</th><th>secrets</th><th>live</th><th>dead</th><th>unknown / not checked</th></tr>");
    for (p, [n, l, d, u]) in &providers {
        let _ = write!(
            h,
            "<tr data-provider=\"{0}\"><td>{0}</td><td>{n}</td><td class=\"live\">{l}</td><td class=\"dead\">{d}</td><td class=\"unknown\">{u}</td></tr>",
            esc(p)
        );
    }
    h.push_str("</table>\n");

    // Live tokens that never expire.
    h.push_str("<h2>Live tokens that never expire</h2>");
    if never.is_empty() {
        h.push_str("<p class=\"muted\">None.</p>");
    } else {
        h.push_str("<table id=\"never-expiring\"><tr><th>rule</th><th>secret</th><th>owner</th><th>first exposed</th></tr>");
        for r in &never {
            let _ = write!(
                h,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&r.first.rule_id),
                esc(&redact(&r.first.secret)),
                esc(&r.owner),
                r.entered.map(day).unwrap_or_default()
            );
        }
        h.push_str("</table>");
    }

    // Oldest exposures.
    h.push_str("<h2>Oldest exposures</h2>");
    let mut by_age: Vec<&Row> = rows.iter().filter(|r| r.entered.is_some()).collect();
    by_age.sort_by_key(|r| r.entered);
    if by_age.is_empty() {
        h.push_str("<p class=\"muted\">No history dates (scan with --history).</p>");
    } else {
        h.push_str("<table id=\"oldest\"><tr><th>first exposed</th><th>days</th><th>left HEAD</th><th>rule</th><th>kind</th><th>secret</th><th>status</th><th>where</th></tr>");
        for r in by_age.iter().take(10) {
            let t = r.entered.expect("filtered");
            let until = r.left.unwrap_or(*now);
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"{}\">{}</td><td>{}</td></tr>",
                day(t),
                (until - t).whole_days(),
                r.left.map_or("still there".to_string(), day),
                esc(&r.first.rule_id),
                esc(&kind(r.first)),
                esc(&redact(&r.first.secret)),
                status_class(status(r.first)),
                status(r.first).as_str(),
                esc(&r.first.file)
            );
        }
        h.push_str("</table>");
        timeline(&mut h, &by_age, now);
    }

    // By owner.
    let mut owners: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in &rows {
        owners.entry(&r.owner).or_default().push(r);
    }
    let _ = write!(
        h,
        "<h2>By owner</h2><p><input type=\"search\" id=\"owner-filter\" placeholder=\"Filter by owner (login, team, email)\" aria-label=\"Filter by owner\"> \
         <span class=\"muted\"><span id=\"owner-count\">{}</span> owners shown</span></p>",
        owners.len()
    );
    for (owner, list) in &owners {
        let _ = write!(
            h,
            "<div class=\"owner\" data-owner=\"{0}\"><h3>{0} <span class=\"muted\">({1} secret{2})</span></h3>\
             <table><tr><th>rule</th><th>secret</th><th>status</th><th>expires</th><th>first exposed</th><th>found at</th></tr>",
            esc(owner),
            list.len(),
            if list.len() == 1 { "" } else { "s" }
        );
        for r in list {
            let v = r.first.verification.as_ref();
            let expires = match v {
                Some(v) if v.never_expires => "never".to_string(),
                Some(v) => v.expires_at.clone().unwrap_or_default(),
                None => String::new(),
            };
            let places: Vec<String> = r
                .locations
                .iter()
                .take(5)
                .map(|f| format!("{}:{}", esc(&f.file), f.line))
                .collect();
            let more = r.locations.len().saturating_sub(5);
            let _ = write!(
                h,
                "<tr><td>{}</td><td><code>{}</code></td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                esc(&r.first.rule_id),
                esc(&redact(&r.first.secret)),
                status_class(status(r.first)),
                status(r.first).as_str(),
                esc(&expires),
                r.entered.map(day).unwrap_or_default(),
                places.join("<br>"),
                if more > 0 {
                    format!("<br><span class=\"muted\">+{more} more</span>")
                } else {
                    String::new()
                }
            );
        }
        h.push_str("</table></div>\n");
    }
    let _ = writeln!(h, "<script>{SCRIPT}</script></body></html>");
    h
}

/// One bar per secret, from when it entered the history to when it left (or now).
fn timeline(h: &mut String, rows: &[&Row], now: &time::OffsetDateTime) {
    let start = rows.iter().filter_map(|r| r.entered).min().unwrap_or(*now);
    let span = (*now - start).whole_seconds().max(86_400) as f64;
    let (width, left_margin, row_h) = (960.0, 190.0, 16.0);
    let x = |t: time::OffsetDateTime| {
        left_margin + (t - start).whole_seconds() as f64 / span * (width - left_margin - 10.0)
    };
    let height = 30.0 + rows.len() as f64 * row_h;
    let _ = write!(
        h,
        "<h2>Timeline</h2><svg id=\"timeline\" role=\"img\" aria-label=\"When each secret entered and left the history\" viewBox=\"0 0 {width} {height}\" width=\"100%\">\
         <text x=\"{left_margin}\" y=\"12\">{}</text><text x=\"{}\" y=\"12\" text-anchor=\"end\">{}</text>",
        day(start),
        width - 10.0,
        day(*now)
    );
    for (i, r) in rows.iter().enumerate() {
        let Some(t0) = r.entered else { continue };
        let t1 = r.left.unwrap_or(*now);
        let y = 22.0 + i as f64 * row_h;
        let _ = write!(
            h,
            "<text x=\"0\" y=\"{:.1}\">{}</text><rect class=\"bar-{}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"10\"><title>{} {}: {} to {}</title></rect>",
            y + 9.0,
            esc(&format!("{} {}", r.first.rule_id, redact(&r.first.secret))),
            status_class(status(r.first)),
            x(t0),
            y,
            (x(t1) - x(t0)).max(2.0),
            esc(&r.first.rule_id),
            esc(&redact(&r.first.secret)),
            day(t0),
            if r.left.is_some() {
                day(t1)
            } else {
                "now".to_string()
            }
        );
    }
    h.push_str("</svg>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_text_is_escaped() {
        assert_eq!(
            esc("<img src=x onerror=alert(1)>"),
            "&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(esc("a\"b'c&\u{1b}"), "a&quot;b&#39;c&amp;\u{fffd}");
    }
}
