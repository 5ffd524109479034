//! The cryptography of the built-in key management service: key generation, envelope sealing of
//! private keys under the master key, and the signatures and encryption cloud KMSs offer.

use std::fmt;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::digest::{self, Digest, SHA256};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::{
    KeySize, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey, PublicKey as RsaPublicKey,
    OAEP_SHA256_MGF1SHA256,
};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, KeyPair as _, ParsedPublicKey, RsaKeyPair, VerificationAlgorithm, ECDSA_P256_SHA256_ASN1,
    ECDSA_P256_SHA256_ASN1_SIGNING, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256,
};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use zeroize::Zeroizing;

use super::model::{KeySpec, KeyUsage, SigningAlgorithm};

/// What goes wrong, in words the console can show as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KmsError {
    #[error("{} cannot be used with an {} key", .algorithm.as_str(), .spec.as_str())]
    AlgorithmDoesNotFit { algorithm: SigningAlgorithm, spec: KeySpec },
    #[error(
        "{} keys cannot be used for {}: elliptic-curve keys have no standard encryption scheme, so they only sign and verify (use RSA_2048 or RSA_3072 to encrypt)",
        .spec.as_str(), .usage.as_str()
    )]
    UsageDoesNotFit { spec: KeySpec, usage: KeyUsage },
    #[error("a SHA-256 digest is 32 bytes, got {0}")]
    DigestLength(usize),
    #[error("the plaintext is {len} bytes, but an {} key encrypts at most {max} bytes with RSAES-OAEP-SHA-256", .spec.as_str())]
    PlaintextTooLong { spec: KeySpec, len: usize, max: usize },
    #[error("the ciphertext does not decrypt with this key")]
    DoesNotDecrypt,
    #[error("the key material does not open: wrong master key, or it belongs to another key or version")]
    DoesNotOpen,
    #[error("the private key is not a valid {} key", .0.as_str())]
    InvalidPrivateKey(KeySpec),
    #[error("the public key is not a valid {} key", .0.as_str())]
    InvalidPublicKey(KeySpec),
    /// Failures of the library itself (no randomness, out of memory), never of the caller's input.
    #[error("the cryptographic library failed to {0}")]
    Crypto(&'static str),
}

/// Refuses the combinations no key can serve.
pub fn check_usage(spec: KeySpec, usage: KeyUsage) -> Result<(), KmsError> {
    match (spec, usage) {
        (KeySpec::EcP256, KeyUsage::EncryptDecrypt) => Err(KmsError::UsageDoesNotFit { spec, usage }),
        _ => Ok(()),
    }
}

/// Freshly generated key material. The private half is wiped from memory when dropped and is
/// neither `Serialize` nor printed by `Debug`.
pub struct GeneratedKey {
    /// PKCS#8 v1 (RFC 5208) DER.
    pub private_pkcs8: Zeroizing<Vec<u8>>,
    /// X.509 SubjectPublicKeyInfo DER, as `openssl pkey -pubin -inform DER` reads it.
    pub public_spki_der: Vec<u8>,
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey").field("public_key", &public_key_fingerprint(&self.public_spki_der)).finish_non_exhaustive()
    }
}

/// New key material. RSA generation searches for primes: tens to hundreds of milliseconds, now and
/// then a second for RSA_3072, so async callers run it with `spawn_blocking`.
pub fn generate(spec: KeySpec) -> Result<GeneratedKey, KmsError> {
    let failed = || KmsError::Crypto("generate a key");
    let (private, public) = match spec {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 => {
            let size = if spec == KeySpec::Rsa2048 { KeySize::Rsa2048 } else { KeySize::Rsa3072 };
            let pair = RsaKeyPair::generate(size).map_err(|_| failed())?;
            let private = AsDer::<Pkcs8V1Der>::as_der(&pair).map_err(|_| failed())?;
            let public = pair.public_key().as_der().map_err(|_| failed())?;
            (Zeroizing::new(private.as_ref().to_vec()), public.as_ref().to_vec())
        }
        KeySpec::EcP256 => {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).map_err(|_| failed())?;
            let private = pair.to_pkcs8v1().map_err(|_| failed())?;
            let public = pair.public_key().as_der().map_err(|_| failed())?;
            (Zeroizing::new(private.as_ref().to_vec()), public.as_ref().to_vec())
        }
    };
    Ok(GeneratedKey { private_pkcs8: private, public_spki_der: public })
}

