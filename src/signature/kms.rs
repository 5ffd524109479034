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
mod tests {
    use std::path::Path;
    use std::process::{Command, Output};
    use std::sync::OnceLock;

    use super::*;

    const MASTER: [u8; 32] = [7; 32];
    const MESSAGE: &[u8] = b"sha256:4f3c2b1a image manifest";

    /// One key per spec for the whole module: RSA generation is the slow part of these tests.
    fn key(spec: KeySpec) -> &'static GeneratedKey {
        static RSA_2048: OnceLock<GeneratedKey> = OnceLock::new();
        static RSA_3072: OnceLock<GeneratedKey> = OnceLock::new();
        static EC_P256: OnceLock<GeneratedKey> = OnceLock::new();
        let cell = match spec {
            KeySpec::Rsa2048 => &RSA_2048,
            KeySpec::Rsa3072 => &RSA_3072,
            KeySpec::EcP256 => &EC_P256,
        };
        cell.get_or_init(|| generate(spec).unwrap())
    }

    fn private(spec: KeySpec) -> PrivateKey {
        PrivateKey::from_pkcs8(spec, &key(spec).private_pkcs8).unwrap()
    }

    fn sha256(data: &[u8]) -> Vec<u8> {
        digest::digest(&SHA256, data).as_ref().to_vec()
    }

    fn algorithms(spec: KeySpec) -> Vec<SigningAlgorithm> {
        SigningAlgorithm::ALL.into_iter().filter(|a| a.fits(spec)).collect()
    }

    fn private_pem(pkcs8: &[u8]) -> String {
        public_key_pem(pkcs8).replace("PUBLIC KEY", "PRIVATE KEY")
    }

    fn openssl(dir: &Path, args: &[&str]) -> Output {
        Command::new("/usr/bin/openssl").current_dir(dir).args(args).output().expect("/usr/bin/openssl runs")
    }

    fn pss_options(algorithm: SigningAlgorithm) -> Vec<&'static str> {
        match algorithm {
            SigningAlgorithm::RsaPssSha256 => vec!["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"],
            _ => vec![],
        }
    }

    /// A key survives sealing and signs with every algorithm it fits; digest and message forms agree.
    #[test]
    fn round_trip_for_every_spec_and_algorithm() {
        for spec in KeySpec::ALL {
            let generated = key(spec);
            let sealed = seal(&MASTER, "key-0a1b", 3, &generated.private_pkcs8).unwrap();
            let opened = open(&MASTER, "key-0a1b", 3, &sealed).unwrap();
            // Verify the private key comes back byte for byte.
            assert_eq!(*opened, *generated.private_pkcs8, "{spec:?}");
            let private = PrivateKey::from_pkcs8(spec, &opened).unwrap();
            let public = &generated.public_spki_der;
            for algorithm in algorithms(spec) {
                let from_message = private.sign_message(algorithm, MESSAGE).unwrap();
                let from_digest = private.sign_digest(algorithm, &sha256(MESSAGE)).unwrap();
                for signature in [&from_message, &from_digest] {
                    // Verify both signature forms check out against the message and its digest.
                    assert!(verify_message(spec, public, algorithm, MESSAGE, signature).unwrap(), "{spec:?} {algorithm:?}");
                    assert!(verify_digest(spec, public, algorithm, &sha256(MESSAGE), signature).unwrap(), "{spec:?} {algorithm:?}");
                    assert!(!verify_message(spec, public, algorithm, b"another image", signature).unwrap());
                    assert!(!verify_digest(spec, public, algorithm, &sha256(b"another image"), signature).unwrap());
                }
                if algorithm == SigningAlgorithm::RsaPkcs1Sha256 {
                    // PKCS#1 v1.5 is deterministic, so both paths must give the very same bytes.
                    assert_eq!(from_message, from_digest);
                }
            }
        }
    }

    #[test]
    fn generated_keys_have_the_size_and_type_of_their_spec() {
        for (spec, bits) in [(KeySpec::Rsa2048, 2048), (KeySpec::Rsa3072, 3072)] {
            let public = RsaPublicKey::from_der(&key(spec).public_spki_der).unwrap();
            assert_eq!(public.modulus_len() * 8, bits);
            assert_eq!(private(spec).sign_message(SigningAlgorithm::RsaPkcs1Sha256, MESSAGE).unwrap().len() * 8, bits);
        }
        assert!(ParsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &key(KeySpec::EcP256).public_spki_der).is_ok());
        // A key of another size or type is refused rather than used under the wrong name.
        let rsa_2048 = &key(KeySpec::Rsa2048).private_pkcs8;
        assert_eq!(PrivateKey::from_pkcs8(KeySpec::Rsa3072, rsa_2048).unwrap_err(), KmsError::InvalidPrivateKey(KeySpec::Rsa3072));
        assert!(PrivateKey::from_pkcs8(KeySpec::EcP256, rsa_2048).is_err());
        assert!(PrivateKey::from_pkcs8(KeySpec::Rsa2048, &key(KeySpec::EcP256).private_pkcs8).is_err());
        assert!(PrivateKey::from_pkcs8(KeySpec::Rsa2048, b"not a key").is_err());
        let rsa_public = &key(KeySpec::Rsa2048).public_spki_der;
        let wrong_size = verify_message(KeySpec::Rsa3072, rsa_public, SigningAlgorithm::RsaPkcs1Sha256, MESSAGE, b"");
        assert_eq!(wrong_size.unwrap_err(), KmsError::InvalidPublicKey(KeySpec::Rsa3072));
        assert!(verify_message(KeySpec::EcP256, rsa_public, SigningAlgorithm::EcdsaSha256, MESSAGE, b"").is_err());
        assert!(verify_message(KeySpec::Rsa2048, b"garbage", SigningAlgorithm::RsaPssSha256, MESSAGE, b"").is_err());
        assert!(encrypt(KeySpec::Rsa2048, b"garbage", b"hi").is_err());
    }

    /// openssl accepts every signature kind, from both the message and the digest path.
    #[test]
    fn openssl_verifies_our_signatures() {
        let cases = [
            (KeySpec::Rsa2048, SigningAlgorithm::RsaPkcs1Sha256),
            (KeySpec::Rsa3072, SigningAlgorithm::RsaPkcs1Sha256),
            (KeySpec::Rsa2048, SigningAlgorithm::RsaPssSha256),
            (KeySpec::Rsa3072, SigningAlgorithm::RsaPssSha256),
            (KeySpec::EcP256, SigningAlgorithm::EcdsaSha256),
        ];
        for (spec, algorithm) in cases {
            let dir = tempfile::tempdir().unwrap();
            let private = private(spec);
            std::fs::write(dir.path().join("pub.pem"), public_key_pem(&key(spec).public_spki_der)).unwrap();
            std::fs::write(dir.path().join("msg"), MESSAGE).unwrap();
            std::fs::write(dir.path().join("tampered"), b"sha256:4f3c2b1b image manifest").unwrap();
            std::fs::write(dir.path().join("sig.bin"), private.sign_message(algorithm, MESSAGE).unwrap()).unwrap();
            std::fs::write(dir.path().join("digest-sig.bin"), private.sign_digest(algorithm, &sha256(MESSAGE)).unwrap()).unwrap();
            for (signature, message, valid) in [("sig.bin", "msg", true), ("digest-sig.bin", "msg", true), ("sig.bin", "tampered", false)] {
                let mut args = vec!["dgst", "-sha256", "-verify", "pub.pem", "-signature", signature];
                args.extend(pss_options(algorithm));
                args.push(message);
                let out = openssl(dir.path(), &args);
                // Verify openssl's verdict, and show its words when it disagrees.
                assert_eq!(
                    out.status.success(),
                    valid,
                    "{spec:?} {algorithm:?} {signature} over {message}: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }

    /// Our verifier accepts what openssl signs with the same key.
    #[test]
    fn openssl_signatures_verify_here() {
        for (spec, algorithm) in [
            (KeySpec::Rsa2048, SigningAlgorithm::RsaPkcs1Sha256),
            (KeySpec::Rsa2048, SigningAlgorithm::RsaPssSha256),
            (KeySpec::EcP256, SigningAlgorithm::EcdsaSha256),
        ] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("key.pem"), private_pem(&key(spec).private_pkcs8)).unwrap();
            std::fs::write(dir.path().join("msg"), MESSAGE).unwrap();
            let mut args = vec!["dgst", "-sha256", "-sign", "key.pem", "-out", "sig.bin"];
            args.extend(pss_options(algorithm));
            args.push("msg");
            let out = openssl(dir.path(), &args);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let signature = std::fs::read(dir.path().join("sig.bin")).unwrap();
            assert!(verify_message(spec, &key(spec).public_spki_der, algorithm, MESSAGE, &signature).unwrap(), "{spec:?}");
        }
    }

    /// RSAES-OAEP-SHA-256 both ways between openssl and us.
    #[test]
    fn oaep_interoperates_with_openssl() {
        const OAEP: [&str; 6] = ["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256"];
        let spec = KeySpec::Rsa2048;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pub.pem"), public_key_pem(&key(spec).public_spki_der)).unwrap();
        std::fs::write(dir.path().join("key.pem"), private_pem(&key(spec).private_pkcs8)).unwrap();
        std::fs::write(dir.path().join("plain"), b"database password").unwrap();
        let mut args = vec!["pkeyutl", "-encrypt", "-pubin", "-inkey", "pub.pem", "-in", "plain", "-out", "ct"];
        args.extend(OAEP);
        let out = openssl(dir.path(), &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let ciphertext = std::fs::read(dir.path().join("ct")).unwrap();
        // Verify we decrypt what openssl encrypted.
        assert_eq!(private(spec).decrypt(&ciphertext).unwrap(), b"database password");

        std::fs::write(dir.path().join("ours"), encrypt(spec, &key(spec).public_spki_der, b"api token").unwrap()).unwrap();
        let mut args = vec!["pkeyutl", "-decrypt", "-inkey", "key.pem", "-in", "ours", "-out", "back"];
        args.extend(OAEP);
        let out = openssl(dir.path(), &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // Verify openssl decrypts what we encrypted.
        assert_eq!(std::fs::read(dir.path().join("back")).unwrap(), b"api token");
    }

    #[test]
    fn encrypt_and_decrypt_round_trip_and_refuse_what_they_cannot_do() {
        for (spec, max) in [(KeySpec::Rsa2048, 190), (KeySpec::Rsa3072, 318)] {
            let public = &key(spec).public_spki_der;
            let private = private(spec);
            let longest = vec![0x5a; max];
            // OAEP is randomised: the same plaintext never gives the same ciphertext twice.
            let first = encrypt(spec, public, &longest).unwrap();
            assert_ne!(first, encrypt(spec, public, &longest).unwrap());
            assert_eq!(private.decrypt(&first).unwrap(), longest);
            assert_eq!(private.decrypt(&encrypt(spec, public, b"").unwrap()).unwrap(), b"");
            let too_long = encrypt(spec, public, &[0; 400][..max + 1]).unwrap_err();
            assert_eq!(too_long, KmsError::PlaintextTooLong { spec, len: max + 1, max });
            assert_eq!(
                too_long.to_string(),
                format!(
                    "the plaintext is {} bytes, but an {} key encrypts at most {max} bytes with RSAES-OAEP-SHA-256",
                    max + 1,
                    spec.as_str()
                )
            );
            let mut flipped = first.clone();
            flipped[10] ^= 1;
            assert_eq!(private.decrypt(&flipped).unwrap_err(), KmsError::DoesNotDecrypt);
            assert_eq!(private.decrypt(b"short").unwrap_err(), KmsError::DoesNotDecrypt);
        }
        let ec_refused = KmsError::UsageDoesNotFit { spec: KeySpec::EcP256, usage: KeyUsage::EncryptDecrypt };
        assert_eq!(encrypt(KeySpec::EcP256, &key(KeySpec::EcP256).public_spki_der, b"hi").unwrap_err(), ec_refused);
        assert_eq!(private(KeySpec::EcP256).decrypt(b"anything").unwrap_err(), ec_refused);
    }

    /// A sealed key opens only with its own master key, key id and version, and untouched.
    #[test]
    fn open_refuses_another_key_version_master_key_or_a_changed_byte() {
        let pkcs8 = &key(KeySpec::EcP256).private_pkcs8;
        let sealed = seal(&MASTER, "key-0a1b", 2, pkcs8).unwrap();
        assert_eq!(sealed.wrapped_data_key.len(), 12 + 32 + 16);
        assert_eq!(sealed.encrypted_private_key.len(), 12 + pkcs8.len() + 16);
        assert!(open(&MASTER, "key-0a1b", 2, &sealed).is_ok());
        let refused = [
            open(&MASTER, "key-0a1c", 2, &sealed),
            open(&MASTER, "key-0a1b", 1, &sealed),
            open(&[8; 32], "key-0a1b", 2, &sealed),
            // A colon in the id cannot make the bound text name another (id, version) pair.
            open(&MASTER, "key-0a1b:2", 2, &sealed),
        ];
        for result in refused {
            assert_eq!(result.unwrap_err(), KmsError::DoesNotOpen);
        }
        for field in 0..2 {
            for index in [0, 12, 30, 59] {
                let mut changed = sealed.clone();
                let bytes = if field == 0 { &mut changed.wrapped_data_key } else { &mut changed.encrypted_private_key };
                bytes[index] ^= 0x01;
                assert_eq!(open(&MASTER, "key-0a1b", 2, &changed).unwrap_err(), KmsError::DoesNotOpen, "{field} {index}");
            }
        }
        // Halves of two sealings of the same key do not combine: each has its own data key.
        let other = seal(&MASTER, "key-0a1b", 2, pkcs8).unwrap();
        assert_ne!(other, sealed);
        let mixed = SealedKey { wrapped_data_key: other.wrapped_data_key, encrypted_private_key: sealed.encrypted_private_key.clone() };
        assert_eq!(open(&MASTER, "key-0a1b", 2, &mixed).unwrap_err(), KmsError::DoesNotOpen);
        let truncated = SealedKey { wrapped_data_key: vec![1; 20], encrypted_private_key: vec![] };
        assert_eq!(open(&MASTER, "key-0a1b", 2, &truncated).unwrap_err(), KmsError::DoesNotOpen);
        assert_eq!(
            KmsError::DoesNotOpen.to_string(),
            "the key material does not open: wrong master key, or it belongs to another key or version"
        );
    }

    #[test]
    fn misuse_is_an_error_that_says_what_is_wrong() {
        let ec = private(KeySpec::EcP256);
        let rsa = private(KeySpec::Rsa2048);
        let pss_on_ec = ec.sign_message(SigningAlgorithm::RsaPssSha256, MESSAGE).unwrap_err();
        assert_eq!(pss_on_ec.to_string(), "RSA_PSS_SHA_256 cannot be used with an EC_P256 key");
        let ecdsa_on_rsa = rsa.sign_digest(SigningAlgorithm::EcdsaSha256, &sha256(MESSAGE)).unwrap_err();
        assert_eq!(ecdsa_on_rsa.to_string(), "ECDSA_SHA_256 cannot be used with an RSA_2048 key");
        let ec_public = &key(KeySpec::EcP256).public_spki_der;
        let verify_pss_on_ec = verify_message(KeySpec::EcP256, ec_public, SigningAlgorithm::RsaPssSha256, MESSAGE, b"");
        assert_eq!(verify_pss_on_ec.unwrap_err(), pss_on_ec);
        let short = rsa.sign_digest(SigningAlgorithm::RsaPkcs1Sha256, &[0; 20]).unwrap_err();
        assert_eq!(short.to_string(), "a SHA-256 digest is 32 bytes, got 20");
        assert_eq!(ec.sign_digest(SigningAlgorithm::EcdsaSha256, &[0; 33]).unwrap_err(), KmsError::DigestLength(33));
        let rsa_public = &key(KeySpec::Rsa2048).public_spki_der;
        let verify_short = verify_digest(KeySpec::Rsa2048, rsa_public, SigningAlgorithm::RsaPssSha256, MESSAGE, b"");
        assert_eq!(verify_short.unwrap_err(), KmsError::DigestLength(MESSAGE.len()));
        // A malformed signature is a wrong signature, not a misuse.
        assert!(!verify_digest(KeySpec::Rsa2048, rsa_public, SigningAlgorithm::RsaPssSha256, &sha256(MESSAGE), b"").unwrap());
        assert!(!verify_message(KeySpec::EcP256, ec_public, SigningAlgorithm::EcdsaSha256, MESSAGE, &[0x30; 72]).unwrap());
        // Verify a valid signature by another key of the same spec is simply false.
        let other = generate(KeySpec::EcP256).unwrap();
        let signature = ec.sign_message(SigningAlgorithm::EcdsaSha256, MESSAGE).unwrap();
        assert!(!verify_message(KeySpec::EcP256, &other.public_spki_der, SigningAlgorithm::EcdsaSha256, MESSAGE, &signature).unwrap());
    }

    #[test]
    fn usage_check_refuses_only_ec_encryption_and_says_why() {
        for spec in KeySpec::ALL {
            assert!(check_usage(spec, KeyUsage::SignVerify).is_ok());
        }
        assert!(check_usage(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt).is_ok());
        assert!(check_usage(KeySpec::Rsa3072, KeyUsage::EncryptDecrypt).is_ok());
        let message = check_usage(KeySpec::EcP256, KeyUsage::EncryptDecrypt).unwrap_err().to_string();
        assert!(message.starts_with("EC_P256 keys cannot be used for ENCRYPT/DECRYPT: "), "{message}");
        assert!(message.contains("no standard encryption scheme"), "{message}");
    }

    #[test]
    fn pem_wraps_at_64_columns_and_round_trips() {
        let der = &key(KeySpec::Rsa2048).public_spki_der;
        let pem = public_key_pem(der);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN PUBLIC KEY-----"));
        assert_eq!(lines.last(), Some(&"-----END PUBLIC KEY-----"));
        assert!(pem.ends_with("-----\n"));
        let body = &lines[1..lines.len() - 1];
        assert!(body[..body.len() - 1].iter().all(|line| line.len() == 64));
        assert!(body.iter().all(|line| !line.is_empty() && line.len() <= 64));
        assert_eq!(BASE64.decode(body.concat()).unwrap(), *der);
        // An exact multiple of 64 characters gets no empty line before the footer.
        assert_eq!(public_key_pem(&[0; 48]), format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", "A".repeat(64)));
    }

    #[test]
    fn fingerprint_is_sha256_hex_of_the_der() {
        assert_eq!(public_key_fingerprint(b""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_ne!(
            public_key_fingerprint(&key(KeySpec::Rsa2048).public_spki_der),
            public_key_fingerprint(&key(KeySpec::Rsa3072).public_spki_der)
        );
    }

    #[test]
    fn debug_output_carries_no_key_material() {
        let generated = key(KeySpec::EcP256);
        let printed = format!("{generated:?} {:?}", private(KeySpec::EcP256));
        assert!(printed.contains(&public_key_fingerprint(&generated.public_spki_der)));
        assert!(printed.contains("EcP256"));
        // The PKCS#8 would show as a list of numbers or as base64 or hex; none of it appears.
        assert!(!printed.contains(&format!("{:?}", &generated.private_pkcs8[..8])), "{printed}");
        assert!(!printed.contains(&BASE64.encode(&generated.private_pkcs8[..12])), "{printed}");
        assert!(printed.len() < 200, "{printed}");
    }

    #[test]
    fn keys_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<PrivateKey>();
        shareable::<GeneratedKey>();
    }
}
