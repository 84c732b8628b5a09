//! The HTTP side of the client commands: JSON requests to a kfp server, the pipeline
//! upload as a hand-built multipart body, and errors that say what to do.

use std::fmt;
use std::io::ErrorKind;
use std::time::Duration;

use anyhow::anyhow;
use serde_json::Value;
use ureq::Agent;
use ureq::http::{Response, StatusCode};

use crate::cli::{EXIT_FAILED, Failure};

/// Largest answer read (logs can be long; JSON answers are small).
const BODY_LIMIT: u64 = 512 * 1024 * 1024;

/// A kfp server at one endpoint.
#[derive(Debug)]
pub struct Client {
    /// `http://host:port`, without a trailing `/`.
    endpoint: String,
    agent: Agent,
}

/// Why a request failed.
#[derive(Debug)]
pub enum HttpError {
    /// Nothing answered at the endpoint.
    Unreachable { endpoint: String, reason: String },
    /// The server answered 4xx/5xx; `message` is its `error` (or what the body said).
    Status {
        status: u16,
        message: String,
        request: String,
    },
    /// Anything else (a broken answer, a timeout while reading).
    Other(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Unreachable { endpoint, reason } => write!(
                f,
                "cannot reach the kfp server at {endpoint}: start one with `kfp server` or pass \
                 --endpoint (or set KFP_ENDPOINT) ({reason})"
            ),
            HttpError::Status {
                status,
                message,
                request,
            } => {
                let reason = StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                write!(f, "{message} (HTTP {status} {reason} from {request})")
            }
            HttpError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for HttpError {}

impl From<HttpError> for Failure {
    fn from(error: HttpError) -> Self {
        Failure {
            code: EXIT_FAILED,
            error: anyhow::Error::new(error),
        }
    }
}

impl Client {
    /// A client for `endpoint`; `host:port` alone means `http://host:port`.
    pub fn new(endpoint: &str) -> Result<Client, Failure> {
        let endpoint = endpoint.trim().trim_end_matches('/');
        let endpoint = if endpoint.contains("://") {
            endpoint.to_owned()
        } else {
            format!("http://{endpoint}")
        };
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(Failure::usage(anyhow!(
                "--endpoint {endpoint}: expected an http:// or https:// URL such as {}",
                super::DEFAULT_ENDPOINT
            )));
        }
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(300)))
            .user_agent(concat!("kfp/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client {
            endpoint,
            agent: config.into(),
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint)
    }

    /// `GET path?query` → the JSON answer.
    pub fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, HttpError> {
        let what = format!("GET {path}");
        let mut request = self.agent.get(&self.url(path));
        for (key, value) in query {
            request = request.query(*key, value);
        }
        json(self.finish(request.call(), &what)?, &what)
    }

    /// `GET path` → the answer as text (logs).
    pub fn get_text(&self, path: &str) -> Result<String, HttpError> {
        let what = format!("GET {path}");
        let text = self.finish(self.agent.get(&self.url(path)).call(), &what)?;
        Ok(text)
    }

    /// `POST path` with a JSON body (or none) → the JSON answer.
    pub fn post(&self, path: &str, body: Option<&Value>) -> Result<Value, HttpError> {
        let what = format!("POST {path}");
        let request = self.agent.post(&self.url(path));
        let sent = match body {
            Some(body) => request
                .header("Content-Type", "application/json")
                .send(body.to_string()),
            None => request.send_empty(),
        };
        json(self.finish(sent, &what)?, &what)
    }

    /// `DELETE path` → the JSON answer (`{}`).
    pub fn delete(&self, path: &str) -> Result<Value, HttpError> {
        let what = format!("DELETE {path}");
        json(
            self.finish(self.agent.delete(&self.url(path)).call(), &what)?,
            &what,
        )
    }

