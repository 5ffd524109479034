//! `bulwark sign`: signs an image through a console's API, as a CI pipeline would, and writes
//! the payload and signature where openssl or cosign can check them.

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::model::{SignInput, SignOutcome};

pub struct SignOptions {
    pub server: String,
    pub token: String,
    pub witness: String,
    pub image: String,
    pub publish: bool,
    /// Write the signed payload here.
    pub payload_out: Option<PathBuf>,
    /// Write the raw signature bytes here.
    pub signature_out: Option<PathBuf>,
}

pub async fn sign(options: SignOptions) -> Result<SignOutcome, String> {
    let url = format!("{}/api/v1/signatures", options.server.trim_end_matches('/'));
    let input = SignInput { witness: options.witness, image: options.image, publish: options.publish };
    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(options.token.trim())
        .timeout(std::time::Duration::from_secs(60))
        .json(&input)
        .send()
        .await
        .map_err(|e| format!("could not reach {url}: {e}"))?;
    let status = response.status();
    let body = response.text().await.map_err(|e| format!("{url}: {e}"))?;
    if !status.is_success() {
        // The API's error body: {"error", "message", "fields"}.
        let detail = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                let message = v.get("message")?.as_str()?.to_string();
                Some(message)
            })
            .unwrap_or(body);
        return Err(format!("the console refused ({status}): {detail}"));
    }
    let outcome: SignOutcome = serde_json::from_str(&body).map_err(|e| format!("unexpected answer from {url}: {e}"))?;
    if let Some(path) = &options.payload_out {
        let payload = BASE64.decode(&outcome.payload).map_err(|e| e.to_string())?;
        std::fs::write(path, payload).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &options.signature_out {
        let signature = BASE64.decode(&outcome.signature).map_err(|e| e.to_string())?;
        std::fs::write(path, signature).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(outcome)
}
