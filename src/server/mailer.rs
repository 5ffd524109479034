//! Outgoing email through lettre: an SMTP server when one is configured (per account in
//! Settings, or for the whole console by environment), otherwise a local outbox of `.eml`
//! files under the data folder, so a new install shows the whole flow on one machine.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use super::outbound::{OutboundPolicy, Refused};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required).
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption; for relays on loopback or a trusted network.
    None,
}

impl SmtpSecurity {
    pub const ALL: [SmtpSecurity; 3] = [SmtpSecurity::StartTls, SmtpSecurity::Tls, SmtpSecurity::None];

    pub fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::StartTls => "starttls",
            SmtpSecurity::Tls => "tls",
            SmtpSecurity::None => "none",
        }
    }

    pub fn parse(value: &str) -> Option<SmtpSecurity> {
        SmtpSecurity::ALL.into_iter().find(|s| s.as_str() == value.to_ascii_lowercase())
    }

    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        }
    }
}

/// An SMTP server to send through. The password is plaintext only in memory.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The From header, `Name <address>` or a bare address.
    pub from: String,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .finish()
    }
}

/// Where mail goes.
#[derive(Debug, Clone)]
pub enum Mailer {
    /// An SMTP server; with a policy (an account's own server) its address must pass the
    /// console's outbound policy, without one (the operator's `BULWARK_SMTP_*`) it is trusted.
    Smtp(SmtpSettings, Option<Arc<OutboundPolicy>>),
    /// A folder of `.eml` files; the From address is fixed.
    Outbox(PathBuf),
}

/// A message before it is encoded: plain text and HTML alternatives, inline images the HTML
/// refers to as `cid:<id>`, and attachments.
#[derive(Debug, Clone, Default)]
pub struct OutgoingMail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// (content id, PNG bytes)
    pub inline_png: Vec<(String, Vec<u8>)>,
    /// (file name, content type, bytes)
    pub attachments: Vec<(String, String, Vec<u8>)>,
}

/// Why a message did not go out, and whether trying again later may help.
#[derive(Debug, Clone, PartialEq)]
pub struct SendError {
    pub transient: bool,
    pub message: String,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

pub const OUTBOX_FROM: &str = "Bulwark <bulwark@localhost>";
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

impl Mailer {
    pub fn is_outbox(&self) -> bool {
        matches!(self, Mailer::Outbox(_))
    }

    /// Sends, returning the server's answer (or where the outbox put the message).
    pub async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        let sent = self.send_once(mail).await;
        super::metrics::email_sent(sent.is_ok());
        sent
    }

    async fn send_once(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        let from = match self {
            Mailer::Smtp(settings, _) => settings.from.as_str(),
            Mailer::Outbox(_) => OUTBOX_FROM,
        };
        let message = build_message(from, mail).map_err(|message| SendError { transient: false, message })?;
        match self {
            Mailer::Smtp(settings, policy) => {
                // Connect to the address the policy checked, so DNS cannot change it afterwards.
                let address = match policy {
                    Some(policy) => Some(policy.resolve(&settings.host, settings.port).await.map_err(|refused| SendError {
                        transient: matches!(refused, Refused::Unresolved { .. }),
                        message: refused.to_string(),
                    })?[0]),
                    None => None,
                };
                let transport = smtp_transport(settings, address).map_err(|message| SendError { transient: false, message })?;
                match transport.send(message).await {
                    Ok(response) => Ok(format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" "))),
                    Err(error) => Err(SendError {
                        // Refused connections, timeouts and 4xx answers may pass; 5xx will not.
                        transient: !error.is_permanent(),
                        message: smtp_error_text(&error),
                    }),
                }
            }
            Mailer::Outbox(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| SendError { transient: true, message: format!("cannot create the outbox: {e}") })?;
                let id = AsyncFileTransport::<Tokio1Executor>::new(dir)
                    .send(message)
                    .await
                    .map_err(|e| SendError { transient: true, message: format!("cannot write to the outbox: {e}") })?;
                Ok(format!("Saved to the local outbox as {id}.eml"))
            }
        }
    }
}

