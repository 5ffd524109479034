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

/// The direct decode and the decode through a JSON value answer every fixture alike; the direct
/// one declines what it does not read (so the other says precisely what is wrong).
#[test]
fn the_direct_decode_agrees_with_the_value_decode() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/admission");
    let mut taken = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let body = std::fs::read(&path).unwrap();
        let slow = parse_any(&body).map_err(|e| e.to_string());
        match parse_well_formed(&body) {
            Some(fast) => {
                taken += 1;
                assert_eq!(fast.map_err(|e| e.to_string()), slow, "{}", path.display());
            }
            None => assert!(
                slow.is_err() || path.ends_with("service.json"),
                "{}: declined a review the value decode reads: {slow:?}",
                path.display()
            ),
        }
    }
    // Every well-formed review of a kind with a pod spec takes the direct way.
    assert!(taken >= 14, "only {taken} fixtures decoded directly");
    // Duplicate keys: a typed decode refuses them, the value keeps the last; the answer is the value's.
    let twice = br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u1","uid":"u2",
        "kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},
        "operation":"CREATE","userInfo":{},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
        "spec":{"containers":[{"name":"c","image":"nginx"}]}}}}"#;
    assert!(parse_well_formed(twice).is_none());
    assert_eq!(review(twice).uid, "u2");
}