/// A private key as stored: each field is nonce (12 bytes) || AES-256-GCM ciphertext and tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedKey {
    /// The data key, encrypted under the master key.
    pub wrapped_data_key: Vec<u8>,
    /// The PKCS#8 private key, encrypted under the data key.
    pub encrypted_private_key: Vec<u8>,
}

/// Binds a sealed key to its key and version, so rows swapped in the database do not open. The
/// version is last and has no colon, so the text names exactly one (key id, version) pair.
fn associated_data(key_id: &str, version: i64) -> String {
    format!("bulwark-kms:v1:{key_id}:{version}")
}

/// Envelope encryption: a fresh data key per key version encrypts the private key, and only the
/// 32-byte data key is encrypted under the master key (as cloud KMSs and their HSMs do).
pub fn seal(master_key: &[u8; 32], key_id: &str, version: i64, private_pkcs8: &[u8]) -> Result<SealedKey, KmsError> {
    let aad = associated_data(key_id, version);
    let mut data_key = Zeroizing::new([0u8; 32]);
    aws_lc_rs::rand::fill(&mut data_key[..]).map_err(|_| KmsError::Crypto("draw a random data key"))?;
    Ok(SealedKey {
        wrapped_data_key: aes_seal(master_key, &aad, &data_key[..])?,
        encrypted_private_key: aes_seal(&data_key, &aad, private_pkcs8)?,
    })
}

/// The PKCS#8 private key that `seal` sealed for the same key id and version.
pub fn open(master_key: &[u8; 32], key_id: &str, version: i64, sealed: &SealedKey) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let aad = associated_data(key_id, version);
    let data_key = aes_open(master_key, &aad, &sealed.wrapped_data_key)?;
    let data_key: &[u8; 32] = data_key.as_slice().try_into().map_err(|_| KmsError::DoesNotOpen)?;
    aes_open(data_key, &aad, &sealed.encrypted_private_key)
}

fn aes_key(key: &[u8; 32]) -> Result<LessSafeKey, KmsError> {
    let key = UnboundKey::new(&AES_256_GCM, key).map_err(|_| KmsError::Crypto("load an AES key"))?;
    Ok(LessSafeKey::new(key))
}

/// nonce || ciphertext || tag, with a random nonce: each key encrypts few enough messages (one
/// data key per key version under the master key) that random 96-bit nonces never repeat.
fn aes_seal(key: &[u8; 32], aad: &str, plaintext: &[u8]) -> Result<Vec<u8>, KmsError> {
    let key = aes_key(key)?;
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| KmsError::Crypto("draw a random nonce"))?;
    // Sized for the tag up front so the buffer never reallocates (a reallocation would leave a copy
    // of the plaintext in freed memory), and wiped if sealing fails before it is all ciphertext.
    let mut out = Zeroizing::new(Vec::with_capacity(NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len()));
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut out[NONCE_LEN..])
        .map_err(|_| KmsError::Crypto("encrypt with AES-GCM"))?;
    out.extend_from_slice(tag.as_ref());
    Ok(std::mem::take(&mut *out))
}

fn aes_open(key: &[u8; 32], aad: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(KmsError::DoesNotOpen);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KmsError::DoesNotOpen)?;
    let mut plain = Zeroizing::new(body.to_vec());
    let len = aes_key(key)?.open_in_place(nonce, Aad::from(aad), &mut plain[..]).map_err(|_| KmsError::DoesNotOpen)?.len();
    plain.truncate(len);
    Ok(plain)
}

/// A parsed private key, kept in memory so repeated signing skips parsing and checking the PKCS#8
/// (for RSA that costs more than a signature). aws-lc wipes the key material when it is dropped.
pub struct PrivateKey {
    spec: KeySpec,
    key: ParsedPrivate,
}

