//! Images and their signatures: signing by digest with a witness (cosign's simple-signing payload,
//! RSASSA-PKCS1-v1_5 SHA-256), publishing to the image's registry, and deciding which images a
//! policy trusts, for the admission webhook and the Images tab alike.

use std::collections::{BTreeMap, HashMap, HashSet};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::cosign;
use super::image_ref::ImageRef;
use super::cache::SignatureCache;
use super::keys;
use super::kms;
use super::model::*;
use super::repo::{json_list, upsert_image};
use super::registry::{RegistryAuth, RegistryClient, Target};
use crate::error::AppError;
use crate::locale::{request_locale, td_string};
use crate::server::audit::{self, Actor};
use crate::server::db::{page_window, placeholders, Db, PageWindow};
use crate::server::AppState;

/// Parses what a user typed as an image to sign: it must be pinned by digest.
pub fn pinned_image(text: &str) -> Result<ImageRef, AppError> {
    let image = ImageRef::parse(text.trim()).map_err(|e| AppError::field("image", e.to_string()))?;
    if !image.is_pinned() {
        return Err(AppError::field("image", td_string!(request_locale(), signature.errors.sign_by_digest)));
    }
    Ok(image)
}

/// The workload an admission request was about.
pub struct Workload<'a> {
    pub cluster_id: i64,
    pub namespace: &'a str,
    /// "Pod", "Deployment", …
    pub kind: &'a str,
    /// The object's name ("web-*" for a `generateName`).
    pub name: &'a str,
}

/// What ran where: the images of an admission request due in the inventory of its cluster,
/// namespace and workload (at most once a minute per image, workload and outcome on each replica;
/// a changed outcome at once). They are written with the decision, off the request path.
pub fn inventory_due(cache: &SignatureCache, workload: &Workload<'_>, images: Vec<(ImageRef, Outcome)>, now: i64) -> Vec<(ImageRef, Outcome)> {
    images
        .into_iter()
        .filter(|(image, outcome)| {
            let key = format!("{image}|{}|{}|{}", workload.kind, workload.name, outcome.as_str());
            cache.should_record(workload.cluster_id, workload.namespace, &key, now)
        })
        .collect()
}

/// The witness a signature is made with: its name, and its key (which must still be fit to sign).
async fn witness_key(db: &Db, account_id: i64, witness: &str) -> Result<(String, keys::KeyRow), AppError> {
    let found = sqlx::query_as::<_, (String, String)>(
        "SELECT w.name, k.key_id FROM sig_witnesses w JOIN kms_keys k ON k.id = w.key_row WHERE w.account_id = $1 AND w.name = $2",
    )
    .bind(account_id)
    .bind(witness.trim())
    .fetch_optional(&db.pool)
    .await?;
    let l = request_locale();
    let Some((name, key_id)) = found else {
        return Err(AppError::field("witness", td_string!(l, signature.errors.no_witness_named, name = witness.trim())));
    };
    let key = keys::find_key(db, account_id, &key_id).await?;
    if let Some(problem) = witness_key_problem(key.spec, key.usage, key.state, l) {
        return Err(AppError::field("witness", td_string!(l, signature.errors.witness_cannot_sign, name, problem)));
    }
    Ok((name, key))
}

