//! The one error type shared by server functions, the JSON API and components.
//! Internal details are logged on the server and never cross the wire.

use std::collections::BTreeMap;

use http::StatusCode;
use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};

use crate::editions::{Edition, Feature, Service};
use crate::locale::{Locale, td_string};

/// Field name → message, shown beside the field in forms and returned by the API.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in to continue.")]
    Unauthorized,
    /// The same answer whether the email or the password was wrong.
    #[error("The email or password is incorrect.")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{} needs the {} edition.", feature.label(), edition.label())]
    UpgradeRequired { feature: Feature, edition: Edition },
    #[error("Bulwark is not authorized to access {}. An admin can authorize it.", .0.label())]
    AuthorizationRequired(Service),
    #[error("Not found.")]
    NotFound,
    #[error("{}", validation_summary(.0))]
    Validation(FieldErrors),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("Something went wrong on the server. The details are in the server log.")]
    Internal,
    /// The request never reached the function: network, encoding or argument errors.
    #[error("{0}")]
    Request(String),
    /// A request body past the route's limit (bytes).
    #[error("The request body is larger than the {} this route accepts.", size_label(*.0))]
    PayloadTooLarge(u64),
    /// A batch with more items than a request may carry.
    #[error("A batch holds at most {} {items}; this one holds {}. Send larger loads in several requests.", crate::format::thousands(*.limit as i64), crate::format::thousands(*.sent as i64))]
    BatchTooLarge { items: String, limit: usize, sent: usize },
}

/// A byte count as people say it: "16 MiB", "512 KiB", "900 bytes".
pub fn size_label(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    match bytes {
        b if b >= MIB && b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b >= KIB && b % KIB == 0 => format!("{} KiB", b / KIB),
        b => format!("{b} bytes"),
    }
}

fn validation_summary(errors: &FieldErrors) -> String {
    errors
        .iter()
        .map(|(field, message)| format!("{field}: {message}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl AppError {
    /// The message in the reader's language where the error's words are fixed; errors that carry
    /// the server's own sentence (conflicts, refusals, field messages) keep it as written.
    pub fn message_in(&self, l: Locale) -> String {
        match self {
            AppError::Unauthorized => td_string!(l, common.error.unauthorized).to_string(),
            AppError::BadCredentials => td_string!(l, common.error.bad_credentials).to_string(),
            AppError::UpgradeRequired { feature, edition } => {
                td_string!(l, common.error.upgrade_required, feature = feature.label_in(l), edition = edition.label_in(l))
            }
            AppError::AuthorizationRequired(service) => td_string!(l, common.error.authorization_required, service = service.label_in(l)),
            AppError::NotFound => td_string!(l, common.error.not_found).to_string(),
            AppError::Internal => td_string!(l, common.error.internal).to_string(),
            other => other.to_string(),
        }
    }

    /// A validation error on one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(BTreeMap::from([(field.into(), message.into())]))
    }

    /// Turns a non-empty error map into `Err(Validation)`.
    pub fn check(errors: FieldErrors) -> Result<(), AppError> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(errors))
        }
    }

    /// The message for one field, if this is a validation error that names it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            AppError::Validation(errors) => errors.get(field).cloned(),
            _ => None,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_)
            | AppError::UpgradeRequired { .. }
            | AppError::AuthorizationRequired(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Request(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge(_) | AppError::BatchTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// A short machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::BadCredentials => "bad_credentials",
            AppError::Forbidden(_) => "forbidden",
            AppError::UpgradeRequired { .. } => "upgrade_required",
            AppError::AuthorizationRequired(_) => "authorization_required",
            AppError::NotFound => "not_found",
            AppError::Validation(_) => "validation",
            AppError::Conflict(_) => "conflict",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::Internal => "internal",
            AppError::Request(_) => "bad_request",
            AppError::PayloadTooLarge(_) | AppError::BatchTooLarge { .. } => "payload_too_large",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;
    use axum::response::{IntoResponse, Response};

    impl From<sqlx::Error> for AppError {
        fn from(error: sqlx::Error) -> Self {
            match error {
                sqlx::Error::RowNotFound => AppError::NotFound,
                other => {
                    tracing::error!(error = %other, "database error");
                    AppError::Internal
                }
            }
        }
    }

    impl From<tower_sessions::session::Error> for AppError {
        fn from(error: tower_sessions::session::Error) -> Self {
            tracing::error!(error = %error, "session store error");
            AppError::Internal
        }
    }

    /// Maps a unique-constraint violation to a field error; anything else goes through `From<sqlx::Error>`.
    pub fn on_unique(field: &'static str, message: &'static str) -> impl FnOnce(sqlx::Error) -> AppError {
        move |error| match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => AppError::field(field, message),
            _ => AppError::from(error),
        }
    }

    /// The JSON API's error body: `{"error": code, "message": …, "fields": {…}}`.
    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let fields = match &self {
                AppError::Validation(errors) => Some(errors.clone()),
                _ => None,
            };
            let body = serde_json::json!({
                "error": self.code(),
                "message": self.to_string(),
                "fields": fields,
            });
            (self.status(), axum::Json(body)).into_response()
        }
    }
}

#[cfg(feature = "ssr")]
pub use ssr::on_unique;

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod message_tests {
    use super::*;

    /// In English the translated messages are exactly the errors' own.
    #[test]
    fn english_messages_are_the_errors_own() {
        let errors = [
            AppError::Unauthorized,
            AppError::BadCredentials,
            AppError::UpgradeRequired { feature: Feature::Playbooks, edition: Edition::Enterprise },
            AppError::AuthorizationRequired(Service::ResourceDirectory),
            AppError::NotFound,
            AppError::Internal,
            AppError::Conflict("Taken.".into()),
        ];
        for e in errors {
            assert_eq!(e.message_in(Locale::en), e.to_string());
        }
        assert_eq!(AppError::BadCredentials.message_in(Locale::zh_CN), "邮箱或密码不正确。");
    }
}
