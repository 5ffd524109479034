//! Runtime configuration from the environment (and CLI flags that override it).

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use super::mailer::{SmtpSecurity, SmtpSettings};
use super::client::TrustedProxies;
use super::outbound::OutboundPolicy;

#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://…` (default) or `postgres://…`.
    pub database_url: String,
    /// Mark the session cookie Secure; on whenever the console is served over HTTPS.
    pub secure_cookies: bool,
    /// Seed the demo accounts on first start.
    pub demo: bool,
    /// The first admin's password; random (and printed once) when unset.
    pub admin_password: Option<String>,
    /// Where the console keeps files: the master key, the mail outbox.
    pub data_dir: PathBuf,
    /// `BULWARK_MASTER_KEY`; otherwise `<data_dir>/master.key`.
    pub master_key: Option<String>,
    /// The console's address as people reach it, for links in emails.
    pub public_url: String,
    /// The SMTP server for accounts that did not set their own (`BULWARK_SMTP_*`).
    pub smtp: Option<SmtpSettings>,
    /// Host agents: how often they call in, and when the console gives up on them.
    pub agents: AgentSettings,
    /// Serve HTTPS from this certificate and key (`BULWARK_TLS_CERT`, `BULWARK_TLS_KEY`).
    pub tls: Option<TlsFiles>,
    /// Where outbound requests may go (`BULWARK_OUTBOUND_ALLOW`, `BULWARK_DINGTALK_HOSTS`).
    pub outbound: Arc<OutboundPolicy>,
    /// Proxies whose `X-Forwarded-For` names the client (`BULWARK_TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// Days the admission log keeps a decision (`BULWARK_ADMISSION_LOG_DAYS`, 30 by default).
    pub admission_log_days: u32,
    /// The bearer token `/metrics` asks for (`BULWARK_METRICS_TOKEN`); no token, no `/metrics`.
    pub metrics_token: Option<super::metrics::MetricsToken>,
}

/// The console's own TLS: PEM files read at start.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    pub key: PathBuf,
    /// What a Kubernetes API server should trust for this certificate (`BULWARK_TLS_CA`); the
    /// certificate file itself when unset, as for a self-signed certificate.
    pub ca: Option<PathBuf>,
}

impl TlsFiles {
    pub fn ca_bundle(&self) -> &std::path::Path {
        self.ca.as_deref().unwrap_or(&self.cert)
    }
}

#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// Told to agents at enrollment: seconds between heartbeats.
    pub heartbeat_secs: u64,
    /// Told to agents at enrollment: seconds between inventories.
    pub inventory_secs: u64,
    /// An agent with no heartbeat for this long is offline (`BULWARK_AGENT_OFFLINE_AFTER`).
    pub offline_after_secs: i64,
    /// A queued job whose agent stays offline this long fails (`BULWARK_AGENT_JOB_TIMEOUT`).
    pub job_timeout_secs: i64,
    /// How long the package manager may run for one job (`BULWARK_AGENT_FIX_TIMEOUT`).
    pub fix_timeout_secs: u64,
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            heartbeat_secs: 60,
            inventory_secs: 4 * 3600,
            offline_after_secs: 180,
            job_timeout_secs: 1800,
            fix_timeout_secs: 900,
        }
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/bulwark.db?mode=rwc";

/// Days the admission log keeps a decision unless `BULWARK_ADMISSION_LOG_DAYS` says otherwise.
pub const DEFAULT_ADMISSION_LOG_DAYS: u32 = 30;

impl Config {
    /// Defaults for everything but the database.
    pub fn new(database_url: String, data_dir: PathBuf) -> Config {
        Config {
            database_url,
            secure_cookies: false,
            demo: false,
            admin_password: None,
            data_dir,
            master_key: None,
            public_url: "http://localhost:3000".into(),
            smtp: None,
            agents: AgentSettings::default(),
            tls: None,
            outbound: Arc::new(OutboundPolicy::default()),
            trusted_proxies: TrustedProxies::default(),
            admission_log_days: DEFAULT_ADMISSION_LOG_DAYS,
            metrics_token: None,
        }
    }

