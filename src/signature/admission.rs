//! The wire side of the image admission webhook: reads the API server's AdmissionReview into the
//! images to check, and writes the AdmissionReview that answers it. Pure functions, no I/O.

use std::fmt::Write as _;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Pod, PodSpec, ReplicationController};
use kube_core::admission::{
    AdmissionRequest, AdmissionReview, Operation, META_API_VERSION_V1, META_KIND,
};
use kube_core::{DynamicObject, GroupVersionKind};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use serde_path_to_error::Segment;

/// Which list of the pod spec a container sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Containers,
    InitContainers,
    EphemeralContainers,
}

impl Section {
    /// The singular name used in messages ("container web", "initContainer migrate").
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Containers => "container",
            Section::InitContainers => "initContainer",
            Section::EphemeralContainers => "ephemeralContainer",
        }
    }

    /// The PodSpec field holding this section, for error paths.
    fn field(self) -> &'static str {
        match self {
            Section::Containers => "containers",
            Section::InitContainers => "initContainers",
            Section::EphemeralContainers => "ephemeralContainers",
        }
    }
}

/// One image reference as written in the object, with the container that uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerImage {
    pub section: Section,
    pub container: String,
    pub image: String,
}

/// One admission request whose images must be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub uid: String,
    /// The object's kind: "Pod", "Deployment", …
    pub kind: String,
    pub namespace: String,
    /// The object's name, `generateName` + "*" when only that is set, or "".
    pub name: String,
    /// "CREATE" or "UPDATE" (other operations are skipped).
    pub operation: String,
    /// Containers, then initContainers, then ephemeralContainers, each in spec order.
    pub images: Vec<ContainerImage>,
}

/// What a well-formed AdmissionReview asks of us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Check(Review),
    /// Nothing to check: answer allowed, echoing `uid`. `reason` is for the log.
    Skip {
        uid: String,
        reason: String,
    },
}

/// Why a body could not be read; the webhook answers 400 with the message.
#[derive(Debug, thiserror::Error)]
pub enum AdmissionError {
    // The serde error is shown, not chained, because the message is all the API server gets.
    #[error("the body is not JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("not an admission.k8s.io/v1 AdmissionReview: {0}")]
    NotAdmissionReview(String),
    #[error("{0} AdmissionReview is not supported: register the webhook with admissionReviewVersions: [\"v1\"]")]
    UnsupportedVersion(String),
    #[error("the AdmissionReview has no request")]
    NoRequest,
    #[error("the request has no uid")]
    NoUid,
    /// The object does not fit the k8s-openapi type of its kind; `path` starts at the object.
    #[error("{path}: {message}")]
    InvalidObject { path: String, message: String },
    #[error("{path}: missing")]
    MissingImage { path: String },
}

/// The decision to send back for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    AllowWithWarnings(Vec<String>),
    Deny {
        message: String,
        warnings: Vec<String>,
    },
}

/// Reads an AdmissionReview body sent by the API server.
pub fn parse(body: &[u8]) -> Result<Parsed, AdmissionError> {
    match parse_well_formed(body) {
        Some(parsed) => parsed,
        None => parse_any(body),
    }
}

/// The envelope fields that choose the object's type, read without building the body as a value.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    kind: String,
    api_version: String,
    request: Option<EnvelopeRequest>,
}

#[derive(Deserialize)]
struct EnvelopeRequest {
    uid: Option<String>,
    kind: Option<GroupVersionKind>,
}

/// The way of every review a working API server sends: a v1 review with a request and a uid, of
/// a kind with a pod spec, decoded straight into its type. `None` for anything else (a body that
/// is not JSON, another kind, a field the type refuses, duplicate keys…): `parse_any` reads it
/// then, and gives the same answer or the precise error, since both decode with the same types.
fn parse_well_formed(body: &[u8]) -> Option<Result<Parsed, AdmissionError>> {
    let envelope: Envelope = serde_json::from_slice(body).ok()?;
    let request = envelope.request?;
    if envelope.kind != META_KIND || envelope.api_version != META_API_VERSION_V1 || request.uid.as_deref().is_none_or(str::is_empty) {
        return None;
    }
    let kind = request.kind?;
    fn typed<K: Workload>(body: &[u8]) -> Option<Result<Parsed, AdmissionError>> {
        let review: AdmissionReview<K> = serde_json::from_slice(body).ok()?;
        Some(checked(review.request?))
    }
    match kind {
        kind if is::<Pod>(&kind) => typed::<Pod>(body),
        kind if is::<Deployment>(&kind) => typed::<Deployment>(body),
        kind if is::<ReplicaSet>(&kind) => typed::<ReplicaSet>(body),
        kind if is::<StatefulSet>(&kind) => typed::<StatefulSet>(body),
        kind if is::<DaemonSet>(&kind) => typed::<DaemonSet>(body),
        kind if is::<Job>(&kind) => typed::<Job>(body),
        kind if is::<CronJob>(&kind) => typed::<CronJob>(body),
        kind if is::<ReplicationController>(&kind) => typed::<ReplicationController>(body),
        _ => None,
    }
}