fn smtp_error_text(error: &lettre::transport::smtp::Error) -> String {
    // lettre's Display includes the server's code and text; drop the source chain's noise.
    let text = error.to_string();
    match error.status() {
        Some(code) if !text.contains(&code.to_string()) => format!("{code} {text}"),
        _ => text,
    }
}

/// The transport to `settings.host`, or to `address` when it was resolved already (TLS still
/// checks the certificate against the host name).
fn smtp_transport(settings: &SmtpSettings, address: Option<SocketAddr>) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let tls_parameters = || TlsParameters::new(settings.host.clone()).map_err(|e| format!("TLS setup for {}: {e}", settings.host));
    let tls = match settings.security {
        SmtpSecurity::StartTls => Tls::Required(tls_parameters()?),
        SmtpSecurity::Tls => Tls::Wrapper(tls_parameters()?),
        SmtpSecurity::None => Tls::None,
    };
    let server = address.map_or_else(|| settings.host.clone(), |a| a.ip().to_string());
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server)
        .port(settings.port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    if let Some(user) = &settings.username {
        builder = builder.credentials(Credentials::new(user.clone(), settings.password.clone().unwrap_or_default()));
    }
    Ok(builder.build())
}

/// Encodes `mail` as multipart/mixed: [alternative: text, related: html + inline PNGs], files.
pub fn build_message(from: &str, mail: &OutgoingMail) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|_| format!("\u{201c}{from}\u{201d} is not a valid From address"))?;
    let mut builder = Message::builder().from(from).subject(mail.subject.clone());
    if mail.to.is_empty() {
        return Err("no recipients".into());
    }
    for to in &mail.to {
        let mailbox: Mailbox = to.parse().map_err(|_| format!("\u{201c}{to}\u{201d} is not a valid address"))?;
        builder = builder.to(mailbox);
    }
    let text = SinglePart::plain(mail.text.clone());
    let body = match &mail.html {
        None if mail.attachments.is_empty() => return builder.singlepart(text).map_err(|e| e.to_string()),
        None => MultiPart::mixed().singlepart(text),
        Some(html) => {
            let mut related = MultiPart::related().singlepart(SinglePart::html(html.clone()));
            for (cid, png) in &mail.inline_png {
                related = related.singlepart(Attachment::new_inline(cid.clone()).body(png.clone(), ContentType::parse("image/png").expect("valid")));
            }
            let alternative = MultiPart::alternative().singlepart(text).multipart(related);
            MultiPart::mixed().multipart(alternative)
        }
    };
    let mut body = body;
    for (name, content_type, bytes) in &mail.attachments {
        let content_type = ContentType::parse(content_type).map_err(|e| e.to_string())?;
        body = body.singlepart(Attachment::new(name.clone()).body(bytes.clone(), content_type));
    }
    builder.multipart(body).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_debug_output() {
        let settings = SmtpSettings {
            host: "mail.example.com".into(),
            port: 587,
            security: SmtpSecurity::StartTls,
            username: Some("reports".into()),
            password: Some("s3cret-pass".into()),
            from: "Bulwark <reports@example.com>".into(),
        };
        let debug = format!("{settings:?}");
        assert!(!debug.contains("s3cret-pass"));
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn messages_nest_text_html_images_and_files() {
        let mail = OutgoingMail {
            to: vec!["a@example.com".into(), "b@example.com".into()],
            subject: "Weekly report".into(),
            text: "plain body".into(),
            html: Some("<p><img src=\"cid:chart-0\"></p>".into()),
            inline_png: vec![("chart-0".into(), vec![137, 80, 78, 71])],
            attachments: vec![("report.pdf".into(), "application/pdf".into(), b"%PDF-1.7".to_vec())],
        };
        let raw = String::from_utf8(build_message(OUTBOX_FROM, &mail).unwrap().formatted()).unwrap();
        for needle in ["multipart/mixed", "multipart/alternative", "multipart/related", "text/plain", "text/html", "image/png", "Content-ID: <chart-0>", "application/pdf", "report.pdf", "To: a@example.com, b@example.com"] {
            assert!(raw.contains(needle), "missing {needle} in\n{raw}");
        }
        assert!(build_message(OUTBOX_FROM, &OutgoingMail { to: vec!["not an address".into()], ..mail.clone() }).is_err());
        assert!(build_message("nobody", &mail).is_err());
    }
}
