//! Runtime configuration from the environment (and CLI flags that override it).

use std::path::PathBuf;

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
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/bulwark.db?mode=rwc";

impl Config {
    pub fn from_env() -> Config {
        let flag = |name: &str| std::env::var(name).map(|v| matches!(v.as_str(), "1" | "true" | "yes")).unwrap_or(false);
        Config {
            database_url: std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_string()),
            secure_cookies: flag("BULWARK_SECURE_COOKIES"),
            demo: flag("BULWARK_DEMO"),
            admin_password: std::env::var("BULWARK_ADMIN_PASSWORD").ok().filter(|p| !p.is_empty()),
        }
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