/// Any body: built as a JSON value first, so that what is wrong with it can be said precisely.
fn parse_any(body: &[u8]) -> Result<Parsed, AdmissionError> {
    let value: Value = serde_json::from_slice(body).map_err(AdmissionError::NotJson)?;
    check_envelope(&value)?;
    // The object's type depends on request.kind, so peek at it before the typed decode; a kind
    // that cannot be read falls through to the untyped decode, which reports it precisely.
    let kind = value
        .pointer("/request/kind")
        .and_then(|kind| GroupVersionKind::deserialize(kind).ok());
    match kind {
        Some(kind) if is::<Pod>(&kind) => check::<Pod>(value),
        Some(kind) if is::<Deployment>(&kind) => check::<Deployment>(value),
        Some(kind) if is::<ReplicaSet>(&kind) => check::<ReplicaSet>(value),
        Some(kind) if is::<StatefulSet>(&kind) => check::<StatefulSet>(value),
        Some(kind) if is::<DaemonSet>(&kind) => check::<DaemonSet>(value),
        Some(kind) if is::<Job>(&kind) => check::<Job>(value),
        Some(kind) if is::<CronJob>(&kind) => check::<CronJob>(value),
        Some(kind) if is::<ReplicationController>(&kind) => check::<ReplicationController>(value),
        _ => skip_unchecked_kind(value),
    }
}

/// The AdmissionReview answering `uid`: `response.allowed`, `response.status` (403 and the
/// message when denied) and `response.warnings` when there are any.
pub fn respond(uid: &str, verdict: &Verdict) -> Value {
    let (allowed, warnings) = match verdict {
        Verdict::Allow => (true, &[][..]),
        Verdict::AllowWithWarnings(warnings) => (true, warnings.as_slice()),
        Verdict::Deny { warnings, .. } => (false, warnings.as_slice()),
    };
    // kubectl shows status.message after "admission webhook … denied the request:"; reason and
    // code make the error a plain Forbidden for clients that branch on them.
    let status = match verdict {
        Verdict::Deny { message, .. } => {
            json!({ "status": "Failure", "code": 403, "reason": "Forbidden", "message": message })
        }
        Verdict::Allow | Verdict::AllowWithWarnings(_) => json!({ "status": "Success" }),
    };
    let mut response = Map::new();
    response.insert("uid".into(), uid.into());
    response.insert("allowed".into(), allowed.into());
    response.insert("status".into(), status);
    if !warnings.is_empty() {
        response.insert("warnings".into(), warnings.into());
    }
    json!({ "apiVersion": META_API_VERSION_V1, "kind": META_KIND, "response": response })
}

/// A kind whose objects carry a pod spec.
trait Workload: k8s_openapi::Resource + kube_core::Resource + DeserializeOwned {
    /// Where the pod spec sits in the object, for error paths.
    const POD_SPEC_PATH: &'static str;
    /// A subresource whose writes carry new images, besides the main resource.
    const IMAGE_SUBRESOURCE: Option<&'static str> = None;

    fn pod_spec(&self) -> Option<&PodSpec>;
}

impl Workload for Pod {
    const POD_SPEC_PATH: &'static str = "spec";
    // `kubectl debug` adds ephemeral containers through this subresource, never the main one.
    const IMAGE_SUBRESOURCE: Option<&'static str> = Some("ephemeralcontainers");

    fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec.as_ref()
    }
}

impl Workload for Deployment {
    const POD_SPEC_PATH: &'static str = "spec.template.spec";

    fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec.as_ref()?.template.spec.as_ref()
    }
}

impl Workload for ReplicaSet {
    const POD_SPEC_PATH: &'static str = "spec.template.spec";

    fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec.as_ref()?.template.as_ref()?.spec.as_ref()
    }
}

impl Workload for StatefulSet {
    const POD_SPEC_PATH: &'static str = "spec.template.spec";

    fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec.as_ref()?.template.spec.as_ref()
    }
}

impl Workload for DaemonSet {
    const POD_SPEC_PATH: &'static str = "spec.template.spec";

    fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec.as_ref()?.template.spec.as_ref()
    }
}

impl Workload for Job {
    const POD_SPEC_PATH: &'static str = "spec.template.spec";

    fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec.as_ref()?.template.spec.as_ref()
    }
}

impl Workload for CronJob {
    const POD_SPEC_PATH: &'static str = "spec.jobTemplate.spec.template.spec";

    fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec
            .as_ref()?
            .job_template
            .spec
            .as_ref()?
            .template
            .spec
            .as_ref()
    }
}

impl Workload for ReplicationController {
    const POD_SPEC_PATH: &'static str = "spec.template.spec";

    fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec.as_ref()?.template.as_ref()?.spec.as_ref()
    }
}

fn is<K: k8s_openapi::Resource>(kind: &GroupVersionKind) -> bool {
    kind.group == K::GROUP && kind.version == K::VERSION && kind.kind == K::KIND
}

/// Checks what the typed decode cannot say clearly: that this is a v1 review with a request
/// and a uid (a missing uid would otherwise read as "missing field `uid`").
fn check_envelope(value: &Value) -> Result<(), AdmissionError> {
    let Some(review) = value.as_object() else {
        return Err(AdmissionError::NotAdmissionReview(format!(
            "the body is {}, not an object",
            json_type(value)
        )));
    };
    match review.get("kind") {
        Some(Value::String(kind)) if kind == META_KIND => {}
        Some(kind) => {
            return Err(AdmissionError::NotAdmissionReview(format!(
                "its kind is {kind}"
            )))
        }
        None => return Err(AdmissionError::NotAdmissionReview("it has no kind".into())),
    }
    match review.get("apiVersion") {
        Some(Value::String(version)) if version == META_API_VERSION_V1 => {}
        Some(Value::String(version)) if version.starts_with("admission.k8s.io/") => {
            return Err(AdmissionError::UnsupportedVersion(version.clone()))
        }
        Some(version) => {
            return Err(AdmissionError::NotAdmissionReview(format!(
                "its apiVersion is {version}"
            )))
        }
        None => {
            return Err(AdmissionError::NotAdmissionReview(
                "it has no apiVersion".into(),
            ))
        }
    }
    match review.get("request") {
        None | Some(Value::Null) => return Err(AdmissionError::NoRequest),
        Some(_) => {}
    }
    match value.pointer("/request/uid") {
        None | Some(Value::Null) => Err(AdmissionError::NoUid),
        Some(Value::String(uid)) if uid.is_empty() => Err(AdmissionError::NoUid),
        Some(_) => Ok(()),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn decode<K: kube_core::Resource + DeserializeOwned>(
    value: Value,
) -> Result<AdmissionRequest<K>, AdmissionError> {
    let review: AdmissionReview<K> =
        serde_path_to_error::deserialize(value).map_err(field_error)?;
    review.request.ok_or(AdmissionError::NoRequest)
}

/// Turns a decode error into an object error with a path from the object's root (as kubectl
/// shows field paths), or an envelope error with the path from the review's root.
fn field_error(error: serde_path_to_error::Error<serde_json::Error>) -> AdmissionError {
    let message = error.inner().to_string();
    let segments: Vec<&Segment> = error.path().iter().collect();
    match segments.as_slice() {
        [Segment::Map { key: request }, Segment::Map { key: object }, rest @ ..]
            if request == "request" && object == "object" =>
        {
            let path = render_path("", rest);
            AdmissionError::InvalidObject {
                path: if path.is_empty() {
                    "object".into()
                } else {
                    path
                },
                message,
            }
        }
        [Segment::Map { key: request }, Segment::Map { key: old }, rest @ ..]
            if request == "request" && old == "oldObject" =>
        {
            AdmissionError::InvalidObject {
                path: render_path("oldObject", rest),
                message,
            }
        }
        _ => AdmissionError::NotAdmissionReview(format!("{}: {message}", error.path())),
    }
}

fn render_path(prefix: &str, segments: &[&Segment]) -> String {
    let mut path = prefix.to_owned();
    for segment in segments {
        match segment {
            Segment::Seq { index } => {
                let _ = write!(path, "[{index}]");
            }
            Segment::Map { key: name } | Segment::Enum { variant: name } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
            }
            Segment::Unknown => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push('?');
            }
        }
    }
    path
}

