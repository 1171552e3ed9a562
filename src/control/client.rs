//! The HTTP client behind `redline stop` and `redline resume`: one request to a running
//! engine's control API, the JSON answer back.

use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;

/// How long the CLI waits for the engine: a stop cancels and flattens on every symbol, each
/// venue request bounded by the engine's own timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The engine could not be reached or did not answer: nothing is known to have happened.
    #[error("no answer from {url}: {detail}")]
    Unreachable { url: String, detail: String },
    /// The engine answered with an error status.
    #[error("the engine answered {status}: {body}")]
    Refused { status: u16, body: Value },
}

/// Talks to one engine. The token is sent as a bearer token and never printed.
pub struct ControlClient {
    base: String,
    token: Option<String>,
    operator: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for ControlClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlClient")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "REDACTED"))
            .field("operator", &self.operator)
            .finish()
    }
}

impl ControlClient {
    /// `url` is the engine's base URL (`http://127.0.0.1:8080`); `operator` is recorded as who.
    pub fn new(url: &str, token: Option<String>, operator: &str) -> Result<Self, ClientError> {
        crate::exchange::ensure_tls();
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| ClientError::Unreachable {
                url: url.into(),
                detail: e.to_string(),
            })?;
        Ok(Self {
            base: url.trim_end_matches('/').to_string(),
            token: token.filter(|t| !t.is_empty()),
            operator: operator.to_string(),
            http,
        })
    }

    /// `POST /v1/emergency-stop`.
    pub async fn stop(&self, flatten: bool, reason: Option<&str>) -> Result<Value, ClientError> {
        self.post(
            "/v1/emergency-stop",
            json!({"flatten": flatten, "reason": reason}),
        )
        .await
    }

    /// `POST /v1/resume`.
    pub async fn resume(&self, reason: &str) -> Result<Value, ClientError> {
        self.post("/v1/resume", json!({ "reason": reason })).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .http
            .post(&url)
            .header("x-redline-operator", &self.operator)
            .json(&body);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let unreachable = |e: reqwest::Error| ClientError::Unreachable {
            url: url.clone(),
            detail: e.to_string(),
        };
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            Err(ClientError::Refused {
                status: status.as_u16(),
                body,
            })
        }
    }
}

/// What `redline stop` / `redline resume` ask for.
#[derive(Debug, Clone)]
pub enum CliCommand {
    Stop {
        flatten: bool,
        reason: Option<String>,
    },
    Resume {
        reason: String,
    },
}

/// Exit codes of `redline stop` / `redline resume`.
pub const EXIT_OK: i32 = 0;
/// The engine refused the request or could not be reached: nothing is known to have happened.
pub const EXIT_FAILED: i32 = 1;
/// The stop went through but something is listed under `failed`: a person must act on it.
pub const EXIT_PARTIAL: i32 = 2;

/// Runs one command for the CLI: writes the engine's JSON answer to `out`, a sentence about
/// any failure to `err`, and answers the exit code.
pub async fn run_cli(
    client: &ControlClient,
    command: CliCommand,
    out: &mut impl Write,
    err: &mut impl Write,
) -> i32 {
    let answer = match command {
        CliCommand::Stop { flatten, reason } => client.stop(flatten, reason.as_deref()).await,
        CliCommand::Resume { reason } => client.resume(&reason).await,
    };
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    // Writes to a closed stdout/stderr cannot be reported anywhere; the exit code still is.
    match answer {
        Ok(answer) => {
            let _ = writeln!(out, "{}", pretty(&answer));
            if answer["failed"].as_array().is_some_and(|f| !f.is_empty()) {
                let _ = writeln!(
                    err,
                    "redline: trading is halted, but some actions failed (see \"failed\"): act on them by hand"
                );
                return EXIT_PARTIAL;
            }
            EXIT_OK
        }
        Err(ClientError::Refused { status, body }) => {
            let _ = writeln!(out, "{}", pretty(&body));
            let _ = writeln!(
                err,
                "redline: the engine refused the request (HTTP {status})"
            );
            EXIT_FAILED
        }
        Err(e) => {
            let _ = writeln!(err, "redline: {e}");
            EXIT_FAILED
        }
    }
}