/// Signs `input.image` with the witness's key and stores the signature; publishes it to the
/// image's registry when asked. A failed publication keeps the signature and says why.
pub async fn sign_image(state: &AppState, account_id: i64, actor: &Actor, input: &SignInput, now: i64) -> Result<SignOutcome, AppError> {
    let (db, secrets) = (&state.db, &state.secrets);
    let image = pinned_image(&input.image)?;
    if input.witness.trim().is_empty() {
        return Err(AppError::field("witness", td_string!(request_locale(), signature.images.witness_required)));
    }
    let (witness, key) = witness_key(db, account_id, &input.witness).await?;
    let (version_row, version, private) = keys::signing_key(db, secrets, &state.signature_cache, &key).await?;
    let digest = image.digest.clone().unwrap_or_default();
    let optional = BTreeMap::from([("creator".to_string(), "Bulwark".to_string()), ("witness".to_string(), witness.clone())]);
    let payload = cosign::simple_signing_payload(&image.docker_reference(), &digest, &optional);
    let signature = private.sign_message(SigningAlgorithm::RsaPkcs1Sha256, &payload).map_err(|e| {
        tracing::error!(error = %e, "signing failed");
        AppError::Internal
    })?;
    let (payload_b64, signature_b64) = (BASE64.encode(&payload), BASE64.encode(&signature));

    let mut tx = db.begin_write().await?;
    let image_id = upsert_image(&mut tx, account_id, &image, now).await?;
    let signature_id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO sig_signatures (account_id, image_id, key_version_id, witness_name, payload, signature, signed_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (image_id, key_version_id) DO UPDATE SET witness_name = excluded.witness_name, payload = excluded.payload,
            signature = excluded.signature, signed_by = excluded.signed_by, created_at = excluded.created_at
         RETURNING id",
    )
    .bind(account_id)
    .bind(image_id)
    .bind(version_row)
    .bind(&witness)
    .bind(&payload_b64)
    .bind(&signature_b64)
    .bind(actor.label())
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(&mut *tx, account_id, actor, "signature.image.sign", &image.to_string(), &format!("witness {witness}")).await?;
    tx.commit().await?;

    let mut outcome = SignOutcome {
        signature_id,
        image: image.docker_reference(),
        digest,
        witness,
        key_id: key.key_id,
        key_version: version,
        payload: payload_b64,
        signature: signature_b64,
        published_tag: None,
        publish_error: None,
    };
    if input.publish {
        match publish_signature(state, account_id, actor, signature_id, now).await {
            Ok(tag) => outcome.published_tag = Some(tag),
            Err(AppError::Conflict(message)) => outcome.publish_error = Some(message),
            Err(other) => return Err(other),
        }
    }
    Ok(outcome)
}

