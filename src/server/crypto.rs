//! Password hashing (argon2id) and API tokens (random, stored as SHA-256).
//! Tokens carry 256 random bits, so a fast hash is enough; passwords need a slow one.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// A stored password hash. Never serialised, never logged.
pub struct PasswordHashString(pub String);

pub async fn hash_password(password: String) -> Result<PasswordHashString, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| PasswordHashString(hash.to_string()))
    })
    .await
    .map_err(|_| AppError::Internal)?
    .map_err(|error| {
        tracing::error!(%error, "password hashing failed");
        AppError::Internal
    })
}

/// At most this many password checks run at once: each holds a core and about 19 MiB for some
/// 50 ms, so a flood of sign-ins would otherwise starve every other request.
pub const CONCURRENT_PASSWORD_CHECKS: usize = 4;
/// How long a sign-in waits for a free check before it is told to try again.
pub const PASSWORD_CHECK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The slots for password checks (one set per console process).
#[derive(Clone)]
pub struct PasswordChecks(std::sync::Arc<tokio::sync::Semaphore>);

impl Default for PasswordChecks {
    fn default() -> Self {
        PasswordChecks(std::sync::Arc::new(tokio::sync::Semaphore::new(CONCURRENT_PASSWORD_CHECKS)))
    }
}

impl PasswordChecks {
    /// A slot for one check, waiting up to `PASSWORD_CHECK_WAIT`; then 429.
    pub async fn slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, AppError> {
        match tokio::time::timeout(PASSWORD_CHECK_WAIT, self.0.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(AppError::Internal),
            Err(_) => Err(AppError::TooManyRequests("Bulwark is busy checking other sign-ins. Try again in a few seconds.".into())),
        }
    }

    /// Takes every slot (tests: a console under a flood of sign-ins).
    pub async fn take_all(&self) -> tokio::sync::OwnedSemaphorePermit {
        self.0.clone().acquire_many_owned(CONCURRENT_PASSWORD_CHECKS as u32).await.expect("the semaphore is never closed")
    }
}

/// Verifies in constant time; with no stored hash it still does the work, so timing does not
/// reveal whether an email is registered.
pub async fn verify_password(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        let Ok(parsed) = PasswordHash::new(&stored) else { return false };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && stored != DUMMY_HASH
    })
    .await
    .unwrap_or(false)
}

/// argon2id of a random string nobody knows; used only to spend the same time as a real check.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3ObQmAv0VAXfdRUe9FvAbOYrfnMCqbgeJ12cyo3Hqws";

pub const TOKEN_PREFIX: &str = "blk_";

/// A new API token: the secret shown once, its short display prefix, and the hash to store.
pub fn new_api_token() -> (String, String, String) {
    let token = format!("{TOKEN_PREFIX}{}", random_hex(32));
    let display = token[..TOKEN_PREFIX.len() + 8].to_string();
    let hash = hash_token(&token);
    (token, display, hash)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A random password for a first admin who did not choose one.
pub fn random_password() -> String {
    random_hex(12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.0.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery".into(), Some(hash.0.clone())).await);
        assert!(!verify_password("wrong horse battery".into(), Some(hash.0)).await);
        assert!(!verify_password("anything".into(), None).await);
    }

    /// An unknown email costs what a wrong password costs only if the dummy hash is a real
    /// argon2id hash with the parameters new hashes get: one that failed to parse would answer at once.
    #[tokio::test]
    async fn the_dummy_hash_costs_a_real_check() {
        let dummy = PasswordHash::new(DUMMY_HASH).expect("the dummy hash parses");
        let real_hash = hash_password("anything at all".into()).await.unwrap();
        let real = PasswordHash::new(&real_hash.0).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert_eq!(dummy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
        assert_eq!(dummy.salt.map(|s| s.len()), real.salt.map(|s| s.len()));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, prefix, hash) = new_api_token();
        let (b, _, _) = new_api_token();
        assert_ne!(a, b);
        assert!(a.starts_with(&prefix) && prefix.starts_with(TOKEN_PREFIX));
        assert_eq!(hash, hash_token(&a));
        assert_eq!(hash.len(), 64);
    }
}
