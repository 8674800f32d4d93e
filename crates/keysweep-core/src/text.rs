//! Making repository-controlled text safe for a terminal or a line-oriented log. File names, commit
//! authors and emails come from whoever wrote the repository: an escape sequence in a file name could
//! move the cursor and erase real findings, a newline could forge a finding line, and bidi controls
//! could make a path read differently from what it is.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw: C0 and C1 controls, DEL, and the Unicode bidi and
/// invisible formatting controls.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'      // zero-width spaces and joiners, LRM, RLM
            | '\u{2028}' | '\u{2029}'    // line and paragraph separators
            | '\u{202A}'..='\u{202E}'    // bidi embeddings and overrides
            | '\u{2060}'..='\u{2069}'    // word joiner, invisible operators, bidi isolates
            | '\u{061C}'                 // Arabic letter mark
            | '\u{FEFF}')
}

/// `s` with every unsafe character written as a visible escape (`\n`, `\x1b`, `\u{202e}`).
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A parser's message with every double-quoted value elided (`invalid type: string "…", expected a
/// boolean`): parsers quote the input they reject, and that input may be a secret.
pub fn without_values(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut quoted = false;
    let mut chars = msg.chars();
    while let Some(c) = chars.next() {
        if quoted {
            // Values are quoted the way Rust debug-prints strings: `\"` inside does not end them.
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => quoted = false,
                _ => {}
            }
        } else if c == '"' {
            out.push_str("\"…\"");
            quoted = true;
        } else {
            out.push(c);
        }
    }
    // `unknown variant `x``: the variant is the value given; the expected ones that follow are ours.
    if let Some(i) = out.find("unknown variant `") {
        let start = i + "unknown variant `".len();
        if let Some(len) = out[start..].find('`') {
            out.replace_range(start..start + len, "…");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_made_visible() {
        assert_eq!(escape("src/a.rs"), "src/a.rs");
        assert_eq!(escape("a\x1b[99Ab\rc\nd"), "a\\x1b[99Ab\\rc\\nd");
        assert_eq!(escape("x\u{202e}y\u{9b}"), "x\\u{202e}y\\x9b");
        assert_eq!(escape("é ü 日本"), "é ü 日本");
    }

    #[test]
    fn quoted_values_are_elided() {
        assert_eq!(
            without_values("invalid type: string \"xoxb-1\", expected a boolean"),
            "invalid type: string \"…\", expected a boolean"
        );
        assert_eq!(without_values("unknown field `x`"), "unknown field `x`");
        // A value holding quotes is printed with them escaped: none of it may leak (found by the
        // fuzzer: a multi-line literal string given where a list was expected).
        assert_eq!(
            without_values(
                r#"invalid type: string "[\"tok\"]\n[a]\nb = [\"x\", \"tok/**\"]", expected a sequence"#
            ),
            "invalid type: string \"…\", expected a sequence"
        );
        assert_eq!(
            without_values("unknown variant `hi`, expected one of `low`, `high`"),
            "unknown variant `…`, expected one of `low`, `high`"
        );
    }
}