/// Pushes a stored signature to its image's registry in cosign's layout; returns the `.sig` tag.
/// Registry failures are recorded on the signature and returned as `Conflict` with the reason.
pub async fn publish_signature(state: &AppState, account_id: i64, actor: &Actor, signature_id: i64, now: i64) -> Result<String, AppError> {
    let (db, secrets) = (&state.db, &state.secrets);
    let (reference, payload, signature) = signature_parts(db, account_id, signature_id).await?;
    let image = ImageRef::parse(&reference).map_err(|_| AppError::Internal)?;
    let (credentials, plain_http) = super::repo::registry_access(db, secrets, account_id, &image.registry).await?;
    let auth = match credentials {
        Some((username, password)) => RegistryAuth::Basic { username, password },
        None => RegistryAuth::Anonymous,
    };
    let target = Target { image: &image, auth: &auth, plain_http };
    let result = match RegistryClient::new(state.config.outbound.clone()) {
        Ok(client) => client.publish_signature(target, &payload, &signature).await,
        Err(e) => Err(e),
    };
    let (tag, error) = match &result {
        Ok(published) => (Some(published.tag.clone()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE sig_signatures SET published_at = $1, published_tag = COALESCE($2, published_tag), publish_error = $3 WHERE id = $4")
        .bind(tag.as_ref().map(|_| now))
        .bind(&tag)
        .bind(&error)
        .bind(signature_id)
        .execute(&mut *tx)
        .await?;
    let detail = error.clone().unwrap_or_else(|| tag.clone().unwrap_or_default());
    audit::record(&mut *tx, account_id, actor, "signature.image.publish", &image.to_string(), &detail).await?;
    tx.commit().await?;
    match (tag, error) {
        (Some(tag), _) => Ok(tag),
        (None, error) => Err(AppError::Conflict(td_string!(
            request_locale(),
            signature.errors.publish_failed,
            registry = &image.registry,
            error = error.unwrap_or_default()
        ))),
    }
}

/// The payload and signature of one stored signature, base64 (for export).
pub async fn signature_parts(db: &Db, account_id: i64, signature_id: i64) -> Result<(String, Vec<u8>, String), AppError> {
    let (repository, digest, payload, signature) = sqlx::query_as::<_, (String, String, String, String)>(
        "SELECT i.repository, i.digest, s.payload, s.signature FROM sig_signatures s JOIN sig_images i ON i.id = s.image_id
         WHERE s.id = $1 AND s.account_id = $2",
    )
    .bind(signature_id)
    .bind(account_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok((format!("{repository}@{digest}"), BASE64.decode(payload).map_err(|_| AppError::Internal)?, signature))
}

pub async fn delete_signature(db: &Db, account_id: i64, actor: &Actor, signature_id: i64) -> Result<(), AppError> {
    let (reference, _, _) = signature_parts(db, account_id, signature_id).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM sig_signatures WHERE id = $1 AND account_id = $2").bind(signature_id).bind(account_id).execute(&mut *tx).await?;
    audit::record(&mut *tx, account_id, actor, "signature.image.delete_signature", &reference, "").await?;
    tx.commit().await?;
    Ok(())
}

// ---- Trust ---------------------------------------------------------------------------------

/// An enabled policy as the webhook and the Images tab apply it.
#[derive(Debug, Clone)]
pub struct ActivePolicy {
    pub id: i64,
    pub name: String,
    pub cluster_id: i64,
    pub namespaces: Vec<String>,
    pub mode: PolicyMode,
    pub witness_match: WitnessMatch,
    /// (witness name, key row) of each witness.
    pub witnesses: Vec<(String, i64)>,
    /// The vulnerability rule, if the policy has one.
    pub vuln_rule: Option<VulnRule>,
}

impl ActivePolicy {
    pub fn covers(&self, cluster_id: i64, namespace: &str) -> bool {
        self.cluster_id == cluster_id && self.namespaces.iter().any(|n| n == namespace)
    }
}

/// The enabled policies of an account (of one cluster when `cluster_id` is given).
pub async fn active_policies(db: &Db, account_id: i64, cluster_id: Option<i64>) -> Result<Vec<ActivePolicy>, AppError> {
    let rows = sqlx::query_as::<_, (i64, String, i64, String, String, String, String)>(
        "SELECT id, name, cluster_id, namespaces, mode, witness_match, vuln_rule FROM sig_policies
         WHERE account_id = $1 AND enabled = 1 AND ($2 = 0 OR cluster_id = $2) ORDER BY name",
    )
    .bind(account_id)
    .bind(cluster_id.unwrap_or(0))
    .fetch_all(&db.pool)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let witnesses = sqlx::query_as::<_, (i64, String, i64)>(
        "SELECT pw.policy_id, w.name, w.key_row FROM sig_policy_witnesses pw JOIN sig_witnesses w ON w.id = pw.witness_id
         JOIN sig_policies p ON p.id = pw.policy_id WHERE p.account_id = $1 AND p.enabled = 1 AND ($2 = 0 OR p.cluster_id = $2)
         ORDER BY w.name",
    )
    .bind(account_id)
    .bind(cluster_id.unwrap_or(0))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ActivePolicy {
            witnesses: witnesses.iter().filter(|w| w.0 == r.0).map(|w| (w.1.clone(), w.2)).collect(),
            id: r.0,
            name: r.1,
            cluster_id: r.2,
            namespaces: json_list(&r.3),
            mode: PolicyMode::parse(&r.4).unwrap_or(PolicyMode::Enforce),
            witness_match: WitnessMatch::parse(&r.5).unwrap_or(WitnessMatch::AllOf),
            vuln_rule: super::vuln_model::stored_rule(&r.6),
        })
        .collect())
}

/// Who vouches for one image digest right now.
#[derive(Debug, Default, Clone)]
pub struct Signers {
    /// Keys (rows) with a valid signature whose key is enabled.
    pub valid: HashSet<i64>,
    /// Keys with a stored signature that does not count: the key is disabled or pending deletion.
    pub revoked: HashSet<i64>,
    /// Whether any signature is stored for the digest at all.
    pub any: bool,
}

/// The signers of each (repository, digest), in one query, checking each signature (cached by
/// key version, digest and signature); what may change (key state, deleted signatures) is read
/// fresh every time.
pub async fn signers_of(
    db: &Db,
    cache: &SignatureCache,
    account_id: i64,
    images: &[(String, String)],
) -> Result<HashMap<(String, String), Signers>, AppError> {
    let mut found: HashMap<(String, String), Signers> = images.iter().map(|i| (i.clone(), Signers::default())).collect();
    if images.is_empty() {
        return Ok(found);
    }
    let pairs = (0..images.len()).map(|n| format!("(${}, ${})", 2 + 2 * n, 3 + 2 * n)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT i.repository, i.digest, s.key_version_id, s.payload, s.signature, v.key_row, v.public_key, k.spec, k.state
         FROM sig_signatures s JOIN sig_images i ON i.id = s.image_id
         JOIN kms_key_versions v ON v.id = s.key_version_id JOIN kms_keys k ON k.id = v.key_row
         WHERE i.account_id = $1 AND (i.repository, i.digest) IN ({pairs})"
    );
    let mut query = sqlx::query_as::<_, (String, String, i64, String, String, i64, String, String, String)>(&sql).bind(account_id);
    for (repository, digest) in images {
        query = query.bind(repository).bind(digest);
    }
    for (repository, digest, version_row, payload, signature, key_row, public_key, spec, state) in query.fetch_all(&db.pool).await? {
        let valid = state == KeyState::Enabled.as_str()
            && match cache.verified(version_row, &digest, &signature) {
                Some(valid) => valid,
                None => {
                    let valid = check_signature(&repository, &digest, &payload, &signature, &public_key, &spec);
                    cache.remember(version_row, &digest, &signature, valid);
                    valid
                }
            };
        let signers = found.entry((repository, digest)).or_default();
        signers.any = true;
        if state != KeyState::Enabled.as_str() {
            signers.revoked.insert(key_row);
        } else if valid {
            signers.valid.insert(key_row);
        }
    }
    Ok(found)
}

/// Whether a stored signature is a valid signature of a payload naming exactly this image.
fn check_signature(repository: &str, digest: &str, payload_b64: &str, signature_b64: &str, public_key_b64: &str, spec: &str) -> bool {
    let (Ok(payload), Ok(signature), Ok(public_key), Some(spec)) =
        (BASE64.decode(payload_b64), BASE64.decode(signature_b64), BASE64.decode(public_key_b64), KeySpec::parse(spec))
    else {
        return false;
    };
    let names_image = cosign::parse_payload(&payload).is_ok_and(|p| p.docker_reference == repository && p.digest == digest);
    names_image && kms::verify_message(spec, &public_key, SigningAlgorithm::RsaPkcs1Sha256, &payload, &signature).unwrap_or(false)
}

/// Why `policy` does not trust an image with these signers, or `None` when it does.
pub fn distrust(policy: &ActivePolicy, signers: &Signers) -> Option<String> {
    let missing: Vec<&(String, i64)> = policy.witnesses.iter().filter(|(_, key)| !signers.valid.contains(key)).collect();
    let trusted = match policy.witness_match {
        WitnessMatch::AllOf => missing.is_empty(),
        WitnessMatch::AnyOf => missing.len() < policy.witnesses.len(),
    };
    if trusted {
        return None;
    }
    if let Some((name, _)) = missing.iter().find(|(_, key)| signers.revoked.contains(key)) {
        return Some(format!("signed by witness {name}, whose key is disabled"));
    }
    if !signers.any {
        return Some("unsigned".into());
    }
    let names = |list: &[&(String, i64)]| list.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ");
    if signers.valid.is_empty() || missing.len() == policy.witnesses.len() {
        return Some(format!("signed by another key, not by witness {}", names(&missing)));
    }
    Some(format!("not signed by witness {}", names(&missing)))
}

pub const IMAGES_PAGE: i64 = 50;

/// Runs listed per image on the Images tab, most recent first (`runs_total` counts them all).
pub const RUNS_LISTED: i64 = 10;

/// The Images tab: images signed, scanned or met in admission requests, newest first, a page at a
/// time (a page past the end shows the last one), narrowed by the filter.
pub async fn list_images(db: &Db, cache: &SignatureCache, account_id: i64, filter: &ImageFilter, page: i64) -> Result<ImagePage, AppError> {
    let search = filter.search.trim();
    let pattern = crate::server::db::like_pattern(search);
    const FILTER: &str = "i.account_id = $1 AND ($2 = '' OR LOWER(i.repository) LIKE $3 OR i.digest LIKE $3)
        AND ($4 = 0 OR EXISTS (SELECT 1 FROM image_inventory r WHERE r.image_id = i.id AND r.cluster_id = $4 AND ($5 = '' OR r.namespace = $5)))
        AND ($6 = 0 OR NOT EXISTS (SELECT 1 FROM sig_signatures g WHERE g.image_id = i.id))
        AND ($7 = 0 OR s.critical + s.high > 0)
        AND ($8 = 0 OR s.id IS NULL)";
    const FROM: &str = "sig_images i LEFT JOIN image_scans s ON s.account_id = i.account_id AND s.digest = i.digest AND i.digest <> ''";
    fn bind<'q>(sql: &'q str, account_id: i64, search: &'q str, pattern: &'q str, filter: &'q ImageFilter) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        sqlx::query(sql)
            .bind(account_id)
            .bind(search)
            .bind(pattern)
            .bind(filter.cluster_id.unwrap_or(0))
            .bind(filter.namespace.trim())
            .bind(i64::from(filter.unsigned))
            .bind(i64::from(filter.vulnerable))
            .bind(i64::from(filter.never_scanned))
    }
    use sqlx::Row as _;
    let count_sql = format!("SELECT COUNT(*) FROM {FROM} WHERE {FILTER}");
    let total: i64 = bind(&count_sql, account_id, search, &pattern, filter).fetch_one(&db.pool).await?.try_get(0)?;
    let PageWindow { page, pages: page_count, offset } = page_window(page, total, IMAGES_PAGE);
    let page_sql = format!(
        "SELECT i.id, i.repository, i.digest, i.tags, i.last_seen_at FROM {FROM} WHERE {FILTER}
         ORDER BY i.last_seen_at DESC, i.id DESC LIMIT $9 OFFSET $10"
    );
    let rows = bind(&page_sql, account_id, search, &pattern, filter)
    .bind(IMAGES_PAGE)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    let images = rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?)))
        .collect::<Result<Vec<(i64, String, String, String, i64)>, sqlx::Error>>()?;
    let images = image_views(db, cache, account_id, images).await?;
    Ok(ImagePage { images, total, page, page_count })
}

