//! The API's OpenAPI document: it describes every `/api/v1/` route the console serves (and
//! nothing it does not), and each request example in it is accepted by the real handler.

use std::collections::BTreeSet;
use std::path::Path;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::Value;

use crate::agents::enrollment_token;
use crate::common::*;
use crate::signature::{cluster, enterprise, key, witness};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp) -> Value {
    let response = app.get(None, "/api/openapi.json").await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.json()
}

/// `/api/v1/assets/{instance_id}` and `/api/v1/assets/{}` name the same route.
fn template(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

/// Every `/api/v1/…` path written in the console's source: the routes it registers and the
/// paths its own agent and hooks call.
fn paths_in_source() -> BTreeSet<String> {
    fn walk(dir: &Path, found: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let mut rest = text.as_str();
                while let Some(at) = rest.find("/api/v1/") {
                    let tail = &rest[at..];
                    let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || "/{}_-.".contains(c))).unwrap_or(tail.len());
                    let path = tail[..end].trim_end_matches('/');
                    if path.len() > "/api/v1".len() {
                        found.insert(template(path));
                    }
                    rest = &tail[end..];
                }
            }
        }
    }
    let mut found = BTreeSet::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
    found
}

#[tokio::test]
async fn the_document_describes_every_api_route_and_only_those() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().unwrap();
    let documented: BTreeSet<String> = paths.keys().map(|p| template(p)).collect();
    let written = paths_in_source();
    // A written path is described when a documented template matches it segment by segment
    // (`{}` matching any one), or, written as a family (`/api/v1/agent/*` in prose), begins one.
    let segments = |p: &str| p.split('/').map(str::to_string).collect::<Vec<_>>();
    let matches = |written: &[String], template: &[String]| {
        written.len() == template.len() && written.iter().zip(template).all(|(w, t)| w == t || t == "{}" || w == "{}")
    };
    let missing: Vec<_> = written
        .iter()
        .filter(|w| {
            let w = segments(w);
            !documented.iter().any(|d| {
                let d = segments(d);
                matches(&w, &d) || (w.len() < d.len() && matches(&w, &d[..w.len()]))
            })
        })
        .collect();
    assert!(missing.is_empty(), "served or called but not described: {missing:?}");
    assert!(written.len() >= 15, "the source scan found the API's paths: {written:?}");

    // Each described operation is served: without credentials it answers 401 (or, for the
    // hook, 401 for an unknown cluster), never 404 or 405.
    for (path, item) in paths {
        let concrete = path.replace("{instance_id}", "i-nowhere").replace("{id}", "999999").replace("{key}", "key-missing").replace("{cluster_id}", "999999").replace("{token}", "bad");
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            let request = Request::builder().method(method.to_uppercase().as_str()).uri(&concrete).header(header::CONTENT_TYPE, "application/json");
            let response = app.request(request.body(Body::from("{}")).unwrap()).await;
            assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{method} {path}: {}", response.body);
            let operation = &item[*method];
            assert!(operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].as_str().is_some_and(|r| r.ends_with("/Error")),
                "{method} {path} documents its 401 with the error shape");
            assert!(!operation["tags"].as_array().unwrap().is_empty(), "{method} {path} has a tag");
        }
    }
    // Schemes and the error shape are described once.
    for scheme in ["api_token", "enrollment_token", "agent_credential"] {
        assert_eq!(doc["components"]["securitySchemes"][scheme]["scheme"], "bearer", "{scheme}");
    }
    let error = &doc["components"]["schemas"]["Error"]["properties"];
    for field in ["error", "message", "fields"] {
        assert!(error.get(field).is_some(), "Error.{field}");
    }
}

#[tokio::test]
async fn the_api_docs_page_is_served_with_its_own_files() {
    let app = TestApp::new().await;
    let page = app.get(None, "/api/docs/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("swagger-ui"), "{}", page.body);
    let policy = page.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-eval"), "{policy}");
    // Its scripts come from the console (vendored into the binary), never from the internet.
    assert!(!page.body.contains("https://"), "the page loads nothing from elsewhere");
    let bundle = app.get(None, "/api/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status, StatusCode::OK);
    assert!(bundle.body.len() > 100_000);
    let init = app.get(None, "/api/docs/swagger-initializer.js").await;
    assert!(init.body.contains("/api/openapi.json"), "{}", init.body);
}

/// The request example of `method path`, if the document gives one.
fn example<'a>(doc: &'a Value, path: &str, method: &str) -> Option<&'a Value> {
    let content = doc["paths"][path][method]["requestBody"]["content"].as_object()?;
    content.values().find_map(|media| media.get("example"))
}

async fn send(app: &TestApp, method: Method, path: &str, bearer: Option<&str>, body: &Value) -> Response {
    let mut request = Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    app.request(request.body(Body::from(body.to_string())).unwrap()).await
}

