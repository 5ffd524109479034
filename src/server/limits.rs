//! Per-account rate limits: each action may run a few times in a fixed window that the first call
//! opens; one more is refused with a 429 that names the limit and when to try again. The window is
//! counted in the database, so every console replica sees the same count.

use sqlx::AnyConnection;

use crate::error::AppError;

/// What is limited, and how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A report's "Send now".
    SendNow,
    /// Settings › Email's test email.
    TestEmail,
    /// An advisory upload, from the console or the API.
    AdvisoryImport,
}

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;

impl Action {
    fn key(self) -> &'static str {
        match self {
            Action::SendNow => "send_now",
            Action::TestEmail => "test_email",
            Action::AdvisoryImport => "advisory_import",
        }
    }

    /// Calls allowed in one window, and the window's length in seconds.
    pub fn limit(self) -> (i64, i64) {
        match self {
            Action::SendNow => (5, MINUTE),
            Action::TestEmail => (1, MINUTE),
            Action::AdvisoryImport => (10, HOUR),
        }
    }

    fn refusal(self, retry_in: i64) -> AppError {
        let what = match self {
            Action::SendNow => "Send Now is limited to 5 reports a minute per account",
            Action::TestEmail => "Test emails are limited to 1 a minute per account",
            Action::AdvisoryImport => "Advisory uploads are limited to 10 an hour per account",
        };
        AppError::TooManyRequests(format!("{what}; try again in {}.", wait_label(retry_in)))
    }
}

/// "42 s" under two minutes, else whole minutes rounded up.
fn wait_label(seconds: i64) -> String {
    let seconds = seconds.max(1);
    if seconds < 2 * MINUTE {
        format!("{seconds} s")
    } else {
        format!("{} min", (seconds + MINUTE - 1) / MINUTE)
    }
}

/// Counts one call of `action` for the account, or refuses it (429) when its window is full; a
/// refused call changes nothing. Run it in the transaction of the guarded work where there is one,
/// so work that fails does not count either.
pub async fn take(conn: &mut AnyConnection, account_id: i64, action: Action, now: i64) -> Result<(), AppError> {
    let (allowed, window) = action.limit();
    let expired = now - window;
    // One statement, so two replicas never both take the last call of a window.
    let counted = sqlx::query_scalar::<_, i64>(
        "INSERT INTO rate_counters (account_id, action, window_start, count) VALUES ($1, $2, $3, 1)
         ON CONFLICT (account_id, action) DO UPDATE SET
             window_start = CASE WHEN rate_counters.window_start <= $4 THEN $3 ELSE rate_counters.window_start END,
             count = CASE WHEN rate_counters.window_start <= $4 THEN 1 ELSE rate_counters.count + 1 END
         WHERE rate_counters.window_start <= $4 OR rate_counters.count < $5
         RETURNING count",
    )
    .bind(account_id)
    .bind(action.key())
    .bind(now)
    .bind(expired)
    .bind(allowed)
    .fetch_optional(&mut *conn)
    .await?;
    if counted.is_some() {
        return Ok(());
    }
    let opened = sqlx::query_scalar::<_, i64>("SELECT window_start FROM rate_counters WHERE account_id = $1 AND action = $2")
        .bind(account_id)
        .bind(action.key())
        .fetch_one(&mut *conn)
        .await?;
    Err(action.refusal(opened + window - now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_in_seconds_then_minutes() {
        assert_eq!(wait_label(42), "42 s");
        assert_eq!(wait_label(0), "1 s");
        assert_eq!(wait_label(119), "119 s");
        assert_eq!(wait_label(121), "3 min");
        assert_eq!(wait_label(3600), "60 min");
    }

    #[test]
    fn refusals_name_the_limit_and_the_wait() {
        assert_eq!(
            Action::SendNow.refusal(42).to_string(),
            "Send Now is limited to 5 reports a minute per account; try again in 42 s."
        );
    }
}
