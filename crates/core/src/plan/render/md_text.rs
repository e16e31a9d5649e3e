//! Text made safe for GitHub-flavoured markdown: code spans that survive backticks, table
//! cells that survive pipes and newlines, fenced blocks that survive fences, HTML escapes.

/// `s` as an inline code span for a table cell: pipes escaped (GFM unescapes them inside
/// code in tables), newlines as spaces, and a backtick fence longer than any run of
/// backticks in `s`, so backticks show as they are.
pub(crate) fn code(s: &str) -> String {
    let s = s.replace('|', "\\|").replace(['\n', '\r'], " ");
    let fence = "`".repeat(longest_run(&s, '`') + 1);
    if s.contains('`') {
        // A space on both sides lets the span start or end with a backtick.
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// Plain text for a table cell or a list item: no pipes, no newlines, no HTML.
pub(crate) fn text(s: &str) -> String {
    html(&s.replace('|', "\\|").replace(['\n', '\r'], " "))
}

/// `s` with the characters that would start HTML escaped (for `<summary>` and text).
pub(crate) fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A fenced code block of `info` (e.g. `diff`) holding `body`, with a fence longer than
/// any run of backticks in it.
pub(crate) fn fenced(info: &str, body: &str) -> String {
    let fence = "`".repeat(longest_run(body, '`').max(2) + 1);
    let newline = if body.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{info}\n{body}{newline}{fence}\n")
}

fn longest_run(s: &str, c: char) -> usize {
    s.split(|x| x != c).map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_keep_backticks_and_pipes() {
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("``x``"), "``` ``x`` ```");
        assert_eq!(code("a|b\nc"), "`a\\|b c`");
    }

    #[test]
    fn fences_are_longer_than_the_backticks_inside() {
        assert_eq!(fenced("diff", "+x\n"), "```diff\n+x\n```\n");
        assert_eq!(fenced("", "```\n"), "````\n```\n````\n");
    }

    #[test]
    fn text_is_safe_in_cells_and_html() {
        assert_eq!(text("a|b <c> & \"d\"\ne"), "a\\|b &lt;c&gt; &amp; \"d\" e");
    }
}