enum ParsedPrivate {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey").field("spec", &self.spec).finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Refuses a key of another type or size than `spec`, rather than sign under the wrong name.
    pub fn from_pkcs8(spec: KeySpec, der: &[u8]) -> Result<Self, KmsError> {
        let invalid = |_| KmsError::InvalidPrivateKey(spec);
        let key = match rsa_bits(spec) {
            Some(bits) => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(invalid)?;
                if pair.public_modulus_len() * 8 != bits {
                    return Err(KmsError::InvalidPrivateKey(spec));
                }
                ParsedPrivate::Rsa(pair)
            }
            None => ParsedPrivate::Ec(EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der).map_err(invalid)?),
        };
        Ok(PrivateKey { spec, key })
    }

    /// Hashes `message` with SHA-256 and signs it.
    pub fn sign_message(&self, algorithm: SigningAlgorithm, message: &[u8]) -> Result<Vec<u8>, KmsError> {
        check_fits(algorithm, self.spec)?;
        let failed = || KmsError::Crypto("sign");
        match &self.key {
            ParsedPrivate::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                // aws-lc-rs ignores the generator (aws-lc draws its own randomness for PSS salts).
                pair.sign(rsa_padding(algorithm), &aws_lc_rs::rand::SystemRandom::new(), message, &mut signature).map_err(|_| failed())?;
                Ok(signature)
            }
            ParsedPrivate::Ec(pair) => {
                let signature = pair.sign(&aws_lc_rs::rand::SystemRandom::new(), message).map_err(|_| failed())?;
                Ok(signature.as_ref().to_vec())
            }
        }
    }

    /// Signs a precomputed SHA-256 digest, as cloud KMS "AsymmetricSign" with a digest does: the
    /// signature is the same one `sign_message` makes over the message the digest came from.
    pub fn sign_digest(&self, algorithm: SigningAlgorithm, digest: &[u8]) -> Result<Vec<u8>, KmsError> {
        check_fits(algorithm, self.spec)?;
        let digest = import_digest(digest)?;
        let failed = || KmsError::Crypto("sign a digest");
        match &self.key {
            ParsedPrivate::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign_digest(rsa_padding(algorithm), &digest, &mut signature).map_err(|_| failed())?;
                Ok(signature)
            }
            ParsedPrivate::Ec(pair) => Ok(pair.sign_digest(&digest).map_err(|_| failed())?.as_ref().to_vec()),
        }
    }

    /// RSAES-OAEP with SHA-256 and MGF1-SHA-256, no label (what `encrypt` and cloud KMSs produce).
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, KmsError> {
        let ParsedPrivate::Rsa(pair) = &self.key else {
            return Err(KmsError::UsageDoesNotFit { spec: self.spec, usage: KeyUsage::EncryptDecrypt });
        };
        // aws-lc-rs 1.16's decrypting key is not Send + Sync (aws/aws-lc-rs#1125, fixed by #1128 after
        // 1.16.2), so a key shared between requests cannot hold one: it is rebuilt for each call from the
        // signing key (the PKCS#8 copy in between wipes itself on drop).
        let failed = || KmsError::Crypto("load the key for decryption");
        let pkcs8 = AsDer::<Pkcs8V1Der>::as_der(pair).map_err(|_| failed())?;
        let decrypting = PrivateDecryptingKey::from_pkcs8(pkcs8.as_ref()).map_err(|_| failed())?;
        let decrypting = OaepPrivateDecryptingKey::new(decrypting).map_err(|_| failed())?;
        let mut plaintext = vec![0u8; decrypting.min_output_size()];
        let len =
            decrypting.decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext, &mut plaintext, None).map_err(|_| KmsError::DoesNotDecrypt)?.len();
        plaintext.truncate(len);
        Ok(plaintext)
    }
}

