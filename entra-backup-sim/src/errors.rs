//! Graph's error body format, and the responses the simulator's handlers return.

use serde_json::{Value, json};

/// A response from the simulated Graph: status, headers and an optional JSON body. Handlers return
/// it so that `$batch` can embed it and the HTTP layer can send it.
#[derive(Debug, Clone)]
pub(crate) struct GraphResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl GraphResponse {
    pub(crate) fn ok(body: Value) -> Self {
        GraphResponse { status: 200, headers: Vec::new(), body: Some(body) }
    }

    pub(crate) fn status(status: u16, body: Option<Value>) -> Self {
        GraphResponse { status, headers: Vec::new(), body }
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// A Graph error: `{"error": {"code", "message", "innerError": {...}}}`.
    pub(crate) fn error(status: u16, code: &str, message: impl Into<String>) -> Self {
        GraphResponse {
            status,
            headers: Vec::new(),
            body: Some(json!({
                "error": {
                    "code": code,
                    "message": message.into(),
                    "innerError": {},
                }
            })),
        }
    }

    pub(crate) fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::error(400, code, message)
    }

    pub(crate) fn not_found(id: &str) -> Self {
        Self::error(
            404,
            "Request_ResourceNotFound",
            format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        )
    }

    pub(crate) fn segment_not_found(segment: &str) -> Self {
        Self::bad_request("BadRequest", format!("Resource not found for the segment '{segment}'."))
    }

    /// Fill in `innerError` with the request's ids and date, as Graph does.
    pub(crate) fn stamp(&mut self, request_id: &str, client_request_id: &str, date: &str) {
        if let Some(Value::Object(inner)) =
            self.body.as_mut().and_then(|b| b.get_mut("error")).and_then(|e| e.get_mut("innerError"))
        {
            inner.insert("date".into(), json!(date));
            inner.insert("request-id".into(), json!(request_id));
            inner.insert("client-request-id".into(), json!(client_request_id));
        }
    }
}
