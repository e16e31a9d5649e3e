//! What kind of failure an error is, as metrics, logs, reports and watch's back-off
//! need to tell them apart (throttling from a refusal, an auth failure or an outage).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ApiError;

/// The kind of a failure: one label per way a caller should react to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input is wrong (an invalid folder, a plan error, a missing secret): another
    /// try changes nothing until the files or the environment do.
    InvalidInput,
    /// The credentials or their scope were refused (401, 403): check the settings.
    Auth,
    /// The gateway asked to slow down (429, APIG.9008, APIG.3500) beyond the retry budget.
    Throttled,
    /// No answer, or a server error: worth another try soon.
    Transient,
    /// The service refused the request (a 4xx other than auth and throttling).
    Rejected,
    /// The service did not confirm that a change took effect (a binding it did not account for).
    Unconfirmed,
    /// Stopped on purpose: shutdown or lost leadership.
    Cancelled,
}

impl ErrorKind {
    /// Every kind, in a fixed order (metrics create one series of each at start).
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::InvalidInput,
        ErrorKind::Auth,
        ErrorKind::Throttled,
        ErrorKind::Transient,
        ErrorKind::Rejected,
        ErrorKind::Unconfirmed,
        ErrorKind::Cancelled,
    ];

    /// The label of this kind in metrics and logs (`snake_case`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Auth => "auth",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Transient => "transient",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Unconfirmed => "unconfirmed",
            ErrorKind::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ApiError {
    /// The kind of this failure.
    pub fn kind(&self) -> ErrorKind {
        if self.is_slow_down() {
            return ErrorKind::Throttled;
        }
        match self {
            ApiError::Transport { .. } | ApiError::Timeout { .. } | ApiError::StillBound { .. } => {
                ErrorKind::Transient
            }
            ApiError::Auth { .. }
            | ApiError::Response {
                status: 401 | 403, ..
            } => ErrorKind::Auth,
            ApiError::Response { status, .. } if *status >= 500 => ErrorKind::Transient,
            ApiError::Response { .. }
            | ApiError::Decode { .. }
            | ApiError::TooLarge { .. }
            | ApiError::TooLong { .. } => ErrorKind::Rejected,
            ApiError::Invalid { .. } => ErrorKind::InvalidInput,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Op;

    fn answer(status: u16, code: &str) -> ApiError {
        ApiError::Response {
            op: Op::new("show_plugin", "reading plug-in \"p\""),
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
        }
    }

    #[test]
    fn each_answer_has_the_kind_its_reaction_needs() {
        assert_eq!(answer(429, "APIGW.0308").kind(), ErrorKind::Throttled);
        assert_eq!(answer(500, "APIG.9008").kind(), ErrorKind::Throttled);
        assert_eq!(answer(500, "APIG.3500").kind(), ErrorKind::Throttled);
        assert_eq!(answer(401, "APIG.1000").kind(), ErrorKind::Auth);
        assert_eq!(answer(403, "APIG.1002").kind(), ErrorKind::Auth);
        assert_eq!(answer(503, "APIG.9999").kind(), ErrorKind::Transient);
        assert_eq!(answer(404, "APIG.3068").kind(), ErrorKind::Rejected);
        assert_eq!(answer(400, "APIG.2012").kind(), ErrorKind::Rejected);
    }

    #[test]
    fn labels_are_snake_case() {
        let labels: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            labels,
            [
                "invalid_input",
                "auth",
                "throttled",
                "transient",
                "rejected",
                "unconfirmed",
                "cancelled"
            ]
        );
    }
}
