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
    let request = decode::<K>(value)?;
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
mod tests {
    use super::*;

    /// The bytes of a fixture; the one place to change when the fixtures move.
    macro_rules! fixture {
        ($name:literal) => {
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/admission/", $name))
        };
    }

    const WEB: &str = "registry.example.com/shop/web@sha256:2604318952e369ea3a3f2f8538abc46fab24fb653f3f146194b1cae2342d5086";
    const API: &str = "registry.example.com/shop/api@sha256:2ce7ac933e0380fda0a2707213ebc9e000b31aec69bc5a22fe42ff5d5e44a896";
    const WORKER: &str = "registry.example.com/shop/worker@sha256:b62fa8b3056db497b383cface547329f877dcfe6b83da4fe3415dc827d45eba5";
    const TOOLS: &str = "registry.example.com/shop/tools@sha256:b9a5c863c9e318cfaf0de4d896638bfe9dce47dc74422e510bd0d82f5c0c9c6b";
    const TAGGED: &str = "registry.example.com/shop/web:1.4.2";

    fn image(section: Section, container: &str, image: &str) -> ContainerImage {
        ContainerImage {
            section,
            container: container.into(),
            image: image.into(),
        }
    }

    fn review(body: &[u8]) -> Review {
        match parse(body) {
            Ok(Parsed::Check(review)) => review,
            other => panic!("expected a review to check, got {other:?}"),
        }
    }

    fn skip_reason_of(body: &[u8]) -> String {
        match parse(body) {
            Ok(Parsed::Skip { reason, .. }) => reason,
            other => panic!("expected a skip, got {other:?}"),
        }
    }

    fn error(body: &[u8]) -> AdmissionError {
        match parse(body) {
            Err(error) => error,
            Ok(parsed) => panic!("expected an error, got {parsed:?}"),
        }
    }

    /// A fixture with `change` applied to its JSON, for cases not worth a file of their own.
    fn edited(body: &[u8], change: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut value: Value = serde_json::from_slice(body).expect("fixture is JSON");
        change(&mut value);
        serde_json::to_vec(&value).expect("JSON serializes")
    }

    fn set(value: &mut Value, pointer: &str, new: Value) {
        *value.pointer_mut(pointer).expect("pointer exists") = new;
    }

    /// Every workload fixture: web@D1 as a container, worker@D3 as an initContainer.
    fn workload_images() -> Vec<ContainerImage> {
        vec![
            image(Section::Containers, "web", WEB),
            image(Section::InitContainers, "warm-cache", WORKER),
        ]
    }

    #[test]
    fn pod_with_one_signed_image() {
        let review = review(fixture!("pod-signed.json"));
        assert_eq!(
            review,
            Review {
                uid: "8f2c7a1e-4b3d-4e9a-9c1f-2d7e6b5a4c31".into(),
                kind: "Pod".into(),
                namespace: "shop".into(),
                name: "web".into(),
                operation: "CREATE".into(),
                images: vec![image(Section::Containers, "web", WEB)],
            }
        );
    }

    #[test]
    fn pods_with_unsigned_and_tag_only_images() {
        let unsigned = review(fixture!("pod-unsigned.json"));
        assert_eq!(unsigned.name, "tools");
        assert_eq!(
            unsigned.images,
            vec![image(Section::Containers, "tools", TOOLS)]
        );

        let tagged = review(fixture!("pod-tag-only.json"));
        assert_eq!(tagged.name, "web-tagged");
        assert_eq!(
            tagged.images,
            vec![image(Section::Containers, "web", TAGGED)]
        );
    }

    #[test]
    fn pod_with_three_containers_lists_all_sections_in_order() {
        let review = review(fixture!("pod-three-containers.json"));
        assert_eq!(review.name, "shop-frontend");
        assert_eq!(
            review.images,
            vec![
                image(Section::Containers, "web", WEB),
                image(Section::Containers, "debug-tools", TOOLS),
                image(Section::InitContainers, "migrate", API),
            ]
        );
    }

    #[test]
    fn pod_in_another_namespace() {
        let review = review(fixture!("pod-other-namespace.json"));
        assert_eq!(review.namespace, "dev");
        assert_eq!(
            review.images,
            vec![image(Section::Containers, "tools", TOOLS)]
        );
    }

    #[test]
    fn namespace_falls_back_to_the_object() {
        let body = edited(fixture!("pod-signed.json"), |v| {
            v["request"]
                .as_object_mut()
                .expect("request")
                .remove("namespace");
        });
        assert_eq!(review(&body).namespace, "shop");
    }

