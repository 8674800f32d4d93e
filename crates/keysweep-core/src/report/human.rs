//! Human output: one line per finding (`file:line:col  rule  secret`), a detail line under it.
//! Repository-controlled text (paths, authors) is escaped: it must not drive the terminal.

use std::io::{self, Write};

use anstyle::{AnsiColor, Effects, Style};

use super::{Printer, ReportOptions, Summary};
use crate::finding::{Finding, Status};
use crate::rules::Severity;
use crate::text::escape;

pub struct Human<'a> {
    out: Box<dyn Write + 'a>,
    show: bool,
    color: bool,
}

impl<'a> Human<'a> {
    pub fn new(opts: &ReportOptions, out: Box<dyn Write + 'a>) -> Human<'a> {
        Human {
            out,
            show: opts.show_secrets,
            color: opts.color,
        }
    }

    fn paint(&self, style: Style, s: &str) -> String {
        if self.color {
            format!("{}{s}{}", style.render(), style.render_reset())
        } else {
            s.to_string()
        }
    }
}

const BOLD: Style = Style::new().effects(Effects::BOLD);
const DIM: Style = Style::new().effects(Effects::DIMMED);
const RED: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)))
    .effects(Effects::BOLD);
const YELLOW: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
const CYAN: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)));
const GREEN: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));

impl Printer for Human<'_> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        let sev = match f.severity {
            Severity::Critical | Severity::High => RED,
            Severity::Medium => YELLOW,
            Severity::Low => CYAN,
        };
        let location = format!("{}:{}:{}", escape(&f.file), f.line, f.column);
        let mut line = format!(
            "{}  {} {}  {}",
            self.paint(BOLD, &location),
            self.paint(sev, &escape(&f.rule_id)),
            self.paint(DIM, &format!("({})", f.severity)),
            escape(&f.shown_secret(self.show))
        );
        if let Some(pair) = f.shown_pair(self.show) {
            line.push_str(&format!(" + {}", escape(&pair)));
        }
        if let Some(v) = &f.verification {
            let style = match v.status {
                Status::Live => RED,
                s if s.is_dead() => GREEN,
                _ => YELLOW,
            };
            line.push_str(&format!(
                "  {}",
                self.paint(style, &format!("[{}]", v.status.as_str()))
            ));
        }
        // A custom rule's description comes from a config, which may come with the repository.
        let mut detail = vec![escape(&f.description).into_owned()];
        let mut confidence = format!("confidence {}", f.confidence);
        if let Some(r) = &f.confidence_reason {
            confidence.push_str(&format!(": {}", escape(r)));
        }
        detail.push(confidence);
        if let Some(c) = f.path_class {
            detail.push(format!("{} file", c.as_str()));
        }
        if !f.details.is_empty() {
            let facts: Vec<String> = f
                .details
                .iter()
                .map(|(k, v)| format!("{k} {}", escape(v)))
                .collect();
            detail.push(facts.join(", "));
        }
        if let Some(c) = &f.commit {
            let short = &c.commit[..c.commit.len().min(12)];
            detail.push(format!(
                "commit {short} by {} <{}> on {}",
                escape(&c.author),
                escape(&c.email),
                c.date
            ));
        }
        if let Some(v) = &f.verification {
            let mut said = Vec::new();
            if let Some(d) = &v.detail {
                said.push(escape(d).into_owned());
            }
            if let Some(i) = &v.identity {
                said.push(format!("identity {}", escape(i)));
            }
            if let Some(s) = &v.scopes {
                said.push(format!("scopes {}", escape(&s.join(","))));
            }
            if let Some(e) = &v.expires_at {
                said.push(format!("expires {}", escape(e)));
            } else if v.never_expires {
                said.push("never expires".to_string());
            }
            if !said.is_empty() {
                detail.push(said.join(", "));
            }
        }
        writeln!(self.out, "{line}")?;
        writeln!(self.out, "    {}", self.paint(DIM, &detail.join(" · ")))
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}
