//! The console's own HTTPS: a rustls server configuration from PEM files (the certificate chain
//! and its private key), with the ring provider the rest of the binary's TLS already uses.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::config::TlsFiles;

pub fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, String> {
    if files.cert.as_os_str().is_empty() || files.key.as_os_str().is_empty() {
        return Err("set both BULWARK_TLS_CERT and BULWARK_TLS_KEY to serve HTTPS".into());
    }
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", files.cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in this file", files.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| format!("{}: {e}", files.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("{} and {} do not make a usable pair: {e}", files.cert.display(), files.key.display()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