    #[test]
    fn ephemeral_containers_subresource_is_checked_with_every_image() {
        let review = review(fixture!("pod-ephemeral.json"));
        assert_eq!(review.operation, "UPDATE");
        assert_eq!(review.name, "web");
        assert_eq!(
            review.images,
            vec![
                image(Section::Containers, "web", WEB),
                image(Section::EphemeralContainers, "debugger-x4k9q", TOOLS),
            ]
        );
    }

    #[test]
    fn each_workload_kind_yields_its_template_images() {
        let cases: [(&[u8], &str, &str, &str); 7] = [
            (
                fixture!("deployment.json"),
                "Deployment",
                "web",
                "7a9c1e3a-5c7e-4a9c-8e1a-3c5e7a9c1e36",
            ),
            (
                fixture!("replicaset.json"),
                "ReplicaSet",
                "web-7d9c8b6f5d",
                "9c1e3a5c-7e9a-4c1e-8a3c-5e7a9c1e3a78",
            ),
            (
                fixture!("statefulset.json"),
                "StatefulSet",
                "api-cache",
                "be3f5a7c-9e1a-4b3d-8f5a-7c9e1b3d5f10",
            ),
            (
                fixture!("daemonset.json"),
                "DaemonSet",
                "node-agent",
                "d0517c9e-1a3c-4d5f-8b7c-9e1a3c5d7f32",
            ),
            (
                fixture!("job.json"),
                "Job",
                "db-migrate-*",
                "f273aeb0-3c5e-4f7a-8d9e-1a3c5e7f9b54",
            ),
            (
                fixture!("cronjob.json"),
                "CronJob",
                "nightly-report",
                "1495c0d2-5e7a-4b9c-8f1a-3c5e7a9b1d76",
            ),
            (
                fixture!("replicationcontroller.json"),
                "ReplicationController",
                "legacy-web",
                "36b7e2f4-7a9c-4dbe-8c3d-5f7a9b1d3f98",
            ),
        ];
        for (body, kind, name, uid) in cases {
            let review = review(body);
            // Verify the kind's own pod spec path was followed, and the envelope read.
            assert_eq!(review.kind, kind);
            assert_eq!(review.name, name, "{kind}");
            assert_eq!(review.uid, uid, "{kind}");
            assert_eq!(review.namespace, "shop", "{kind}");
            assert_eq!(review.operation, "CREATE", "{kind}");
            assert_eq!(review.images, workload_images(), "{kind}");
        }
    }

    #[test]
    fn replication_controller_without_template_has_no_images() {
        let body = edited(fixture!("replicationcontroller.json"), |v| {
            v["request"]["object"]["spec"]
                .as_object_mut()
                .expect("spec")
                .remove("template");
        });
        assert_eq!(review(&body).images, vec![]);
    }

    #[test]
    fn update_of_a_workload_is_checked() {
        let body = edited(fixture!("deployment.json"), |v| {
            set(v, "/request/operation", "UPDATE".into());
            let object = v["request"]["object"].clone();
            set(v, "/request/oldObject", object);
        });
        let review = review(&body);
        assert_eq!(review.operation, "UPDATE");
        assert_eq!(review.images, workload_images());
    }

    #[test]
    fn delete_and_connect_are_skipped() {
        match parse(fixture!("pod-delete.json")) {
            Ok(Parsed::Skip { uid, reason }) => {
                assert_eq!(uid, "4c6e8a0c-2e4a-4c8e-8a2c-4e6a8c2e4a93");
                assert_eq!(reason, "DELETE requests are not checked");
            }
            other => panic!("expected a skip, got {other:?}"),
        }
        let connect = edited(fixture!("pod-signed.json"), |v| {
            set(v, "/request/operation", "CONNECT".into());
            set(v, "/request/kind/kind", "PodExecOptions".into());
            v["request"]["subResource"] = "exec".into();
            set(
                v,
                "/request/object",
                json!({ "kind": "PodExecOptions", "apiVersion": "v1", "stdin": true, "command": ["sh"] }),
            );
        });
        assert_eq!(skip_reason_of(&connect), "CONNECT requests are not checked");
    }

    #[test]
    fn other_kinds_are_skipped() {
        match parse(fixture!("service.json")) {
            Ok(Parsed::Skip { uid, reason }) => {
                assert_eq!(uid, "58d9a416-9c1e-4fd0-8e5f-7b9c1d3f5b10");
                assert_eq!(reason, "v1 Service objects are not checked");
            }
            other => panic!("expected a skip, got {other:?}"),
        }
        // Verify the group counts: a Deployment of another API group is not ours to read.
        let foreign = edited(fixture!("deployment.json"), |v| {
            set(v, "/request/kind/group", "example.com".into());
        });
        assert_eq!(
            skip_reason_of(&foreign),
            "example.com/v1 Deployment objects are not checked"
        );
    }

