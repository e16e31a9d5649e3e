//! The progress bar of a long apply, and stderr writes that go above it: while a bar is
//! shown, every message and log line is printed through it (`ProgressBar::suspend`), so
//! warnings never tear the bar.

use std::io::{self, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

/// The bar on screen, if any.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn current() -> Option<ProgressBar> {
    match BAR.lock() {
        Ok(bar) => bar.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

fn set(bar: Option<ProgressBar>) {
    match BAR.lock() {
        Ok(mut slot) => *slot = bar,
        Err(poisoned) => *poisoned.into_inner() = bar,
    }
}

/// Writes `bytes` to stderr, above the bar when one is shown. Errors are dropped: a closed
/// stderr leaves nowhere to report to.
pub fn stderr_write(bytes: &[u8]) {
    let write = || {
        let _ = io::stderr().lock().write_all(bytes);
    };
    match current() {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// A `tracing` writer that prints above the bar.
pub struct AboveBar;

impl Write for AboveBar {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        stderr_write(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// A bar of `total` operations with the elapsed time and an estimate of what is left,
/// shown until [`Bar::finish`] (or drop).
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// Shows a bar counting operations.
    pub fn start(total: usize) -> Self {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "[{elapsed_precise}] {bar:30} {pos}/{len} operations, ETA {eta} {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        set(Some(bar.clone()));
        Self { bar }
    }

    /// Counts one operation done, failed or not attempted, shown with `message`.
    pub fn step(&self, message: String) {
        self.bar.inc(1);
        self.bar.set_message(message);
        if self.bar.position() >= self.bar.length().unwrap_or(0) {
            self.finish();
        }
    }

    /// Clears the bar; later writes go straight to stderr.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
        set(None);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if !self.bar.is_finished() {
            self.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_go_through_the_bar_while_it_is_shown_and_straight_after() {
        let bar = Bar::start(2);
        assert!(current().is_some(), "messages go above the bar");
        bar.step("done: one".to_owned());
        assert!(current().is_some());
        bar.step("done: two".to_owned());
        assert!(current().is_none(), "the last operation clears the bar");
        let early = Bar::start(5);
        drop(early);
        assert!(current().is_none(), "a bar dropped early is cleared too");
    }
}
