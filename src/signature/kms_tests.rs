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