    #[test]
    fn other_subresources_are_skipped() {
        let status = edited(fixture!("pod-ephemeral.json"), |v| {
            set(v, "/request/subResource", "status".into());
        });
        assert_eq!(
            skip_reason_of(&status),
            "the status subresource is not checked"
        );
        // Only pods take new images through ephemeralcontainers.
        let deployment = edited(fixture!("deployment.json"), |v| {
            v["request"]["subResource"] = "ephemeralcontainers".into();
        });
        assert_eq!(
            skip_reason_of(&deployment),
            "the ephemeralcontainers subresource is not checked"
        );
    }

    #[test]
    fn a_request_without_object_is_skipped() {
        let body = edited(fixture!("pod-signed.json"), |v| {
            set(v, "/request/object", Value::Null);
        });
        assert_eq!(skip_reason_of(&body), "the request has no object");
    }

    #[test]
    fn malformed_bodies_name_the_problem() {
        let cases: [(&[u8], &str); 7] = [
            (fixture!("malformed-not-json.json"), "the body is not JSON: expected value at line 1 column 1"),
            (fixture!("malformed-not-review.json"), "not an admission.k8s.io/v1 AdmissionReview: its kind is \"Pod\""),
            (
                fixture!("malformed-v1beta1.json"),
                "admission.k8s.io/v1beta1 AdmissionReview is not supported: register the webhook with admissionReviewVersions: [\"v1\"]",
            ),
            (fixture!("malformed-pod-no-image.json"), "spec.containers[0].image: missing"),
            (
                fixture!("malformed-pod-image-not-string.json"),
                "spec.containers[0].image: invalid type: floating point `1.4`, expected a string",
            ),
            (fixture!("malformed-no-uid.json"), "the request has no uid"),
            (fixture!("malformed-deployment-no-image.json"), "spec.template.spec.containers[1].image: missing"),
        ];
        for (body, message) in cases {
            assert_eq!(error(body).to_string(), message);
        }
        assert!(matches!(
            error(fixture!("malformed-not-json.json")),
            AdmissionError::NotJson(_)
        ));
        assert!(matches!(
            error(fixture!("malformed-v1beta1.json")),
            AdmissionError::UnsupportedVersion(version) if version == "admission.k8s.io/v1beta1"
        ));
        assert!(matches!(
            error(fixture!("malformed-pod-image-not-string.json")),
            AdmissionError::InvalidObject { path, .. } if path == "spec.containers[0].image"
        ));
    }

