//! DingTalk custom robots: the signed webhook request and the markdown message, as DingTalk's
//! robot API publishes them (POST JSON; `timestamp` and `sign` query parameters when the robot
//! has a signing secret; `errcode` 0 on success), sent through the console's outbound policy.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::server::outbound::{read_capped, refusal, Outbound};

/// A robot opened for sending. Its Debug hides the webhook's token and the secret.
pub struct Robot {
    pub webhook: String,
    pub secret: Option<String>,
    pub keywords: Vec<String>,
}

impl std::fmt::Debug for Robot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let base = self.webhook.split('?').next().unwrap_or_default();
        f.debug_struct("Robot")
            .field("webhook", &format!("{base}?…"))
            .field("secret", &self.secret.as_ref().map(|_| "…"))
            .field("keywords", &self.keywords)
            .finish()
    }
}

/// Base64(HMAC-SHA256(key = secret, message = timestamp + "\n" + secret)), the published algorithm.
pub fn sign(secret: &str, timestamp_ms: i64) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The webhook with `timestamp` and the percent-encoded `sign` added when the robot signs.
pub fn request_url(robot: &Robot, timestamp_ms: i64) -> Result<reqwest::Url, SendError> {
    let mut url = reqwest::Url::parse(&robot.webhook).map_err(|e| SendError::Invalid(format!("the webhook URL does not parse: {e}")))?;
    if let Some(secret) = &robot.secret {
        url.query_pairs_mut().append_pair("timestamp", &timestamp_ms.to_string()).append_pair("sign", &sign(secret, timestamp_ms));
    }
    Ok(url)
}

/// A markdown message; when the robot has keywords and the text has none of them, the first is
/// added, since DingTalk refuses messages without one.
pub fn markdown_body(robot: &Robot, title: &str, text: &str) -> serde_json::Value {
    let mut text = text.to_string();
    if let Some(first) = robot.keywords.first() {
        if !robot.keywords.iter().any(|k| text.contains(k.as_str()) || title.contains(k.as_str())) {
            text.push_str(&format!("\n\n#### {first}"));
        }
    }
    serde_json::json!({ "msgtype": "markdown", "markdown": { "title": title, "text": text } })
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("cannot reach DingTalk: {0}")]
    Network(String),
    #[error("DingTalk answered HTTP {0}")]
    Http(u16),
    #[error("DingTalk refused the message (errcode {errcode}: {errmsg})")]
    Rejected { errcode: i64, errmsg: String },
    #[error("{0}")]
    Invalid(String),
}

/// The most of DingTalk's answer that is read; its real answers are under 100 bytes.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// Posts the message through the console's outbound policy: the robot's host must be one of
/// the operator's DingTalk hosts, its addresses public (or allowed), and no redirect is
/// followed. Only a status summary comes back, never the body of an unexpected answer.
pub async fn send(outbound: &Outbound, robot: &Robot, title: &str, text: &str, timestamp_ms: i64) -> Result<(), SendError> {
    let sent = send_once(outbound, robot, title, text, timestamp_ms).await;
    crate::server::metrics::dingtalk_sent(sent.is_ok());
    sent
}

async fn send_once(outbound: &Outbound, robot: &Robot, title: &str, text: &str, timestamp_ms: i64) -> Result<(), SendError> {
    outbound.policy().robot_url(&robot.webhook).map_err(SendError::Invalid)?;
    let url = request_url(robot, timestamp_ms)?;
    let network = |e: reqwest::Error| SendError::Network(refusal(&e).map_or_else(|| e.without_url().to_string(), |r| r.to_string()));
    let response = outbound
        .request(reqwest::Method::POST, url)
        .map_err(|r| SendError::Network(r.to_string()))?
        .json(&markdown_body(robot, title, text))
        .send()
        .await
        .map_err(network)?;
    let status = response.status();
    if !status.is_success() {
        return Err(SendError::Http(status.as_u16()));
    }
    let body = read_capped(response, MAX_ANSWER_BYTES)
        .await
        .map_err(network)?
        .ok_or_else(|| SendError::Invalid(format!("DingTalk's answer was longer than {} KiB", MAX_ANSWER_BYTES / 1024)))?;
    #[derive(serde::Deserialize)]
    struct Answer {
        errcode: i64,
        #[serde(default)]
        errmsg: String,
    }
    let answer: Answer = serde_json::from_slice(&body)
        .map_err(|_| SendError::Invalid(format!("DingTalk answered HTTP {} with something other than its JSON answer", status.as_u16())))?;
    if answer.errcode != 0 {
        let errmsg = answer.errmsg.chars().filter(|c| !c.is_control()).take(100).collect();
        return Err(SendError::Rejected { errcode: answer.errcode, errmsg });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn robot(secret: Option<&str>, keywords: &[&str]) -> Robot {
        Robot {
            webhook: "https://oapi.dingtalk.com/robot/send?access_token=abc".into(),
            secret: secret.map(str::to_string),
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
        }
    }

    #[test]
    fn signs_like_the_published_algorithm() {
        // python3 -c 'import hmac,hashlib,base64;s=b"SECexample";print(base64.b64encode(hmac.new(s,b"1700000000000\n"+s,hashlib.sha256).digest()).decode())'
        assert_eq!(sign("SECexample", 1_700_000_000_000), "uroalHrWHORz59talE1o26b8HuX2kOp8WlAN91F9Pj0=");
    }

    #[test]
    fn the_url_keeps_the_token_and_encodes_the_signature() {
        let url = request_url(&robot(Some("SECexample"), &[]), 1_700_000_000_000).unwrap();
        assert_eq!(
            url.as_str(),
            "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign=uroalHrWHORz59talE1o26b8HuX2kOp8WlAN91F9Pj0%3D"
        );
        assert_eq!(request_url(&robot(None, &[]), 1).unwrap().as_str(), "https://oapi.dingtalk.com/robot/send?access_token=abc");
    }

    #[test]
    fn a_keyword_is_added_only_when_missing() {
        let body = markdown_body(&robot(None, &["Bulwark", "alert"]), "Task done", "nothing here");
        assert_eq!(body["markdown"]["text"], "nothing here\n\n#### Bulwark");
        let body = markdown_body(&robot(None, &["Bulwark"]), "Bulwark task", "done");
        assert_eq!(body["markdown"]["text"], "done");
        assert_eq!(body["msgtype"], "markdown");
    }

    #[test]
    fn debug_hides_the_token_and_secret() {
        let text = format!("{:?}", robot(Some("SECexample"), &[]));
        assert!(!text.contains("abc") && !text.contains("SECexample"), "{text}");
    }
}