/// Ok(false) when the signature does not match; Err when the question itself is wrong (the
/// algorithm does not fit the key, or the public key does not parse as `spec`). RSA-PSS signatures
/// must use a 32-byte salt, as the ones made here and by cloud KMSs do; other salt lengths are false.
pub fn verify_message(
    spec: KeySpec,
    public_spki_der: &[u8],
    algorithm: SigningAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, KmsError> {
    let key = parse_public(spec, public_spki_der, algorithm)?;
    Ok(key.verify_sig(message, signature).is_ok())
}

/// As `verify_message`, given the message's SHA-256 digest instead of the message.
pub fn verify_digest(
    spec: KeySpec,
    public_spki_der: &[u8],
    algorithm: SigningAlgorithm,
    digest: &[u8],
    signature: &[u8],
) -> Result<bool, KmsError> {
    let key = parse_public(spec, public_spki_der, algorithm)?;
    let digest = import_digest(digest)?;
    Ok(key.verify_digest_sig(&digest, signature).is_ok())
}

/// RSAES-OAEP with SHA-256 and MGF1-SHA-256, no label, as AWS KMS's RSAES_OAEP_SHA_256.
pub fn encrypt(spec: KeySpec, public_spki_der: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, KmsError> {
    let Some(bits) = rsa_bits(spec) else {
        return Err(KmsError::UsageDoesNotFit { spec, usage: KeyUsage::EncryptDecrypt });
    };
    let key = PublicEncryptingKey::from_der(public_spki_der).map_err(|_| KmsError::InvalidPublicKey(spec))?;
    if key.key_size_bits() != bits {
        return Err(KmsError::InvalidPublicKey(spec));
    }
    let key = OaepPublicEncryptingKey::new(key).map_err(|_| KmsError::InvalidPublicKey(spec))?;
    let max = key.max_plaintext_size(&OAEP_SHA256_MGF1SHA256);
    if plaintext.len() > max {
        return Err(KmsError::PlaintextTooLong { spec, len: plaintext.len(), max });
    }
    let mut ciphertext = vec![0u8; key.ciphertext_size()];
    let len = key
        .encrypt(&OAEP_SHA256_MGF1SHA256, plaintext, &mut ciphertext, None)
        .map_err(|_| KmsError::Crypto("encrypt with RSA-OAEP"))?
        .len();
    ciphertext.truncate(len);
    Ok(ciphertext)
}

/// The SPKI DER as a PEM "PUBLIC KEY" block, the form openssl, cosign and browsers accept.
pub fn public_key_pem(public_spki_der: &[u8]) -> String {
    let encoded = BASE64.encode(public_spki_der);
    let mut pem = String::with_capacity(encoded.len() + encoded.len() / 64 + 60);
    pem.push_str("-----BEGIN PUBLIC KEY-----\n");
    // Base64 output is ASCII, so splitting its bytes never splits a character.
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

/// "sha256:<hex>" of the SPKI DER: equal exactly when two public keys are the same key, which is
/// how "signed by another key" is told apart from "the signature is wrong".
pub fn public_key_fingerprint(public_spki_der: &[u8]) -> String {
    let hash = digest::digest(&SHA256, public_spki_der);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in hash.as_ref() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

fn rsa_bits(spec: KeySpec) -> Option<usize> {
    match spec {
        KeySpec::Rsa2048 => Some(2048),
        KeySpec::Rsa3072 => Some(3072),
        KeySpec::EcP256 => None,
    }
}

fn check_fits(algorithm: SigningAlgorithm, spec: KeySpec) -> Result<(), KmsError> {
    if algorithm.fits(spec) {
        Ok(())
    } else {
        Err(KmsError::AlgorithmDoesNotFit { algorithm, spec })
    }
}

/// Only meaningful for the RSA algorithms; `check_fits` has already kept ECDSA away.
fn rsa_padding(algorithm: SigningAlgorithm) -> &'static signature::RsaSignatureEncoding {
    match algorithm {
        SigningAlgorithm::RsaPssSha256 => &signature::RSA_PSS_SHA256,
        SigningAlgorithm::RsaPkcs1Sha256 | SigningAlgorithm::EcdsaSha256 => &signature::RSA_PKCS1_SHA256,
    }
}

fn import_digest(digest: &[u8]) -> Result<Digest, KmsError> {
    Digest::import_less_safe(digest, &SHA256).map_err(|_| KmsError::DigestLength(digest.len()))
}

/// Parses the public key once, refusing a key of another type or size than `spec` says.
fn parse_public(spec: KeySpec, public_spki_der: &[u8], algorithm: SigningAlgorithm) -> Result<ParsedPublicKey, KmsError> {
    check_fits(algorithm, spec)?;
    let verification: &'static dyn VerificationAlgorithm = match algorithm {
        SigningAlgorithm::RsaPkcs1Sha256 => &RSA_PKCS1_2048_8192_SHA256,
        SigningAlgorithm::RsaPssSha256 => &RSA_PSS_2048_8192_SHA256,
        SigningAlgorithm::EcdsaSha256 => &ECDSA_P256_SHA256_ASN1,
    };
    let invalid = || KmsError::InvalidPublicKey(spec);
    if let Some(bits) = rsa_bits(spec) {
        let key = RsaPublicKey::from_der(public_spki_der).map_err(|_| invalid())?;
        if key.modulus_len() * 8 != bits {
            return Err(invalid());
        }
    }
    ParsedPublicKey::new(verification, public_spki_der).map_err(|_| invalid())
}

#[cfg(test)]
#[path = "kms_tests.rs"]
mod tests;