    #[test]
    fn broken_envelopes_name_the_problem() {
        let cases: [(Vec<u8>, &str); 9] = [
            (b"[]".to_vec(), "not an admission.k8s.io/v1 AdmissionReview: the body is an array, not an object"),
            (br#"{"apiVersion":"admission.k8s.io/v1"}"#.to_vec(), "not an admission.k8s.io/v1 AdmissionReview: it has no kind"),
            (br#"{"kind":"AdmissionReview"}"#.to_vec(), "not an admission.k8s.io/v1 AdmissionReview: it has no apiVersion"),
            (
                br#"{"kind":"AdmissionReview","apiVersion":"v1"}"#.to_vec(),
                "not an admission.k8s.io/v1 AdmissionReview: its apiVersion is \"v1\"",
            ),
            (
                br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","response":{"uid":"x","allowed":true,"status":{}}}"#.to_vec(),
                "the AdmissionReview has no request",
            ),
            (
                edited(fixture!("pod-signed.json"), |v| set(v, "/request/uid", "".into())),
                "the request has no uid",
            ),
            (
                edited(fixture!("pod-signed.json"), |v| set(v, "/request/operation", "PATCH".into())),
                "not an admission.k8s.io/v1 AdmissionReview: request.operation: unknown variant `PATCH`, expected one of `CREATE`, `UPDATE`, `DELETE`, `CONNECT`",
            ),
            (
                edited(fixture!("pod-signed.json"), |v| {
                    v["request"].as_object_mut().expect("request").remove("userInfo");
                }),
                "not an admission.k8s.io/v1 AdmissionReview: request: missing field `userInfo`",
            ),
            (
                edited(fixture!("service.json"), |v| set(v, "/request/kind", "Service".into())),
                "not an admission.k8s.io/v1 AdmissionReview: request.kind: invalid type: string \"Service\", expected struct GroupVersionKind",
            ),
        ];
        for (body, message) in cases {
            assert_eq!(error(&body).to_string(), message);
        }
    }

    #[test]
    fn an_object_of_the_wrong_kind_is_rejected() {
        let body = edited(fixture!("pod-signed.json"), |v| {
            set(v, "/request/object/kind", "Deployment".into());
        });
        assert_eq!(
            error(&body).to_string(),
            "object: invalid value: string \"Deployment\", expected Pod"
        );
        let body = edited(fixture!("pod-signed.json"), |v| {
            set(v, "/request/object", "web".into());
        });
        assert!(matches!(
            error(&body),
            AdmissionError::InvalidObject { path, .. } if path == "object"
        ));
        let body = edited(fixture!("pod-ephemeral.json"), |v| {
            set(v, "/request/oldObject/spec/containers/0/name", 7.into());
        });
        assert!(matches!(
            error(&body),
            AdmissionError::InvalidObject { path, .. } if path == "oldObject.spec.containers[0].name"
        ));
    }

    #[test]
    fn an_empty_image_counts_as_missing() {
        let body = edited(fixture!("pod-three-containers.json"), |v| {
            set(v, "/request/object/spec/initContainers/0/image", " ".into());
        });
        assert_eq!(
            error(&body).to_string(),
            "spec.initContainers[0].image: missing"
        );
    }

    #[test]
    fn section_names() {
        assert_eq!(Section::Containers.as_str(), "container");
        assert_eq!(Section::InitContainers.as_str(), "initContainer");
        assert_eq!(Section::EphemeralContainers.as_str(), "ephemeralContainer");
    }

    /// Reads an answer back as the API server would, with kube-core's own type.
    fn read_back(answer: &Value) -> kube_core::admission::AdmissionResponse {
        let review: AdmissionReview<DynamicObject> =
            serde_json::from_value(answer.clone()).expect("kube-core reads the answer");
        assert_eq!(review.types.api_version, "admission.k8s.io/v1");
        assert_eq!(review.types.kind, "AdmissionReview");
        assert!(review.request.is_none());
        review.response.expect("the answer has a response")
    }

    #[test]
    fn respond_allow() {
        let answer = respond("8f2c7a1e-4b3d-4e9a-9c1f-2d7e6b5a4c31", &Verdict::Allow);
        let response = read_back(&answer);
        assert_eq!(response.uid, "8f2c7a1e-4b3d-4e9a-9c1f-2d7e6b5a4c31");
        assert!(response.allowed);
        assert_eq!(response.warnings, None);
        // Verify nothing that could read as a denial rides along.
        assert_eq!(response.result.code, 0);
        assert!(response.result.message.is_empty());
        assert!(answer["response"].get("warnings").is_none());
    }

    #[test]
    fn respond_allow_with_warnings() {
        let warnings = vec![
            "container web: image registry.example.com/shop/web:1.4.2 is not pinned by digest"
                .to_owned(),
        ];
        let answer = respond("uid-1", &Verdict::AllowWithWarnings(warnings.clone()));
        let response = read_back(&answer);
        assert_eq!(response.uid, "uid-1");
        assert!(response.allowed);
        assert_eq!(response.warnings, Some(warnings));
    }

    #[test]
    fn respond_deny() {
        let verdict = Verdict::Deny {
            message:
                "container debug-tools: registry.example.com/shop/tools has no valid signature"
                    .into(),
            warnings: vec!["namespace shop is in enforce mode".into()],
        };
        let answer = respond("5e7f9a1b-3c5d-4e6f-8a9b-0c1d2e3f4a75", &verdict);
        let response = read_back(&answer);
        assert_eq!(response.uid, "5e7f9a1b-3c5d-4e6f-8a9b-0c1d2e3f4a75");
        assert!(!response.allowed);
        assert_eq!(response.result.code, 403);
        assert_eq!(response.result.reason, "Forbidden");
        assert!(response.result.is_failure());
        assert_eq!(
            response.result.message,
            "container debug-tools: registry.example.com/shop/tools has no valid signature"
        );
        assert_eq!(
            response.warnings,
            Some(vec!["namespace shop is in enforce mode".to_owned()])
        );
    }

    #[test]
    fn respond_deny_without_warnings_omits_them() {
        let verdict = Verdict::Deny {
            message: "denied".into(),
            warnings: vec![],
        };
        let answer = respond("uid-2", &verdict);
        assert!(answer["response"].get("warnings").is_none());
        assert_eq!(read_back(&answer).warnings, None);
    }
}
