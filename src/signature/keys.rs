//! The key management service: keys and their versions in the database, private keys sealed under
//! the master key (`kms.rs` does the cryptography), and the unlocked keys kept in memory.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::cache::SignatureCache;
use super::kms::{self, PrivateKey, SealedKey};
use super::model::*;
use crate::error::{on_unique, AppError};
use crate::locale::{request_locale, td_string};
use crate::server::audit::{self, Actor};
use crate::server::crypto::random_hex;
use crate::server::db::Db;
use crate::server::secrets::Secrets;

/// A key row as the operations need it.
#[derive(Debug, Clone)]
pub struct KeyRow {
    pub id: i64,
    pub key_id: String,
    pub spec: KeySpec,
    pub usage: KeyUsage,
    pub state: KeyState,
    pub primary_version: i64,
}

/// One version's public half.
#[derive(Debug, Clone)]
pub struct PublicVersion {
    pub row: i64,
    pub version: i64,
    pub spki_der: Vec<u8>,
}

fn key_row(r: (i64, String, String, String, String, i64)) -> Result<KeyRow, AppError> {
    let bad = |what: &str| {
        tracing::error!(key = %r.1, "kms_keys row has an unknown {what}");
        AppError::Internal
    };
    Ok(KeyRow {
        id: r.0,
        spec: KeySpec::parse(&r.2).ok_or_else(|| bad("spec"))?,
        usage: KeyUsage::parse(&r.3).ok_or_else(|| bad("usage"))?,
        state: KeyState::parse(&r.4).ok_or_else(|| bad("state"))?,
        key_id: r.1,
        primary_version: r.5,
    })
}

/// The account's key by its public id or its alias.
pub async fn find_key(db: &Db, account_id: i64, key: &str) -> Result<KeyRow, AppError> {
    let row = sqlx::query_as::<_, (i64, String, String, String, String, i64)>(
        "SELECT id, key_id, spec, usage, state, primary_version FROM kms_keys
         WHERE account_id = $1 AND (key_id = $2 OR alias = $2)",
    )
    .bind(account_id)
    .bind(key.trim())
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    key_row(row)
}