/// The page's images with their signatures, scans, where they ran, and the policies that trust them.
async fn image_views(
    db: &Db,
    cache: &SignatureCache,
    account_id: i64,
    images: Vec<(i64, String, String, String, i64)>,
) -> Result<Vec<ImageView>, AppError> {
    if images.is_empty() {
        return Ok(Vec::new());
    }
    // Only the signatures, scans and runs of the images on this page.
    let ids = placeholders(2, images.len());
    let sql = format!(
        "SELECT s.image_id, s.id, s.witness_name, k.key_id, v.version, k.state, s.signed_by, s.created_at, s.published_at, s.published_tag, s.publish_error
         FROM sig_signatures s JOIN kms_key_versions v ON v.id = s.key_version_id JOIN kms_keys k ON k.id = v.key_row
         WHERE s.account_id = $1 AND s.image_id IN ({ids}) ORDER BY s.created_at DESC"
    );
    let mut query = sqlx::query_as::<_, (i64, i64, String, String, i64, String, String, i64, Option<i64>, Option<String>, Option<String>)>(&sql)
        .bind(account_id);
    for image in &images {
        query = query.bind(image.0);
    }
    let signatures = query.fetch_all(&db.pool).await?;
    // The most recent runs of each image (a page shows a few and counts the rest).
    let sql = format!(
        "SELECT image_id, cluster_id, cluster_name, namespace, workload_kind, workload_name, first_seen_at, last_seen_at, outcome, total FROM (
            SELECT r.image_id, r.cluster_id, c.name AS cluster_name, r.namespace, r.workload_kind, r.workload_name, r.first_seen_at,
                   r.last_seen_at, r.outcome, ROW_NUMBER() OVER (PARTITION BY r.image_id ORDER BY r.last_seen_at DESC, r.id DESC) AS n,
                   COUNT(*) OVER (PARTITION BY r.image_id) AS total
            FROM image_inventory r JOIN sig_clusters c ON c.id = r.cluster_id
            WHERE r.account_id = $1 AND r.image_id IN ({ids})
         ) ranked WHERE n <= {RUNS_LISTED} ORDER BY image_id, n"
    );
    let mut query = sqlx::query_as::<_, (i64, i64, String, String, String, String, i64, i64, String, i64)>(&sql).bind(account_id);
    for image in &images {
        query = query.bind(image.0);
    }
    let runs_of = query.fetch_all(&db.pool).await?;
    let digests: Vec<String> = images.iter().map(|i| i.2.clone()).collect();
    let mut scans = super::vulns::summaries(db, account_id, &digests).await?;
    let policies = active_policies(db, account_id, None).await?;
    let mut by_image: HashMap<i64, Vec<SignatureView>> = HashMap::new();
    for s in signatures {
        by_image.entry(s.0).or_default().push(SignatureView {
            id: s.1,
            witness_name: s.2,
            key_id: s.3,
            key_version: s.4,
            key_enabled: s.5 == KeyState::Enabled.as_str(),
            signed_by: s.6,
            created_at: s.7,
            published_at: s.8,
            published_tag: s.9,
            publish_error: s.10,
        });
    }
    // Who vouches for each signed image, in one query for the page.
    let signed: Vec<(String, String)> = if policies.is_empty() {
        Vec::new()
    } else {
        images.iter().filter(|i| !i.2.is_empty() && by_image.contains_key(&i.0)).map(|i| (i.1.clone(), i.2.clone())).collect()
    };
    let signers = signers_of(db, cache, account_id, &signed).await?;
    let mut views = Vec::with_capacity(images.len());
    for (id, repository, digest, tags, last_seen_at) in images {
        let signatures = by_image.remove(&id).unwrap_or_default();
        let trusted_by = match signers.get(&(repository.clone(), digest.clone())) {
            Some(signers) => policies.iter().filter(|p| distrust(p, signers).is_none()).map(|p| p.name.clone()).collect(),
            None => Vec::new(),
        };
        let runs: Vec<ImageRun> = runs_of
            .iter()
            .filter(|r| r.0 == id)
            .map(|r| ImageRun {
                cluster_id: r.1,
                cluster_name: r.2.clone(),
                namespace: r.3.clone(),
                workload_kind: r.4.clone(),
                workload_name: r.5.clone(),
                first_seen_at: r.6,
                last_seen_at: r.7,
                outcome: Outcome::parse(&r.8).unwrap_or(Outcome::Allowed),
            })
            .collect();
        let last_outcome = runs.first().map(|r| r.outcome);
        let runs_total = runs_of.iter().find(|r| r.0 == id).map_or(0, |r| r.9);
        let scan = if digest.is_empty() { None } else { scans.remove(&digest) };
        views.push(ImageView { id, repository, digest, tags: json_list(&tags), signatures, runs, runs_total, scan, last_outcome, trusted_by, last_seen_at });
    }
    Ok(views)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: WitnessMatch, witnesses: &[(&str, i64)]) -> ActivePolicy {
        ActivePolicy {
            id: 1,
            name: "prod".into(),
            cluster_id: 1,
            namespaces: vec!["shop".into()],
            mode: PolicyMode::Enforce,
            witness_match: mode,
            witnesses: witnesses.iter().map(|(n, k)| (n.to_string(), *k)).collect(),
            vuln_rule: None,
        }
    }

    fn signed(valid: &[i64], revoked: &[i64], any: bool) -> Signers {
        Signers { valid: valid.iter().copied().collect(), revoked: revoked.iter().copied().collect(), any }
    }

    #[test]
    fn all_of_needs_every_witness_and_any_of_one() {
        let all = policy(WitnessMatch::AllOf, &[("build", 1), ("qa", 2)]);
        let any = policy(WitnessMatch::AnyOf, &[("build", 1), ("qa", 2)]);
        assert_eq!(distrust(&all, &signed(&[1, 2], &[], true)), None);
        assert_eq!(distrust(&all, &signed(&[1], &[], true)).unwrap(), "not signed by witness qa");
        assert_eq!(distrust(&any, &signed(&[2], &[], true)), None);
        assert_eq!(distrust(&any, &signed(&[], &[], false)).unwrap(), "unsigned");
    }

    #[test]
    fn reasons_tell_another_key_from_a_disabled_one() {
        let one = policy(WitnessMatch::AllOf, &[("build", 1)]);
        assert_eq!(distrust(&one, &signed(&[9], &[], true)).unwrap(), "signed by another key, not by witness build");
        assert_eq!(distrust(&one, &signed(&[], &[1], true)).unwrap(), "signed by witness build, whose key is disabled");
    }
}
