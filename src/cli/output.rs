//! What the commands write outside logging: results to stdout, messages to stderr.
//!
//! A closed stdout pipe (`apigsync plan | head`) is not an error: the rest of the output is
//! dropped, the command finishes its work and exits with its usual code. With
//! `--log-format json` every message on stderr is one JSON object per line, in the shape of
//! the JSON log lines (`timestamp`, `level`, `fields.message`, `target`), so a log pipeline
//! reads stderr as JSON only.

use std::io::{self, IsTerminal, Write};
use std::sync::OnceLock;

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
    let line = match format() {
        LogFormat::Text => format!("{}{text}\n", level.prefix()),
        LogFormat::Json => json_line(level, text, fields),
    };
    // Above the progress bar when one is shown; a closed stderr leaves nowhere to report to.
    super::progress::stderr_write(line.as_bytes());
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
