//! The size budget of a pull-request comment: GitHub refuses a comment longer than 65,536
//! characters. Blocks (a callout line, a table row, a whole collapsible section) are added
//! whole or left out, never cut, so the markup stays balanced; what is left out is counted
//! and named in a closing line that says where the full plan is.

use std::fmt::Write;

/// The most characters GitHub accepts in one issue or pull-request comment.
pub const COMMENT_LIMIT: usize = 65_536;

/// Room kept for the "… N more" lines and the closing line, besides `full_plan`'s length.
const RESERVE: usize = 1_024;

/// Where the full plan is, named when something is left out and no other place is given.
const FULL_PLAN_DEFAULT: &str = "in the CI job's summary or artifact (`apigsync plan --output markdown > plan.md` writes it whole)";

/// A comment being written within its budget.
pub(super) struct Comment<'a> {
    out: String,
    /// Blocks are added while the comment stays below this length.
    soft: usize,
    /// "… N more" lines are added while the comment stays below this length.
    hard: usize,
    limit: usize,
    full_plan: &'a str,
    /// What was left out: a noun and how many, in the order first met.
    left_out: Vec<(&'static str, usize)>,
}

impl<'a> Comment<'a> {
    /// A comment of at most `limit` bytes (bytes are never fewer than characters);
    /// `full_plan` says where the whole plan is; `None` gives a default sentence.
    pub(super) fn new(limit: usize, full_plan: Option<&'a str>) -> Self {
        let full_plan = full_plan.unwrap_or(FULL_PLAN_DEFAULT);
        let hard = limit.saturating_sub(RESERVE / 2 + full_plan.len());
        Self {
            out: String::new(),
            soft: hard.saturating_sub(RESERVE / 2),
            hard,
            limit,
            full_plan,
            left_out: Vec::new(),
        }
    }

    /// Adds `block` whole when it fits; false (and nothing added) when it does not.
    pub(super) fn push(&mut self, block: &str) -> bool {
        if self.out.len() + block.len() > self.soft {
            return false;
        }
        self.out.push_str(block);
        true
    }

    /// Adds `block` whole when it fits, else counts it as one `what` left out.
    pub(super) fn push_or_count(&mut self, block: &str, what: &'static str) {
        if !self.push(block) {
            self.count(what, 1);
        }
    }

    /// Adds a short line that closes a block cut short (e.g. "… 3 more"), room allowing.
    pub(super) fn closing(&mut self, line: &str) {
        if self.out.len() + line.len() <= self.hard {
            self.out.push_str(line);
        }
    }

    /// Counts `n` more `what` left out.
    pub(super) fn count(&mut self, what: &'static str, n: usize) {
        if n == 0 {
            return;
        }
        match self.left_out.iter_mut().find(|(w, _)| *w == what) {
            Some((_, total)) => *total += n,
            None => self.left_out.push((what, n)),
        }
    }

    /// The comment, with a closing line naming what was left out and where the full plan is.
    pub(super) fn finish(mut self) -> String {
        if self.left_out.is_empty() {
            return self.out;
        }
        let parts: Vec<String> = self
            .left_out
            .iter()
            .map(|(what, n)| format!("{n} {what}"))
            .collect();
        let _ = writeln!(
            self.out,
            "---\n\n**Left out to fit one comment ({} characters):** {}. The full plan is {}.",
            thousands(self.limit),
            parts.join(", "),
            self.full_plan
        );
        self.out
    }
}

/// `65536` as `65,536`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_whole_or_counted_and_the_end_says_where_the_rest_is() {
        let mut c = Comment::new(1_700, Some("in the job summary"));
        assert!(c.push("head\n"));
        assert!(!c.push(&"x".repeat(700)));
        c.push_or_count(&"y".repeat(700), "plug-in section(s)");
        c.push_or_count("small\n", "plug-in section(s)");
        c.count("drift line(s)", 2);
        let out = c.finish();
        assert_eq!(
            out,
            "head\nsmall\n---\n\n**Left out to fit one comment (1,700 characters):** 1 plug-in section(s), 2 drift line(s). The full plan is in the job summary.\n"
        );
        assert!(out.len() <= 1_700);
    }

    #[test]
    fn nothing_left_out_adds_nothing() {
        let mut c = Comment::new(COMMENT_LIMIT, None);
        assert!(c.push("all\n"));
        assert_eq!(c.finish(), "all\n");
        assert_eq!(thousands(65_536), "65,536");
        assert_eq!(thousands(999), "999");
    }
}