    /// `POST path?query` with `bytes` as the multipart field `uploadfile`.
    pub fn upload(
        &self,
        path: &str,
        query: &[(&str, String)],
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Value, HttpError> {
        let what = format!("POST {path}");
        let (content_type, body) = multipart("uploadfile", file_name, bytes);
        let mut request = self.agent.post(&self.url(path));
        for (key, value) in query {
            request = request.query(*key, value);
        }
        let sent = request.header("Content-Type", content_type).send(body);
        json(self.finish(sent, &what)?, &what)
    }

    /// The body of a 2xx answer; a 4xx/5xx or a failed exchange as an error.
    fn finish(
        &self,
        sent: Result<Response<ureq::Body>, ureq::Error>,
        what: &str,
    ) -> Result<String, HttpError> {
        let mut response = sent.map_err(|e| self.transport(e))?;
        let status = response.status();
        let body = response
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_string()
            .map_err(|e| HttpError::Other(format!("{what}: cannot read the answer: {e}")))?;
        if status.is_success() {
            return Ok(body);
        }
        Err(HttpError::Status {
            status: status.as_u16(),
            message: error_message(status, &body, what),
            request: what.to_owned(),
        })
    }

    fn transport(&self, error: ureq::Error) -> HttpError {
        let unreachable = |reason: String| HttpError::Unreachable {
            endpoint: self.endpoint.clone(),
            reason,
        };
        match error {
            ureq::Error::Io(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionRefused
                        | ErrorKind::ConnectionReset
                        | ErrorKind::ConnectionAborted
                        | ErrorKind::NotConnected
                        | ErrorKind::AddrNotAvailable
                        | ErrorKind::HostUnreachable
                        | ErrorKind::NetworkUnreachable
                        | ErrorKind::TimedOut
                ) =>
            {
                unreachable(e.to_string())
            }
            ureq::Error::ConnectionFailed => unreachable("connection failed".to_owned()),
            ureq::Error::HostNotFound => unreachable("host not found".to_owned()),
            ureq::Error::Timeout(t) => HttpError::Other(format!(
                "the kfp server at {} did not answer in time ({t})",
                self.endpoint
            )),
            ureq::Error::BadUri(uri) => HttpError::Other(format!(
                "--endpoint {}: not a usable URL ({uri})",
                self.endpoint
            )),
            other => HttpError::Other(format!("request to {} failed: {other}", self.endpoint)),
        }
    }
}

/// The JSON of a 2xx answer (`{}` for an empty body).
fn json(body: String, what: &str) -> Result<Value, HttpError> {
    if body.trim().is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_str(&body).map_err(|e| {
        HttpError::Other(format!(
            "{what}: the answer is not JSON ({e}); is the endpoint a kfp server?"
        ))
    })
}

/// The message of an error answer: KFP's `error` (gateway v1), `message` (v2) or
/// `error_message` (uploads); else the text, or what a bare 404 most likely means.
fn error_message(status: StatusCode, body: &str, what: &str) -> String {
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        for key in ["error", "message", "error_message"] {
            if let Some(text) = value[key].as_str().filter(|t| !t.is_empty()) {
                return text.to_owned();
            }
        }
    }
    let text = body.trim();
    if status == StatusCode::NOT_FOUND && (text.is_empty() || text.starts_with('<')) {
        return format!(
            "the server has no route {what}; is the endpoint a kfp server of this version?"
        );
    }
    if text.is_empty() {
        "the server gave no reason".to_owned()
    } else {
        text.chars().take(2000).collect()
    }
}

/// A `multipart/form-data` body with one file field: its Content-Type and bytes.
pub fn multipart(field: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    // A boundary that does not occur in the file.
    let mut boundary = format!(
        "kfp-boundary-{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    while contains(bytes, boundary.as_bytes()) {
        boundary.push('x');
    }
    // Quotes and line breaks cannot appear in the quoted file name.
    let file_name: String = file_name
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\r' | '\n' => ' ',
            c => c,
        })
        .collect();
    let mut body = Vec::with_capacity(bytes.len() + 256);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; \
             filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_bodies_hold_one_file_between_boundaries() {
        let (content_type, body) = multipart("uploadfile", "a\"b.yaml", b"x: 1\n");
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .expect("boundary");
        let text = String::from_utf8(body).expect("utf-8");
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("name=\"uploadfile\"; filename=\"a'b.yaml\""));
        assert!(text.contains("\r\n\r\nx: 1\n\r\n"));
        assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")));
    }

    #[test]
    fn error_messages_come_from_the_body() {
        let what = "GET /apis/v1beta1/pipelines/x";
        assert_eq!(
            error_message(
                StatusCode::NOT_FOUND,
                r#"{"error":"pipeline 'x' not found","code":5}"#,
                what
            ),
            "pipeline 'x' not found"
        );
        assert_eq!(
            error_message(StatusCode::BAD_REQUEST, r#"{"error_message":"bad"}"#, what),
            "bad"
        );
        assert!(error_message(StatusCode::NOT_FOUND, "", what).contains("no route"));
    }

    #[test]
    fn endpoints_get_a_scheme_and_lose_the_trailing_slash() {
        let client = Client::new("localhost:9/")
            .map_err(|f| f.error)
            .expect("client");
        assert_eq!(client.endpoint(), "http://localhost:9");
        assert!(Client::new("ftp://x").is_err());
    }
}
