//! Secrets at rest: AES-256-GCM under the console's master key. Each sealed value carries its
//! own random nonce and is bound to what it belongs to (associated data such as
//! "smtp-password:42"), so a ciphertext copied onto another row does not open.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

/// Holds the master key; deliberately neither `Debug` nor `Serialize`.
#[derive(Clone)]
pub struct Secrets {
    cipher: Aes256Gcm,
    /// The raw key, for the key management service, which wraps each key's data key under it.
    master: std::sync::Arc<[u8; 32]>,
}

const FORMAT: &str = "v1";

impl Secrets {
    pub fn from_key(key: &[u8; 32]) -> Secrets {
        Secrets { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)), master: std::sync::Arc::new(*key) }
    }

    pub fn master_key(&self) -> &[u8; 32] {
        &self.master
    }

    /// The master key from `BULWARK_MASTER_KEY` (64 hex digits or base64 of 32 bytes), or else
    /// from `<data_dir>/master.key`, created with mode 0600 on first start.
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Secrets, String> {
        if let Some(text) = configured {
            return parse_key(text.trim()).map(|k| Secrets::from_key(&k));
        }
        let path = data_dir.join("master.key");
        match std::fs::read_to_string(&path) {
            Ok(text) => parse_key(text.trim()).map(|k| Secrets::from_key(&k)).map_err(|e| format!("{}: {e}", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
                let key: [u8; 32] = Aes256Gcm::generate_key(OsRng).into();
                write_private(&path, hex::encode(key).as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
                tracing::info!(path = %path.display(), "created a new master key");
                Ok(Secrets::from_key(&key))
            }
            Err(error) => Err(format!("{}: {error}", path.display())),
        }
    }

    /// Encrypts `plaintext` bound to `context`; the result is printable and safe to store.
    pub fn seal(&self, context: &str, plaintext: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() })
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{FORMAT}:{}", BASE64.encode(bytes))
    }

    /// Decrypts what `seal` produced for the same `context`; `None` when it was tampered with,
    /// sealed for something else, or under another master key.
    pub fn open(&self, context: &str, sealed: &str) -> Option<String> {
        let bytes = BASE64.decode(sealed.strip_prefix(FORMAT)?.strip_prefix(':')?).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, body) = bytes.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: context.as_bytes() }).ok()?;
        String::from_utf8(plain).ok()
    }
}

fn parse_key(text: &str) -> Result<[u8; 32], String> {
    let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|e| e.to_string())?
    } else {
        BASE64.decode(text).map_err(|_| "the master key must be 64 hex digits or base64 of 32 bytes".to_string())?
    };
    bytes.try_into().map_err(|_| "the master key must be 32 bytes".to_string())
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_context_and_key() {
        let secrets = Secrets::from_key(&[7; 32]);
        let sealed = secrets.seal("smtp-password:1", "hunter2");
        assert!(!sealed.contains("hunter2"));
        assert_eq!(secrets.open("smtp-password:1", &sealed).as_deref(), Some("hunter2"));
        assert_eq!(secrets.open("smtp-password:2", &sealed), None);
        assert_eq!(Secrets::from_key(&[8; 32]).open("smtp-password:1", &sealed), None);
        assert_ne!(sealed, secrets.seal("smtp-password:1", "hunter2"), "fresh nonce each time");
    }

    #[test]
    fn a_key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = Secrets::load(None, dir.path()).unwrap();
        let sealed = first.seal("x", "y");
        let again = Secrets::load(None, dir.path()).unwrap();
        assert_eq!(again.open("x", &sealed).as_deref(), Some("y"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("master.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(Secrets::load(Some("too short"), dir.path()).is_err());
    }
}
