//! Errors: the APIG-style error responses of the server, and the errors of starting it.

use std::path::PathBuf;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error response of the plug-in API: HTTP status plus `{error_code, error_msg}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// HTTP status.
    pub status: StatusCode,
    /// `APIG.xxxx` or `APIGW.xxxx`.
    pub code: &'static str,
    /// `error_msg`.
    pub message: String,
    /// Set on front-door (gateway) errors, whose body repeats the request id.
    pub request_id: Option<String>,
}

impl ServiceError {
    /// An error with the given status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            request_id: None,
        }
    }

    /// A front-door error (auth, throttling): its body carries `request_id`.
    pub fn gateway(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
        request_id: &str,
    ) -> Self {
        Self {
            request_id: Some(request_id.to_string()),
            ..Self::new(status, code, message)
        }
    }

    /// 400 APIG.2012: an invalid value of `param`, with an optional detail.
    pub fn invalid(param: &str, detail: &str) -> Self {
        let mut message = format!("Invalid parameter value,parameterName:{param}.");
        if detail.is_empty() {
            message.push_str(" Please refer to the support documentation");
        } else {
            message.push(' ');
            message.push_str(detail);
        }
        Self::new(StatusCode::BAD_REQUEST, "APIG.2012", message)
    }

    /// 400 APIG.2001: a mandatory parameter is missing.
    pub fn missing(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "APIG.2001",
            format!(
                "The request parameters must be specified,parameterName:{param}. Please refer to the support documentation"
            ),
        )
    }

    /// 404 APIG.3030: unknown instance (or project, or path flavour).
    pub fn instance_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "APIG.3030",
            format!("The instance does not exist;id:{id}"),
        )
    }

    /// 404 APIG.3068: unknown plug-in.
    pub fn plugin_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "APIG.3068",
            format!("Plugin {id} does not exist"),
        )
    }

    /// 404 APIG.3002: unknown API.
    pub fn api_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "APIG.3002",
            format!("API {id} does not exist"),
        )
    }

    /// 404 APIG.3003: unknown environment.
    pub fn env_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "APIG.3003",
            format!("The environment does not exist;id:{id}"),
        )
    }

    /// 500 APIG.9999: the injected system error.
    pub fn system() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "APIG.9999",
            "System error",
        )
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let body = match &self.request_id {
            Some(id) => {
                json!({"error_code": self.code, "error_msg": self.message, "request_id": id})
            }
            None => json!({"error_code": self.code, "error_msg": self.message}),
        };
        (self.status, Json(body)).into_response()
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The seed YAML does not parse.
    #[error("seed {origin}: {message}")]
    SeedParse {
        /// The seed file, or `built-in demo seed`.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The seed parses but is inconsistent (unknown group, duplicate name, ...).
    #[error("seed {origin}: instance {instance}: {message}")]
    SeedInvalid {
        /// The seed file, or `built-in demo seed`.
        origin: String,
        /// The instance id.
        instance: String,
        /// What is wrong.
        message: String,
    },
    /// Reading a seed or state file failed.
    #[error("reading {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The state file is not a state this emulator wrote.
    #[error("state file {path} is not valid emulator state")]
    StateCorrupt {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// Writing the state file failed.
    #[error("writing state file {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Binding the listen address failed.
    #[error("listening on {addr}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
