//! The admission webhook a Kubernetes API server calls for each cluster: it authenticates the
//! cluster by the token in its URL, checks every image of the pod (or pod template) against the
//! enabled policies covering the namespace, answers an AdmissionReview, and records the decision.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admission::{self, Parsed, Review, Verdict};
use super::admission_cache::AdmissionCache;
use super::decisions::{self, Decision};
use super::image_ref::ImageRef;
use super::images::{self, active_policies, distrust, ActivePolicy, Signers};
use super::repo::{self, HookCaller};
use super::model::{Outcome, PolicyMode, VulnRule};
use super::vulns::{self, Judgement};
use crate::editions::Feature;
use crate::error::AppError;
use crate::http::body::{LimitedBody, ADMISSION_LIMIT};
use crate::http::openapi::Error;
use crate::server::crypto::hash_token;
use crate::server::db::Db;
use crate::server::{now, AppState};

/// Where a cluster's hook sends its reviews; the token authenticates the cluster.
pub fn webhook_path(cluster_id: i64, token: &str) -> String {
    format!("/api/v1/admission/{cluster_id}/{token}")
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(review))
}

fn refuse(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": code, "message": message }))).into_response()
}

/// The cluster a review comes from, authenticated by the token in its URL before the body is read,
/// and the version of `signature_state` the review is decided at.
struct Hook {
    cluster_id: i64,
    caller: super::repo::HookCaller,
    version: i64,
}

impl FromRequestParts<AppState> for Hook {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Path((cluster_id, token)) = Path::<(String, String)>::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let version = repo::signature_version(&state.db).await.map_err(IntoResponse::into_response)?;
        let found = match cluster_id.parse::<i64>() {
            Ok(id) => authenticate(&state.db, version, id, &token, now()).await.map_err(IntoResponse::into_response)?.map(|caller| (id, caller)),
            Err(_) => None,
        };
        let Some((cluster_id, caller)) = found else {
            return Err(refuse(StatusCode::UNAUTHORIZED, "unauthorized", "This webhook URL does not carry the cluster's current token.".into()));
        };
        Ok(Hook { cluster_id, caller, version })
    }
}

/// The caller of a hook URL at `version`: kept by this console, else read (and kept). Its last
/// call is recorded at most once a minute.
async fn authenticate(db: &Db, version: i64, cluster_id: i64, token: &str, now: i64) -> Result<Option<HookCaller>, AppError> {
    let cache = db.shared::<AdmissionCache>();
    cache.sync(version);
    let token_hash = hash_token(token);
    let (caller, seen) = match cache.hook(cluster_id, &token_hash) {
        Some(kept) => kept,
        None => match repo::hook_caller(db, cluster_id, &token_hash).await? {
            Some((caller, seen)) => {
                cache.keep_hook(version, cluster_id, &token_hash, caller, seen);
                (caller, seen)
            }
            None => return Ok(None),
        },
    };
    // One write a minute at most: the API server calls for every pod.
    if seen.is_none_or(|s| now - s >= 60) {
        repo::hook_seen(db, cluster_id, now).await?;
        cache.keep_hook(version, cluster_id, &token_hash, caller, Some(now));
    }
    Ok(Some(caller))
}

#[utoipa::path(post, path = "/api/v1/admission/{cluster_id}/{token}", tag = "admission",
    params(("cluster_id" = i64, Path, description = "The cluster's id in the console"),
        ("token" = String, Path, description = "The cluster's hook token (shown once when the cluster was added or its token rotated)")),
    request_body(content = Object, description = "An `admission.k8s.io/v1` AdmissionReview, as the Kubernetes API server sends it (pods, workloads, jobs, cron jobs)",
        example = json!({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": "", "version": "v1", "kind": "Pod"}, "resource": {"group": "", "version": "v1", "resource": "pods"},
            "name": "web", "namespace": "default", "operation": "CREATE", "userInfo": {"username": "kubernetes-admin"},
            "object": {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "web", "namespace": "default"},
                "spec": {"containers": [{"name": "web", "image": "registry.example.com/shop/web@sha256:9f2c4a7b1e0d3c5f6a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f"}]}},
            "dryRun": false}})),
    responses((status = 200, description = "An AdmissionReview with the response: allowed, or denied with the reason, and any warnings", body = Object),
        (status = 400, description = "Not an AdmissionReview", body = Error),
        (status = 401, description = "Unknown cluster or wrong token", body = Error),
        (status = 413, description = "Over the admission body limit", body = Error)))]