    pub fn from_env() -> Config {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let flag = |name: &str| var(name).map(|v| matches!(v.as_str(), "1" | "true" | "yes")).unwrap_or(false);
        let mut config = Config::new(
            var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            PathBuf::from(var("BULWARK_DATA_DIR").unwrap_or_else(|| "data".into())),
        );
        config.secure_cookies = flag("BULWARK_SECURE_COOKIES");
        config.outbound = Arc::new(OutboundPolicy::from_env());
        config.trusted_proxies = TrustedProxies::from_env();
        config.demo = flag("BULWARK_DEMO");
        config.admin_password = var("BULWARK_ADMIN_PASSWORD");
        config.master_key = var("BULWARK_MASTER_KEY");
        if let Some(url) = var("BULWARK_PUBLIC_URL") {
            config.public_url = url.trim_end_matches('/').to_string();
            // Browsers reach the console over HTTPS (perhaps through a proxy): the cookie says so.
            if config.public_url.starts_with("https://") {
                config.secure_cookies = true;
            }
        }
        if let Some(days) = var("BULWARK_ADMISSION_LOG_DAYS").and_then(|v| v.parse::<u32>().ok()).filter(|d| (1..=3650).contains(d)) {
            config.admission_log_days = days;
        }
        config.metrics_token = var("BULWARK_METRICS_TOKEN").map(|t| super::metrics::MetricsToken::new(t.trim()));
        let secs = |name: &str| var(name).and_then(|v| v.parse::<u64>().ok()).filter(|s| *s > 0);
        if let Some(s) = secs("BULWARK_AGENT_OFFLINE_AFTER") {
            config.agents.offline_after_secs = s as i64;
            config.agents.heartbeat_secs = (s / 3).max(1);
        }
        if let Some(s) = secs("BULWARK_AGENT_JOB_TIMEOUT") {
            config.agents.job_timeout_secs = s as i64;
        }
        if let Some(s) = secs("BULWARK_AGENT_FIX_TIMEOUT") {
            config.agents.fix_timeout_secs = s;
        }
        if var("BULWARK_TLS_CERT").is_some() || var("BULWARK_TLS_KEY").is_some() {
            // Both or neither; a missing one shows up as an empty path that fails to load at start.
            config.tls = Some(TlsFiles {
                cert: PathBuf::from(var("BULWARK_TLS_CERT").unwrap_or_default()),
                key: PathBuf::from(var("BULWARK_TLS_KEY").unwrap_or_default()),
                ca: var("BULWARK_TLS_CA").map(PathBuf::from),
            });
            config.secure_cookies = true;
        }
        config.smtp = var("BULWARK_SMTP_HOST").map(|host| {
            let security = var("BULWARK_SMTP_SECURITY").and_then(|s| SmtpSecurity::parse(&s)).unwrap_or(SmtpSecurity::StartTls);
            SmtpSettings {
                host,
                port: var("BULWARK_SMTP_PORT").and_then(|p| p.parse().ok()).unwrap_or(security.default_port()),
                security,
                username: var("BULWARK_SMTP_USER"),
                password: var("BULWARK_SMTP_PASSWORD"),
                from: var("BULWARK_SMTP_FROM").unwrap_or_else(|| "Bulwark <bulwark@localhost>".into()),
            }
        });
        config
    }

    /// The folder a SQLite URL points into, so it can be created before the first connection.
    pub fn sqlite_dir(&self) -> Option<PathBuf> {
        let path = self.database_url.strip_prefix("sqlite://")?.split('?').next()?;
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        PathBuf::from(path).parent().map(|p| p.to_path_buf()).filter(|p| !p.as_os_str().is_empty())
    }
}

/// This process's name in delivery claims: host name, process id and a random part.
pub fn replica_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
        format!("{host}:{}:{}", std::process::id(), super::crypto::random_hex(4))
    })
}