fn operation_name(operation: &Operation) -> &'static str {
    match operation {
        Operation::Create => "CREATE",
        Operation::Update => "UPDATE",
        Operation::Delete => "DELETE",
        Operation::Connect => "CONNECT",
    }
}

/// Why a request needs no check, judged on what every kind shares.
fn skip_reason<K: kube_core::Resource>(request: &AdmissionRequest<K>) -> Option<String> {
    match request.operation {
        // Removing an object or opening a stream starts no new image.
        Operation::Delete | Operation::Connect => Some(format!(
            "{} requests are not checked",
            operation_name(&request.operation)
        )),
        Operation::Create | Operation::Update => None,
    }
}

fn skip_unchecked_kind(value: Value) -> Result<Parsed, AdmissionError> {
    // Decoded anyway so that a broken review is a 400 whatever its kind.
    let request = decode::<DynamicObject>(value)?;
    let reason = skip_reason(&request).unwrap_or_else(|| {
        let kind = &request.kind;
        let api_version = if kind.group.is_empty() {
            kind.version.clone()
        } else {
            format!("{}/{}", kind.group, kind.version)
        };
        format!("{api_version} {} objects are not checked", kind.kind)
    });
    Ok(Parsed::Skip {
        uid: request.uid,
        reason,
    })
}

fn check<K: Workload>(value: Value) -> Result<Parsed, AdmissionError> {
    checked(decode::<K>(value)?)
}

/// What a decoded request asks: its images, or why it needs no check.
fn checked<K: Workload>(request: AdmissionRequest<K>) -> Result<Parsed, AdmissionError> {
    let subresource = request.sub_resource.as_deref().unwrap_or("");
    let reason = skip_reason(&request).or_else(|| {
        // Status, scale and the like cannot change an image.
        let checked = subresource.is_empty() || K::IMAGE_SUBRESOURCE == Some(subresource);
        (!checked).then(|| format!("the {subresource} subresource is not checked"))
    });
    if let Some(reason) = reason {
        return Ok(Parsed::Skip {
            uid: request.uid,
            reason,
        });
    }
    let Some(object) = &request.object else {
        return Ok(Parsed::Skip {
            uid: request.uid,
            reason: "the request has no object".into(),
        });
    };
    let images = match object.pod_spec() {
        Some(spec) => images_of(spec, K::POD_SPEC_PATH)?,
        None => Vec::new(),
    };
    let meta = object.meta();
    let namespace = request
        .namespace
        .clone()
        .filter(|namespace| !namespace.is_empty())
        .or_else(|| meta.namespace.clone())
        .unwrap_or_default();
    // At the mutating stage a generateName object has no name yet; "*" marks the unknown suffix.
    let name = [meta.name.as_deref(), Some(request.name.as_str())]
        .into_iter()
        .flatten()
        .find(|name| !name.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            meta.generate_name
                .as_deref()
                .filter(|prefix| !prefix.is_empty())
                .map(|prefix| format!("{prefix}*"))
        })
        .unwrap_or_default();
    Ok(Parsed::Check(Review {
        kind: K::KIND.to_owned(),
        namespace,
        name,
        operation: operation_name(&request.operation).to_owned(),
        images,
        uid: request.uid,
    }))
}

fn images_of(spec: &PodSpec, spec_path: &str) -> Result<Vec<ContainerImage>, AdmissionError> {
    let containers = spec.containers.iter().map(|c| (&c.name, &c.image));
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| (&c.name, &c.image));
    let ephemeral = spec
        .ephemeral_containers
        .iter()
        .flatten()
        .map(|c| (&c.name, &c.image));
    let sections: [(Section, Vec<_>); 3] = [
        (Section::Containers, containers.collect()),
        (Section::InitContainers, init.collect()),
        (Section::EphemeralContainers, ephemeral.collect()),
    ];
    let mut images = Vec::new();
    for (section, entries) in sections {
        for (index, (name, image)) in entries.into_iter().enumerate() {
            // Templates may leave the image for later tooling to fill in; by admission it must be
            // there, since there is nothing to verify otherwise.
            let image = image
                .as_deref()
                .filter(|image| !image.trim().is_empty())
                .ok_or_else(|| AdmissionError::MissingImage {
                    path: format!("{spec_path}.{}[{index}].image", section.field()),
                })?;
            images.push(ContainerImage {
                section,
                container: name.clone(),
                image: image.to_owned(),
            });
        }
    }
    Ok(images)
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