async fn review(State(state): State<AppState>, hook: Hook, LimitedBody(body): LimitedBody<ADMISSION_LIMIT>) -> Response {
    let now = now();
    let Hook { cluster_id, caller, version } = hook;
    let review = match admission::parse(&body) {
        Ok(Parsed::Check(review)) => review,
        Ok(Parsed::Skip { uid, .. }) => {
            crate::server::metrics::admission_decision("skipped");
            return Json(admission::respond(&uid, &Verdict::Allow)).into_response();
        }
        Err(e) => return refuse(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
    };
    // The account as it is now: without the edition (or the authorization) no image is checked.
    let decided = match Feature::ContainerSignature.refusal(caller.edition, caller.authorized) {
        None => decide(&state, version, caller.account_id, cluster_id, &review, now).await,
        Some(reason) => decide_unchecked(&state.db, version, caller.account_id, cluster_id, &review, &reason, now).await,
    };
    match decided {
        Ok(verdict) => Json(admission::respond(&review.uid, &verdict)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// One image's problem under one policy, for the message and the record.
struct Problem {
    image: String,
    container: String,
    reason: String,
    policy: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {} [policy {}]", self.image, self.container, self.reason, self.policy)
    }
}

/// The enabled policies of a cluster at `version`: kept by this console, else read (and kept).
async fn cluster_policies(db: &Db, version: i64, account_id: i64, cluster_id: i64) -> Result<Arc<Vec<ActivePolicy>>, AppError> {
    let cache = db.shared::<AdmissionCache>();
    if let Some(kept) = cache.policies(account_id, cluster_id) {
        return Ok(kept);
    }
    let read = Arc::new(active_policies(db, account_id, Some(cluster_id)).await?);
    cache.keep_policies(version, account_id, cluster_id, read.clone());
    Ok(read)
}

/// The signers of each image at `version`: those kept by this console, the rest read (and kept).
async fn image_signers(
    state: &AppState,
    version: i64,
    account_id: i64,
    images: &[(String, String)],
) -> Result<HashMap<(String, String), Signers>, AppError> {
    let cache = state.db.shared::<AdmissionCache>();
    let mut found = cache.signers(account_id, images);
    let missing: Vec<(String, String)> = images.iter().filter(|i| !found.contains_key(*i)).cloned().collect();
    if !missing.is_empty() {
        let read = images::signers_of(&state.db, &state.signature_cache, account_id, &missing).await?;
        cache.keep_signers(version, account_id, &read);
        found.extend(read);
    }
    Ok(found)
}

/// The vulnerability rule's judgement of each pinned image under each policy with a rule, at
/// `version`: those this console keeps (and still hold at `now`), the rest judged from the scans
/// and exceptions read (and kept).
async fn vuln_judgements(
    db: &Db,
    version: i64,
    account_id: i64,
    policies: &[&ActivePolicy],
    pinned: &[(String, String)],
    now: i64,
) -> Result<HashMap<(i64, String, String), Judgement>, AppError> {
    let cache = db.shared::<AdmissionCache>();
    let mut judged = HashMap::new();
    let mut missing: Vec<(&ActivePolicy, &VulnRule, &(String, String))> = Vec::new();
    for policy in policies {
        let Some(rule) = &policy.vuln_rule else { continue };
        for image in pinned {
            match cache.judgement(policy.id, &image.0, &image.1, now) {
                Some(kept) => {
                    judged.insert((policy.id, image.0.clone(), image.1.clone()), kept);
                }
                None => missing.push((policy, rule, image)),
            }
        }
    }
    if missing.is_empty() {
        return Ok(judged);
    }
    let exceptions = match cache.exceptions(account_id) {
        Some(kept) => kept,
        None => {
            let read = Arc::new(vulns::active_exceptions(db, account_id, now).await?);
            cache.keep_exceptions(version, account_id, read.clone());
            read
        }
    };
    let mut digests: Vec<String> = missing.iter().map(|(_, _, (_, digest))| digest.clone()).collect();
    digests.sort_unstable();
    digests.dedup();
    let scans = vulns::scans_of(db, account_id, &digests).await?;
    for (policy, rule, (repository, digest)) in missing {
        let judgement = vulns::judge(rule, repository, scans.get(digest).map(Vec::as_slice), &exceptions, now);
        cache.keep_judgement(version, policy.id, repository, digest, judgement.clone());
        judged.insert((policy.id, repository.clone(), digest.clone()), judgement);
    }
    Ok(judged)
}

/// Decides one review at `version` of what decides it, and records it (the decision, and each
/// image in the inventory with the outcome it got).
async fn decide(state: &AppState, version: i64, account_id: i64, cluster_id: i64, review: &Review, now: i64) -> Result<Verdict, AppError> {
    let db = &state.db;
    let enabled = cluster_policies(db, version, account_id, cluster_id).await?;
    let policies: Vec<&ActivePolicy> = enabled.iter().filter(|p| p.covers(cluster_id, &review.namespace)).collect();
    let parsed: Vec<(&admission::ContainerImage, Result<ImageRef, String>)> =
        review.images.iter().map(|c| (c, ImageRef::parse(&c.image).map_err(|e| e.to_string()))).collect();

    let mut enforce = Vec::new();
    let mut warn = Vec::new();
    let mut outcomes = vec![Outcome::Allowed; parsed.len()];
    let pinned: Vec<(String, String)> =
        parsed.iter().filter_map(|(_, i)| i.as_ref().ok()).filter_map(|i| Some((i.docker_reference(), i.digest.clone()?))).collect();
    let signers_of = if policies.is_empty() { HashMap::new() } else { image_signers(state, version, account_id, &pinned).await? };
    let judged = if policies.iter().any(|p| p.vuln_rule.is_some()) {
        vuln_judgements(db, version, account_id, &policies, &pinned, now).await?
    } else {
        HashMap::new()
    };
    if !policies.is_empty() {
        for (n, (container, image)) in parsed.iter().enumerate() {
            let container_name = format!("{} {}", container.section.as_str(), container.container);
            let mut reasons: Vec<(String, PolicyMode, String)> = match image {
                Err(problem) => policies.iter().map(|p| (format!("not a valid image reference: {problem}"), p.mode, p.name.clone())).collect(),
                Ok(image) if !image.is_pinned() => policies.iter().map(|p| ("not pinned by digest".to_string(), p.mode, p.name.clone())).collect(),
                Ok(image) => {
                    let key = (image.docker_reference(), image.digest.clone().unwrap_or_default());
                    let none = Signers::default();
                    let signers = signers_of.get(&key).unwrap_or(&none);
                    policies.iter().filter_map(|p| distrust(p, signers).map(|reason| (reason, p.mode, p.name.clone()))).collect()
                }
            };
            // The vulnerability rule: a tag-only image cannot be matched to a scan, so it is treated
            // as never scanned, and the reason says why.
            if let Ok(image) = image {
                for policy in &policies {
                    let Some(rule) = &policy.vuln_rule else { continue };
                    let problem = match &image.digest {
                        None => vulns::unscanned_mode(rule).map(|mode| (mode, "pinned by tag only, so no vulnerability scan can be matched to it".to_string())),
                        Some(digest) => judged.get(&(policy.id, image.docker_reference(), digest.clone())).and_then(|j| j.problem.clone()),
                    };
                    if let Some((mode, reason)) = problem {
                        reasons.push((reason, mode, policy.name.clone()));
                    }
                }
            }
            for (reason, mode, policy) in reasons {
                let problem = Problem { image: container.image.clone(), container: container_name.clone(), reason, policy };
                match mode {
                    PolicyMode::Enforce => {
                        outcomes[n] = Outcome::Denied;
                        enforce.push(problem);
                    }
                    PolicyMode::Warn => {
                        if outcomes[n] == Outcome::Allowed {
                            outcomes[n] = Outcome::Warned;
                        }
                        warn.push(problem);
                    }
                }
            }
        }
    }

    let object = format!("{} {}/{}", review.kind, review.namespace, review.name);
    // API servers may cut warnings past 120 characters: name the image with a short digest.
    let warnings: Vec<String> = warn.iter().map(|p| format!("untrusted image {}: {} (policy {})", short(&p.image), p.reason, p.policy)).collect();
    let (verdict, outcome, reason) = if !enforce.is_empty() {
        let listed = enforce.iter().map(Problem::to_string).collect::<Vec<_>>().join("; ");
        let message = format!("Bulwark rejected {object}: {listed}");
        (Verdict::Deny { message: message.clone(), warnings: warnings.clone() }, Outcome::Denied, message)
    } else if !warnings.is_empty() {
        (Verdict::AllowWithWarnings(warnings.clone()), Outcome::Warned, warnings.join("; "))
    } else if policies.is_empty() {
        (Verdict::Allow, Outcome::Allowed, format!("No enabled policy covers the namespace {}.", review.namespace))
    } else {
        let names = policies.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
        (Verdict::Allow, Outcome::Allowed, format!("Every image is trusted by {names}."))
    };
    let ran: Vec<(ImageRef, Outcome)> =
        parsed.iter().zip(outcomes).filter_map(|((_, image), outcome)| Some((image.as_ref().ok()?.clone(), outcome))).collect();
    let workload = images::Workload { cluster_id, namespace: &review.namespace, kind: &review.kind, name: &review.name };
    let ran = images::inventory_due(&state.signature_cache, &workload, ran, now);
    record(db, account_id, cluster_id, review, outcome, &reason, ran, now).await?;
    Ok(verdict)
}

/// Decides a review of an account that may no longer use container signature: no image is
/// checked, and the policies covering the namespace decide as for an image they cannot trust (an
/// enforcing policy denies, a warning one admits with a warning; with none the object is admitted).
/// A lapsed edition thus never opens a namespace an enforcing policy guards.
async fn decide_unchecked(db: &Db, version: i64, account_id: i64, cluster_id: i64, review: &Review, reason: &str, now: i64) -> Result<Verdict, AppError> {
    let enabled = cluster_policies(db, version, account_id, cluster_id).await?;
    let policies: Vec<&ActivePolicy> = enabled.iter().filter(|p| p.covers(cluster_id, &review.namespace)).collect();
    let named = |mode: PolicyMode| policies.iter().filter(|p| p.mode == mode).map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
    let (enforcing, warning) = (named(PolicyMode::Enforce), named(PolicyMode::Warn));
    let object = format!("{} {}/{}", review.kind, review.namespace, review.name);
    let (verdict, outcome, message) = if !enforcing.is_empty() {
        let message = format!("Bulwark rejected {object}: its images were not checked because {reason} [policy {enforcing}]");
        (Verdict::Deny { message: message.clone(), warnings: Vec::new() }, Outcome::Denied, message)
    } else if !warning.is_empty() {
        let message = format!("images not checked: {reason} (policy {warning})");
        (Verdict::AllowWithWarnings(vec![message.clone()]), Outcome::Warned, message)
    } else {
        (Verdict::Allow, Outcome::Allowed, format!("No image was checked: {reason}."))
    };
    record(db, account_id, cluster_id, review, outcome, &message, Vec::new(), now).await?;
    Ok(verdict)
}

/// An image reference with its digest cut to 12 hex digits.
fn short(image: &str) -> String {
    match image.split_once("@sha256:") {
        Some((name, digest)) => format!("{name}@sha256:{}", digest.chars().take(12).collect::<String>()),
        None => image.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn record(
    db: &Db,
    account_id: i64,
    cluster_id: i64,
    review: &Review,
    outcome: Outcome,
    reason: &str,
    ran: Vec<(ImageRef, Outcome)>,
    now: i64,
) -> Result<(), AppError> {
    crate::server::metrics::admission_decision(outcome.as_str());
    let images: Vec<String> = review.images.iter().map(|c| c.image.clone()).collect();
    let decision = Decision {
        account_id,
        cluster_id,
        namespace: review.namespace.clone(),
        kind: review.kind.clone(),
        name: review.name.clone(),
        operation: review.operation.clone(),
        images: repo::to_json(&images),
        outcome,
        reason: reason.to_string(),
        created_at: now,
        ran,
    };
    decisions::record(db, decision).await
}