pub async fn create_key(db: &Db, secrets: &Secrets, account_id: i64, actor: &Actor, input: &KeyInput, now: i64) -> Result<KeyView, AppError> {
    let l = request_locale();
    AppError::check(input.validate(l))?;
    let spec = KeySpec::parse(&input.spec).ok_or(AppError::Internal)?;
    let usage = KeyUsage::parse(&input.usage).ok_or(AppError::Internal)?;
    let key_id = format!("key-{}", random_hex(16));
    let material = tokio::task::spawn_blocking(move || kms::generate(spec)).await.map_err(|_| AppError::Internal)?.map_err(|e| {
        tracing::error!(error = %e, "key generation failed");
        AppError::Internal
    })?;
    let alias = input.alias_value();
    let mut tx = db.begin_write().await?;
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO kms_keys (account_id, key_id, alias, description, spec, usage, state, primary_version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'enabled', 1, $7, $7) RETURNING id",
    )
    .bind(account_id)
    .bind(&key_id)
    .bind(&alias)
    .bind(input.description.trim())
    .bind(spec.as_str())
    .bind(usage.as_str())
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(on_unique("alias", td_string!(l, signature.errors.alias_taken)))?;
    insert_version(&mut tx, secrets, id, &key_id, 1, &material, now).await?;
    audit::record(&mut *tx, account_id, actor, "kms.key.create", &key_id, &format!("{} {}", spec.as_str(), usage.as_str())).await?;
    tx.commit().await?;
    list_keys(db, account_id).await?.into_iter().find(|k| k.key_id == key_id).ok_or(AppError::Internal)
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    secrets: &Secrets,
    key_row: i64,
    key_id: &str,
    version: i64,
    material: &kms::GeneratedKey,
    now: i64,
) -> Result<(), AppError> {
    let sealed = kms::seal(secrets.master_key(), key_id, version, &material.private_pkcs8).map_err(|e| {
        tracing::error!(error = %e, "sealing a new key failed");
        AppError::Internal
    })?;
    sqlx::query(
        "INSERT INTO kms_key_versions (key_row, version, public_key, fingerprint, wrapped_data_key, encrypted_private_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(key_row)
    .bind(version)
    .bind(BASE64.encode(&material.public_spki_der))
    .bind(kms::public_key_fingerprint(&material.public_spki_der))
    .bind(BASE64.encode(&sealed.wrapped_data_key))
    .bind(BASE64.encode(&sealed.encrypted_private_key))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn list_keys(db: &Db, account_id: i64) -> Result<Vec<KeyView>, AppError> {
    let keys = sqlx::query_as::<_, (i64, String, Option<String>, String, String, String, String, i64, Option<i64>, i64, i64)>(
        "SELECT id, key_id, alias, description, spec, usage, state, primary_version, deletion_at, created_at, updated_at
         FROM kms_keys WHERE account_id = $1 ORDER BY created_at DESC, id DESC",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    let versions = sqlx::query_as::<_, (i64, i64, String, i64)>(
        "SELECT v.key_row, v.version, v.fingerprint, v.created_at FROM kms_key_versions v
         JOIN kms_keys k ON k.id = v.key_row WHERE k.account_id = $1 ORDER BY v.version DESC",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    let witnesses = sqlx::query_as::<_, (i64, String)>("SELECT key_row, name FROM sig_witnesses WHERE account_id = $1 ORDER BY name")
        .bind(account_id)
        .fetch_all(&db.pool)
        .await?;
    keys.into_iter()
        .map(|k| {
            let row = key_row((k.0, k.1.clone(), k.4.clone(), k.5.clone(), k.6.clone(), k.7))?;
            Ok(KeyView {
                key_id: k.1,
                alias: k.2,
                description: k.3,
                spec: row.spec,
                usage: row.usage,
                state: row.state,
                primary_version: k.7,
                versions: versions
                    .iter()
                    .filter(|v| v.0 == k.0)
                    .map(|v| KeyVersionView { version: v.1, fingerprint: v.2.clone(), created_at: v.3 })
                    .collect(),
                deletion_at: k.8,
                created_at: k.9,
                updated_at: k.10,
                witnesses: witnesses.iter().filter(|w| w.0 == k.0).map(|w| w.1.clone()).collect(),
            })
        })
        .collect()
}

async fn version_rows(db: &Db, key_row: i64) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT id FROM kms_key_versions WHERE key_row = $1").bind(key_row).fetch_all(&db.pool).await?)
}

pub async fn set_key_enabled(db: &Db, cache: &SignatureCache, account_id: i64, actor: &Actor, key: &str, enabled: bool, now: i64) -> Result<(), AppError> {
    let row = find_key(db, account_id, key).await?;
    if row.state == KeyState::PendingDeletion {
        return Err(AppError::Conflict(td_string!(request_locale(), signature.errors.key_pending_deletion).into()));
    }
    let state = if enabled { KeyState::Enabled } else { KeyState::Disabled };
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE kms_keys SET state = $1, updated_at = $2 WHERE id = $3")
        .bind(state.as_str())
        .bind(now)
        .bind(row.id)
        .execute(&mut *tx)
        .await?;
    let action = if enabled { "kms.key.enable" } else { "kms.key.disable" };
    audit::record(&mut *tx, account_id, actor, action, &row.key_id, "").await?;
    tx.commit().await?;
    if !enabled {
        cache.forget(&version_rows(db, row.id).await?);
    }
    Ok(())
}

/// Schedules deletion after `days` (7–366); refused while a witness signs with the key.
pub async fn schedule_key_deletion(
    db: &Db,
    cache: &SignatureCache,
    account_id: i64,
    actor: &Actor,
    key: &str,
    days: i64,
    now: i64,
) -> Result<i64, AppError> {
    if !DELETION_WINDOW_DAYS.contains(&days) {
        let (min, max) = (*DELETION_WINDOW_DAYS.start(), *DELETION_WINDOW_DAYS.end());
        return Err(AppError::field("days", td_string!(request_locale(), signature.errors.deletion_window, min, max)));
    }
    let row = find_key(db, account_id, key).await?;
    if row.state == KeyState::PendingDeletion {
        return Err(AppError::Conflict(td_string!(request_locale(), signature.errors.key_already_pending).into()));
    }
    let witness = sqlx::query_scalar::<_, String>("SELECT name FROM sig_witnesses WHERE key_row = $1 ORDER BY name")
        .bind(row.id)
        .fetch_optional(&db.pool)
        .await?;
    if let Some(witness) = witness {
        return Err(AppError::Conflict(td_string!(request_locale(), signature.errors.key_used_by_witness, witness)));
    }
    let deletion_at = now + days * 86_400;
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE kms_keys SET state = 'pending_deletion', deletion_at = $1, updated_at = $2 WHERE id = $3")
        .bind(deletion_at)
        .bind(now)
        .bind(row.id)
        .execute(&mut *tx)
        .await?;
    audit::record(&mut *tx, account_id, actor, "kms.key.schedule_deletion", &row.key_id, &format!("{days} days")).await?;
    tx.commit().await?;
    cache.forget(&version_rows(db, row.id).await?);
    Ok(deletion_at)
}

/// Cancels a scheduled deletion; the key comes back disabled, to be enabled on purpose.
pub async fn cancel_key_deletion(db: &Db, account_id: i64, actor: &Actor, key: &str, now: i64) -> Result<(), AppError> {
    let row = find_key(db, account_id, key).await?;
    if row.state != KeyState::PendingDeletion {
        return Err(AppError::Conflict(td_string!(request_locale(), signature.errors.key_not_pending).into()));
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE kms_keys SET state = 'disabled', deletion_at = NULL, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(row.id)
        .execute(&mut *tx)
        .await?;
    audit::record(&mut *tx, account_id, actor, "kms.key.cancel_deletion", &row.key_id, "").await?;
    tx.commit().await?;
    Ok(())
}

/// A new version that signs from now on; the older ones still verify.
pub async fn rotate_key(db: &Db, secrets: &Secrets, account_id: i64, actor: &Actor, key: &str, now: i64) -> Result<i64, AppError> {
    let row = find_key(db, account_id, key).await?;
    if row.state != KeyState::Enabled {
        let l = request_locale();
        return Err(AppError::Conflict(td_string!(l, signature.errors.rotate_not_enabled, state = row.state.state_word(l))));
    }
    let spec = row.spec;
    let material = tokio::task::spawn_blocking(move || kms::generate(spec)).await.map_err(|_| AppError::Internal)?.map_err(|e| {
        tracing::error!(error = %e, "key generation failed");
        AppError::Internal
    })?;
    let mut tx = db.begin_write().await?;
    // Compare-and-set on the primary version: two rotations at once cannot both win.
    let version = row.primary_version + 1;
    let moved = sqlx::query("UPDATE kms_keys SET primary_version = $1, updated_at = $2 WHERE id = $3 AND primary_version = $4")
        .bind(version)
        .bind(now)
        .bind(row.id)
        .bind(row.primary_version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if moved != 1 {
        return Err(AppError::Conflict(td_string!(request_locale(), signature.errors.rotate_race).into()));
    }
    insert_version(&mut tx, secrets, row.id, &row.key_id, version, &material, now).await?;
    audit::record(&mut *tx, account_id, actor, "kms.key.rotate", &row.key_id, &format!("version {version}")).await?;
    tx.commit().await?;
    Ok(version)
}

/// Deletes keys whose pending window has passed; their versions and signatures go with them.
pub async fn delete_due_keys(db: &Db, cache: &SignatureCache, now: i64) -> Result<u64, AppError> {
    let due = sqlx::query_as::<_, (i64, i64, String)>(
        "SELECT id, account_id, key_id FROM kms_keys WHERE state = 'pending_deletion' AND deletion_at <= $1",
    )
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    let mut deleted = 0;
    for (id, account_id, key_id) in due {
        let rows = version_rows(db, id).await?;
        let mut tx = db.begin_write().await?;
        let gone = sqlx::query("DELETE FROM kms_keys WHERE id = $1 AND state = 'pending_deletion' AND deletion_at <= $2")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 1 {
            audit::record(&mut *tx, account_id, &Actor::System, "kms.key.delete", &key_id, "pending window over").await?;
        }
        tx.commit().await?;
        cache.forget(&rows);
        deleted += gone;
    }
    Ok(deleted)
}

/// The public half of a version (the primary one when `version` is `None`).
pub async fn public_version(db: &Db, key: &KeyRow, version: Option<i64>) -> Result<PublicVersion, AppError> {
    let version = version.unwrap_or(key.primary_version);
    let (row, spki) = sqlx::query_as::<_, (i64, String)>("SELECT id, public_key FROM kms_key_versions WHERE key_row = $1 AND version = $2")
        .bind(key.id)
        .bind(version)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| AppError::field("key_version", format!("The key has no version {version}.")))?;
    let spki_der = BASE64.decode(spki).map_err(|_| AppError::Internal)?;
    Ok(PublicVersion { row, version, spki_der })
}

pub async fn public_key_pem(db: &Db, account_id: i64, key: &str, version: Option<i64>) -> Result<(KeyRow, i64, String), AppError> {
    let row = find_key(db, account_id, key).await?;
    let public = public_version(db, &row, version).await?;
    Ok((row, public.version, kms::public_key_pem(&public.spki_der)))
}

/// The primary version's private key, for a key that may sign now.
pub async fn signing_key(db: &Db, secrets: &Secrets, cache: &SignatureCache, key: &KeyRow) -> Result<(i64, i64, Arc<PrivateKey>), AppError> {
    if key.usage != KeyUsage::SignVerify {
        return Err(AppError::Conflict(td_string!(request_locale(), signature.errors.key_cannot_sign_usage).into()));
    }
    if key.state != KeyState::Enabled {
        let l = request_locale();
        return Err(AppError::Conflict(td_string!(l, signature.errors.key_cannot_sign_state, state = key.state.state_word(l))));
    }
    let (row, private) = unlock(db, secrets, cache, key, key.primary_version).await?;
    Ok((row, key.primary_version, private))
}

/// One version's private key, from the cache or unsealed under the master key.
async fn unlock(db: &Db, secrets: &Secrets, cache: &SignatureCache, key: &KeyRow, version: i64) -> Result<(i64, Arc<PrivateKey>), AppError> {
    let (row, wrapped, encrypted) = sqlx::query_as::<_, (i64, String, String)>(
        "SELECT id, wrapped_data_key, encrypted_private_key FROM kms_key_versions WHERE key_row = $1 AND version = $2",
    )
    .bind(key.id)
    .bind(version)
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| AppError::field("key_version", format!("The key has no version {version}.")))?;
    if let Some(unlocked) = cache.unlocked(row) {
        return Ok((row, unlocked));
    }
    let sealed = SealedKey {
        wrapped_data_key: BASE64.decode(wrapped).map_err(|_| AppError::Internal)?,
        encrypted_private_key: BASE64.decode(encrypted).map_err(|_| AppError::Internal)?,
    };
    let private = kms::open(secrets.master_key(), &key.key_id, version, &sealed)
        .and_then(|der| PrivateKey::from_pkcs8(key.spec, &der))
        .map_err(|e| {
            tracing::error!(key = %key.key_id, error = %e, "a key does not open under the master key");
            AppError::Internal
        })?;
    let private = Arc::new(private);
    cache.keep(row, private.clone());
    Ok((row, private))
}

/// An ENCRYPT/DECRYPT key that is enabled, or why it cannot be used.
async fn crypt_key(db: &Db, account_id: i64, key: &str) -> Result<KeyRow, AppError> {
    let key = find_key(db, account_id, key).await?;
    if key.usage != KeyUsage::EncryptDecrypt {
        return Err(AppError::Conflict("This key is for SIGN/VERIFY and cannot encrypt or decrypt.".into()));
    }
    if key.state != KeyState::Enabled {
        return Err(AppError::Conflict(format!("This key is {} and cannot be used.", key.state.label().to_lowercase())));
    }
    Ok(key)
}

/// RSAES-OAEP-SHA-256 with the primary version: (key, version, ciphertext).
pub async fn encrypt(db: &Db, account_id: i64, key: &str, plaintext_b64: &str) -> Result<(KeyRow, i64, Vec<u8>), AppError> {
    let key = crypt_key(db, account_id, key).await?;
    let plaintext = BASE64.decode(plaintext_b64.trim()).map_err(|_| AppError::field("plaintext", "The plaintext must be base64."))?;
    let public = public_version(db, &key, None).await?;
    let ciphertext = kms::encrypt(key.spec, &public.spki_der, &plaintext).map_err(|e| AppError::field("plaintext", e.to_string()))?;
    Ok((key, public.version, ciphertext))
}

/// Decrypts what `encrypt` made with `version` (the primary one by default).
pub async fn decrypt(
    db: &Db,
    secrets: &Secrets,
    cache: &SignatureCache,
    account_id: i64,
    key: &str,
    version: Option<i64>,
    ciphertext_b64: &str,
) -> Result<(KeyRow, i64, Vec<u8>), AppError> {
    let key = crypt_key(db, account_id, key).await?;
    let ciphertext = BASE64.decode(ciphertext_b64.trim()).map_err(|_| AppError::field("ciphertext", "The ciphertext must be base64."))?;
    let version = version.unwrap_or(key.primary_version);
    let (_, private) = unlock(db, secrets, cache, &key, version).await?;
    let plaintext = private.decrypt(&ciphertext).map_err(|e| AppError::field("ciphertext", e.to_string()))?;
    Ok((key, version, plaintext))
}

/// Checks a signature over a SHA-256 digest with one version (the primary one by default).
pub async fn verify_digest(
    db: &Db,
    account_id: i64,
    key: &str,
    version: Option<i64>,
    algorithm: &str,
    digest_b64: &str,
    signature_b64: &str,
) -> Result<(KeyRow, i64, bool), AppError> {
    let key = find_key(db, account_id, key).await?;
    if key.usage != KeyUsage::SignVerify {
        return Err(AppError::Conflict("This key is for ENCRYPT/DECRYPT and cannot verify signatures.".into()));
    }
    let algorithm = algorithm_for(&key, algorithm)?;
    let digest = decode_digest(digest_b64)?;
    let signature = BASE64.decode(signature_b64.trim()).map_err(|_| AppError::field("signature", "The signature must be base64."))?;
    let public = public_version(db, &key, version).await?;
    let valid = kms::verify_digest(key.spec, &public.spki_der, algorithm, &digest, &signature).map_err(|e| AppError::field("signature", e.to_string()))?;
    Ok((key, public.version, valid))
}

pub(super) fn algorithm_for(key: &KeyRow, algorithm: &str) -> Result<SigningAlgorithm, AppError> {
    let algorithm = SigningAlgorithm::parse(algorithm.trim())
        .ok_or_else(|| AppError::field("algorithm", "Use RSA_PKCS1_SHA_256, RSA_PSS_SHA_256 or ECDSA_SHA_256."))?;
    if !algorithm.fits(key.spec) {
        return Err(AppError::field("algorithm", format!("{} cannot be used with an {} key.", algorithm.as_str(), key.spec.as_str())));
    }
    Ok(algorithm)
}

pub(super) fn decode_digest(digest_b64: &str) -> Result<Vec<u8>, AppError> {
    let digest = BASE64.decode(digest_b64.trim()).map_err(|_| AppError::field("digest", "The digest must be base64."))?;
    if digest.len() != 32 {
        return Err(AppError::field("digest", format!("A SHA-256 digest is 32 bytes; this one is {}.", digest.len())));
    }
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_recorded_once_a_minute_per_cluster_namespace_and_image() {
        let cache = SignatureCache::default();
        assert!(cache.should_record(1, "shop", "r/web@sha256:a", 1_000));
        assert!(!cache.should_record(1, "shop", "r/web@sha256:a", 1_059));
        assert!(cache.should_record(1, "dev", "r/web@sha256:a", 1_059));
        assert!(cache.should_record(2, "shop", "r/web@sha256:a", 1_059));
        assert!(cache.should_record(1, "shop", "r/web@sha256:a", 1_060));
    }
}