#[tokio::test]
async fn each_documented_request_example_is_accepted_by_its_handler() {
    let app = TestApp::new().await;
    let (_, admin) = enterprise(&app, "Docs").await;
    let token = app.token(&admin, "pipeline").await;
    let enrollment = enrollment_token(&app, &admin, "").await;
    let signing_key = key(&app, &admin, "docs-sign", "RSA_2048", "SIGN/VERIFY").await;
    let crypt_key = key(&app, &admin, "docs-crypt", "RSA_2048", "ENCRYPT/DECRYPT").await;
    assert_eq!(witness(&app, &admin, "build", &signing_key).await.status, StatusCode::OK);
    let (_, hook) = cluster(&app, &admin, "docs-cluster").await;
    let doc = document(&app).await;

    // In the order a client would call them: assets before their findings, enrollment before
    // the agent's calls, a job before its result, encryption before decryption.
    let order = [
        ("post", "/api/v1/assets"),
        ("post", "/api/v1/findings"),
        ("post", "/api/v1/alerts"),
        ("post", "/api/v1/baseline"),
        ("post", "/api/v1/attacks"),
        ("post", "/api/v1/advisories"),
        ("post", "/api/v1/agent/enroll"),
        ("post", "/api/v1/agent/heartbeat"),
        ("post", "/api/v1/agent/inventory"),
        ("post", "/api/v1/assets/{instance_id}/fix-jobs"),
        ("post", "/api/v1/agent/jobs/{id}/result"),
        ("post", "/api/v1/assets/{instance_id}/trivy"),
        ("post", "/api/v1/kms/keys/{key}/sign"),
        ("post", "/api/v1/kms/keys/{key}/verify"),
        ("post", "/api/v1/kms/keys/{key}/encrypt"),
        ("post", "/api/v1/kms/keys/{key}/decrypt"),
        ("post", "/api/v1/signatures"),
        ("post", "/api/v1/images/scans"),
        ("post", "/api/v1/admission/{cluster_id}/{token}"),
    ];
    // Every operation with a request body has an example, and this test sends each of them.
    let mut with_body = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some_and(|op| op.get("requestBody").is_some()) {
                assert!(example(&doc, path, method).is_some(), "{method} {path} has a request body but no example");
                with_body.insert((method.to_string(), path.clone()));
            }
        }
    }
    let sent: BTreeSet<(String, String)> = order.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(with_body, sent, "a described request body this test does not send (or sends but is not described)");

    let mut credential = String::new();
    let mut agent_instance = String::new();
    let mut ciphertext = String::new();
    for (method, path) in order {
        let mut body = example(&doc, path, method).unwrap().clone();
        let (uri, bearer) = match path {
            "/api/v1/agent/enroll" => (path.to_string(), enrollment.clone()),
            "/api/v1/agent/heartbeat" | "/api/v1/agent/inventory" => (path.to_string(), credential.clone()),
            "/api/v1/assets/{instance_id}/fix-jobs" => (path.replace("{instance_id}", &agent_instance), token.clone()),
            "/api/v1/agent/jobs/{id}/result" => {
                // The job the previous step queued, as the agent's poll hands it out.
                let poll = app.api(&credential, Method::GET, "/api/v1/agent/jobs", None).await;
                assert_eq!(poll.status, StatusCode::OK, "{}", poll.body);
                (path.replace("{id}", &poll.json()["id"].to_string()), credential.clone())
            }
            "/api/v1/assets/{instance_id}/trivy" => (path.replace("{instance_id}", "i-web-01"), token.clone()),
            "/api/v1/kms/keys/{key}/sign" | "/api/v1/kms/keys/{key}/verify" => (path.replace("{key}", &signing_key), token.clone()),
            "/api/v1/kms/keys/{key}/encrypt" => (path.replace("{key}", &crypt_key), token.clone()),
            "/api/v1/kms/keys/{key}/decrypt" => {
                // A ciphertext is only valid for the key that made it: the one just encrypted.
                body["ciphertext"] = Value::String(ciphertext.clone());
                (path.replace("{key}", &crypt_key), token.clone())
            }
            "/api/v1/admission/{cluster_id}/{token}" => (hook.clone(), String::new()),
            _ => (path.to_string(), token.clone()),
        };
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = send(&app, method, &uri, (!bearer.is_empty()).then_some(bearer.as_str()), &body).await;
        assert!(response.status.is_success(), "{path}: {} {}", response.status, response.body);
        // What the document says this status answers with.
        let code = response.status.as_str().to_string();
        assert!(doc["paths"][path]["post"]["responses"].get(&code).is_some(), "{path} answered {code}, which it does not document");
        match path {
            "/api/v1/agent/enroll" => {
                let answer = response.json();
                credential = answer["credential"].as_str().unwrap().to_string();
                agent_instance = answer["instance_id"].as_str().unwrap().to_string();
            }
            "/api/v1/kms/keys/{key}/encrypt" => ciphertext = response.json()["ciphertext"].as_str().unwrap().to_string(),
            "/api/v1/kms/keys/{key}/decrypt" => {
                let example = example(&doc, "/api/v1/kms/keys/{key}/encrypt", "post").unwrap();
                assert_eq!(response.json()["plaintext"], example["plaintext"], "decrypts what the encrypt example sent");
            }
            "/api/v1/admission/{cluster_id}/{token}" => assert_eq!(response.json()["response"]["allowed"], true, "{}", response.body),
            _ => {}
        }
    }
}
