//! What the commands write outside logging: results to stdout, messages to stderr.
//!
//! A closed stdout pipe (`apigsync plan | head`) is not an error: the rest of the output is
//! dropped, the command finishes its work and exits with its usual code. With
//! `--log-format json` every message on stderr is one JSON object per line, in the shape of
//! the JSON log lines (`timestamp`, `level`, `fields.message`, `target`), so a log pipeline
//! reads stderr as JSON only.

use std::io::{self, IsTerminal, Write};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::LogFormat;

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Sets the shape of stderr messages for the rest of the process (the first call wins).
pub fn set_format(format: LogFormat) {
    let _ = FORMAT.set(format);
}

fn format() -> LogFormat {
    FORMAT.get().copied().unwrap_or_default()
}

/// The `--log-format` of a raw command line, for messages written before (or instead of)
/// a successful parse, such as a usage error.
pub fn format_in_args(args: &[std::ffi::OsString]) -> LogFormat {
    let json = args.iter().enumerate().any(|(i, arg)| {
        arg == "--log-format=json"
            || (arg == "--log-format" && args.get(i + 1).is_some_and(|next| next == "json"))
    });
    if json {
        LogFormat::Json
    } else {
        LogFormat::Text
    }
}

/// Writes `text` to stdout and flushes. A closed pipe drops the output without an error;
/// any other write failure is returned.
pub fn stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}

/// The severity of a stderr message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A failure; text form `error: …`.
    Error,
    /// Something to look at; text form `warning: …`.
    Warn,
    /// Progress and outcomes; the text form is the message itself.
    Info,
}

impl Level {
    fn prefix(self) -> &'static str {
        match self {
            Level::Error => "error: ",
            Level::Warn => "warning: ",
            Level::Info => "",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
        }
    }
}

/// Whether stderr is a terminal that takes text messages (room for a progress bar).
pub fn stderr_is_text_terminal() -> bool {
    format() == LogFormat::Text && io::stderr().is_terminal()
}

/// Writes one message to stderr: a text line, or one JSON object per line.
pub fn message(level: Level, text: &str) {
    message_with(level, text, &[]);
}

/// Like [`message`], with structured fields that the JSON form carries beside the message.
pub fn message_with(level: Level, text: &str, fields: &[(&str, &str)]) {
    to_stderr(&line(level, text, fields));
}

/// One message as written to stderr, with its newline.
fn line(level: Level, text: &str, fields: &[(&str, &str)]) -> String {
    match format() {
        LogFormat::Text => format!("{}{text}\n", level.prefix()),
        LogFormat::Json => json_line(level, text, fields),
    }
}

fn to_stderr(text: &str) {
    // Above the progress bar when one is shown; a closed stderr leaves nowhere to report to.
    super::progress::stderr_write(text.as_bytes());
}

/// A write of a batch once it holds this much.
const BATCH_BYTES: usize = 32 * 1024;
/// A message that comes this long after the last write is written at once.
const BATCH_AGE: Duration = Duration::from_millis(100);

/// Messages written to stderr together: an apply's progress lines, one per operation, cost
/// one write each before (5% of a large apply's CPU). A message is written at once when the
/// last write is [`BATCH_AGE`] old (a slow gateway's progress shows as it comes), else with
/// the next one that is, or when [`BATCH_BYTES`] are pending, and the rest on
/// [`Batch::flush`] or drop. Each message is the same text [`message_with`] writes.
#[derive(Debug)]
pub struct Batch {
    /// The messages not written yet, and when the last write was.
    pending: Mutex<(String, Option<Instant>)>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self {
            pending: Mutex::new((String::new(), None)),
        }
    }

    /// Adds a message, as [`message_with`] would write it.
    pub fn message_with(&self, level: Level, text: &str, fields: &[(&str, &str)]) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let (buffer, last_write) = &mut *pending;
        buffer.push_str(&line(level, text, fields));
        let due = last_write.is_none_or(|at| at.elapsed() >= BATCH_AGE);
        if due || buffer.len() >= BATCH_BYTES {
            to_stderr(buffer);
            buffer.clear();
            *last_write = Some(Instant::now());
        }
    }

    /// Writes what is pending.
    pub fn flush(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let (buffer, last_write) = &mut *pending;
        if !buffer.is_empty() {
            to_stderr(buffer);
            buffer.clear();
            *last_write = Some(Instant::now());
        }
    }
}

impl Default for Batch {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.flush();
    }
}

fn json_line(level: Level, text: &str, fields: &[(&str, &str)]) -> String {
    let mut map = Map::new();
    map.insert("message".into(), Value::String(text.to_owned()));
    for (name, value) in fields {
        map.insert((*name).into(), Value::String((*value).to_owned()));
    }
    let object = json!({
        "timestamp": jiff::Timestamp::now().to_string(),
        "level": level.name(),
        "fields": map,
        "target": "apigsync",
    });
    format!("{object}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_line_is_one_object_with_message_and_fields() {
        let line = json_line(Level::Warn, "two\nlines", &[("status", "done")]);
        assert_eq!(line.matches('\n').count(), 1);
        let v: Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(v["level"], "WARN");
        assert_eq!(v["fields"]["message"], "two\nlines");
        assert_eq!(v["fields"]["status"], "done");
    }

    #[test]
    fn the_log_format_is_found_in_both_spellings() {
        let args = |a: &[&str]| {
            a.iter()
                .map(Into::into)
                .collect::<Vec<std::ffi::OsString>>()
        };
        assert_eq!(
            format_in_args(&args(&["plan", "--log-format", "json"])),
            LogFormat::Json
        );
        assert_eq!(
            format_in_args(&args(&["--log-format=json", "plan"])),
            LogFormat::Json
        );
        assert_eq!(format_in_args(&args(&["plan", "json"])), LogFormat::Text);
    }
}
