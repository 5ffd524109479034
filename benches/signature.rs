//! Container signature: the admission webhook and signing, beside their baselines.
//!
//! 1. Webhook: AdmissionReviews for a pod of 5 signed containers posted over loopback HTTP to
//!    the console, one at a time (latency) and from 16 connections at once (throughput);
//!    "cached" repeats the same pod (signature checks remembered), "uncached" names 5 images
//!    never seen before in every review. Beside it, a bare axum route that parses and echoes
//!    the same JSON body, on the same machine, measured the same way.
//! 2. Signing: RSASSA-PKCS1-v1_5 SHA-256 with an RSA_2048 key in the key service (in process,
//!    and through the signing API), beside `openssl speed rsa2048`.
//!
//! `cargo bench --features ssr --bench signature -- [--requests N] [--pg postgres://…/postgres] [--small] [--only webhook|signing]`

#[allow(dead_code)] // the other benchmarks use the rest
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use bulwark::editions::Edition;
use bulwark::auth::model::AccountKind;
use bulwark::format::url_encode;
use bulwark::signature::kms;
use bulwark::signature::model::{KeySpec, SigningAlgorithm};
use support::on_each_database;

struct Args {
    requests: usize,
    pg: Option<String>,
    /// `webhook` or `signing`: run only that part.
    only: Option<String>,
}

fn args() -> Args {
    let mut args = Args { requests: 2_000, pg: std::env::var("BULWARK_BENCH_PG_URL").ok(), only: None };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--requests" => args.requests = it.next().and_then(|v| v.parse().ok()).expect("--requests N"),
            "--pg" => args.pg = it.next(),
            "--small" => args.requests = 50,
            "--only" => args.only = it.next(),
            _ => {} // cargo bench passes --bench
        }
    }
    args
}

const CONCURRENCY: usize = 16;
/// Samples of CPU time per request.
const CPU_SAMPLES: usize = 30;
const IMAGES: [&str; 5] = ["web", "api", "worker", "cache", "sidecar"];

fn digest_of(text: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

/// A Pod AdmissionReview in namespace "shop" with one container per image.
fn pod_review(uid: usize, images: &[String]) -> Vec<u8> {
    let containers: Vec<Value> = images.iter().enumerate().map(|(i, image)| json!({ "name": format!("c{i}"), "image": image })).collect();
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("00000000-0000-0000-0000-{uid:012}"),
            "kind": { "group": "", "version": "v1", "kind": "Pod" },
            "resource": { "group": "", "version": "v1", "resource": "pods" },
            "requestKind": { "group": "", "version": "v1", "kind": "Pod" },
            "requestResource": { "group": "", "version": "v1", "resource": "pods" },
            "name": format!("shop-{uid}"),
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": { "username": "system:serviceaccount:kube-system:replicaset-controller", "groups": ["system:serviceaccounts"] },
            "object": {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": { "name": format!("shop-{uid}"), "namespace": "shop" },
                "spec": { "containers": containers }
            },
            "oldObject": null,
            "dryRun": false,
            "options": { "apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions" }
        }
    })
    .to_string()
    .into_bytes()
}

/// The form of the Enforce policy "prod-shop" over namespace "shop" of `cluster`, trusting `witness`.
fn policy_form(witness: &Value, cluster: &Value) -> Vec<(&'static str, String)> {
    vec![
        ("input[name]", "prod-shop".into()),
        ("input[witness_ids][0]", witness.to_string()),
        ("input[witness_match]", "AllOf".into()),
        ("input[cluster_id]", cluster.to_string()),
        ("input[namespaces][0]", "shop".into()),
        ("input[enabled]", "true".into()),
        ("input[mode]", "Enforce".into()),
        ("input[remarks]", String::new()),
    ]
}

async fn call(router: &Router, cookie: &str, function: &str, form: &[(&str, String)]) -> Value {
    let body = form.iter().map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v))).collect::<Vec<_>>().join("&");
    let (status, bytes) = support::send(router, support::server_fn(cookie, function, body)).await;
    assert_eq!(status, StatusCode::OK, "{function}: {}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// A console with an Enterprise account whose admin authorized the key service and made an
/// RSA_2048 signing key: the database, the router, the admin's session cookie and the key's id.
async fn signing_console(url: &str, account: &str) -> (bulwark::server::db::Db, Router, String, String) {
    let (db, router) = support::console(url).await;
    let mut conn = db.pool.acquire().await.unwrap();
    let account = bulwark::tenants::open_account(&mut conn, account, Edition::Enterprise, AccountKind::Cloud).await.unwrap().id;
    drop(conn);
    let cookie = support::admin_session(&db, &router, account).await;
    call(&router, &cookie, "grant_authorization", &[("service", "keys_and_clusters".into())]).await;
    let key = call(&router, &cookie, "signature/create_key", &[("input[alias]", "ci".into()), ("input[description]", String::new()), ("input[spec]", "RSA_2048".into()), ("input[usage]", "SIGN/VERIFY".into())]).await;
    let key_id = key["key_id"].as_str().unwrap().to_string();
    (db, router, cookie, key_id)
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.ok() });
    format!("http://{addr}")
}

/// The `q` quantile of `samples` (nearest rank), sorting them first.
fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort_unstable();
    support::quantile(samples, q)
}

/// (p50 ms, p99 ms).
fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    (quantile(&mut samples, 0.5).as_secs_f64() * 1e3, quantile(&mut samples, 0.99).as_secs_f64() * 1e3)
}

/// (p50 µs, p95 µs).
fn p50_p95_us(mut samples: Vec<Duration>) -> (f64, f64) {
    (quantile(&mut samples, 0.5).as_secs_f64() * 1e6, quantile(&mut samples, 0.95).as_secs_f64() * 1e6)
}

/// Posts `bodies` one at a time: (p50 ms, p99 ms).
async fn latency(client: &reqwest::Client, url: &str, bodies: Vec<Vec<u8>>, expect_allowed: bool) -> (f64, f64) {
    let mut samples = Vec::with_capacity(bodies.len());
    for body in bodies {
        let started = Instant::now();
        let answer: Value = client.post(url).header("Content-Type", "application/json").body(body).send().await.unwrap().json().await.unwrap();
        samples.push(started.elapsed());
        if expect_allowed {
            assert_eq!(answer["response"]["allowed"], true, "{answer}");
        }
    }
    percentiles(samples)
}

/// Posts `bodies` from CONCURRENCY connections at once: requests per second.
async fn throughput(client: &reqwest::Client, url: &str, bodies: Vec<Vec<u8>>) -> f64 {
    let count = bodies.len();
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, url, queue) = (client.clone(), url.to_string(), queue.clone());
            tokio::spawn(async move {
                loop {
                    let Some(body) = queue.lock().unwrap().pop() else { break };
                    let response = client.post(&url).header("Content-Type", "application/json").body(body).send().await.unwrap();
                    assert!(response.status().is_success());
                    response.bytes().await.unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    count as f64 / started.elapsed().as_secs_f64()
}

async fn webhook(label: &'static str, url: String, requests: usize) {
    println!("\n== {label}: the admission webhook, a pod of {} containers, {requests} reviews a run", IMAGES.len());
    let (db, router, cookie, key_id) = signing_console(&url, "Shop").await;
    let witness = call(&router, &cookie, "signature/create_witness", &[("input[name]", "build".into()), ("input[key_id]", key_id.clone()), ("input[description]", String::new())]).await;
    let cluster = call(&router, &cookie, "signature/create_cluster", &[("input[name]", "prod".into()), ("input[region]", "eu".into()), ("input[namespaces]", "shop".into())]).await;
    let hook = call(&router, &cookie, "signature/get_hook_instructions", &[("id", cluster.to_string())]).await;
    let hook_url = hook["url"].as_str().unwrap();
    let path = hook_url[hook_url.find("/api/").unwrap()..].to_string();
    let base = serve(router.clone()).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build().unwrap();
    let hook = format!("{base}{path}");
    client.post(&hook).header("Content-Type", "application/json").body(pod_review(0, &[])).send().await.unwrap();
    call(&router, &cookie, "signature/save_policy", &policy_form(&witness, &cluster)).await;

    // Images: the 5 of the cached pod, and 5 fresh ones for every uncached review.
    let image = |name: &str, n: usize| format!("registry.example.com/shop/{name}@{}", digest_of(&format!("{name}-{n}")));
    let rounds = requests * 2 + 1;
    let started = Instant::now();
    for n in 0..rounds {
        for name in IMAGES {
            call(&router, &cookie, "signature/sign_image", &[("input[witness]", "build".into()), ("input[image]", image(name, n)), ("input[publish]", "false".into())]).await;
        }
    }
    let signed = rounds * IMAGES.len();
    println!("   signed {signed} images through the console in {:.1} s ({:.0}/s)", started.elapsed().as_secs_f64(), signed as f64 / started.elapsed().as_secs_f64());
    let cached_pod: Vec<String> = IMAGES.iter().map(|name| image(name, 0)).collect();
    let fresh = |range: std::ops::Range<usize>| range.map(|n| pod_review(n, &IMAGES.iter().map(|name| image(name, n)).collect::<Vec<_>>())).collect::<Vec<_>>();

    // Warm the cache and the connection pool.
    latency(&client, &hook, (0..50).map(|n| pod_review(n, &cached_pod)).collect(), true).await;
    let (cached_p50, cached_p99) = latency(&client, &hook, (0..requests).map(|n| pod_review(n, &cached_pod)).collect(), true).await;
    let (fresh_p50, fresh_p99) = latency(&client, &hook, fresh(1..requests + 1), true).await;
    let cached_rps = throughput(&client, &hook, (0..requests).map(|n| pod_review(n, &cached_pod)).collect()).await;
    let fresh_rps = throughput(&client, &hook, fresh(requests + 1..rounds)).await;

    let echo = serve(Router::new().route("/echo", post(|Json(body): Json<Value>| async move { Json(body) }))).await;
    let echo = format!("{echo}/echo");
    latency(&client, &echo, (0..50).map(|n| pod_review(n, &cached_pod)).collect(), false).await;
    let (echo_p50, echo_p99) = latency(&client, &echo, (0..requests).map(|n| pod_review(n, &cached_pod)).collect(), false).await;
    let echo_rps = throughput(&client, &echo, (0..requests).map(|n| pod_review(n, &cached_pod)).collect()).await;

    // The same cached pod with the policy's vulnerability rule on: each image has a stored scan of
    // 300 findings (high and below), judged once and then kept until something changes.
    let token = call(&router, &cookie, "create_token", &[("name", "scans".into())]).await["token"].as_str().unwrap().to_string();
    for reference in &cached_pod {
        const SEVERITIES: [&str; 3] = ["HIGH", "MEDIUM", "LOW"];
        let findings: Vec<Value> = (0..300)
            .map(|n| json!({"VulnerabilityID": format!("CVE-2025-{n:05}"), "PkgName": format!("lib{}", n % 40), "InstalledVersion": "1.0-1",
                "FixedVersion": if n % 3 == 0 { "1.0-2" } else { "" }, "Severity": SEVERITIES[n % 3], "Title": "bench finding"}))
            .collect();
        let report = json!({"SchemaVersion": 2, "CreatedAt": "2026-12-01T00:00:00Z", "ArtifactType": "container_image",
            "Metadata": {"OS": {"Family": "debian", "Name": "12.5"}, "RepoDigests": [reference]},
            "Results": [{"Target": "os", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": findings}]});
        let stored = client.post(format!("{base}/api/v1/images/scans")).bearer_auth(&token).header("Content-Type", "application/json").body(report.to_string()).send().await.unwrap();
        assert_eq!(stored.status(), StatusCode::CREATED);
    }
    let policies = call(&router, &cookie, "signature/list_policies", &[]).await;
    let mut form = policy_form(&witness, &cluster);
    form.push(("input[id]", policies[0]["id"].to_string()));
    form.extend([
        ("input[vuln][action]", "refuse".into()),
        ("input[vuln][min_severity]", "critical".into()),
        ("input[vuln][fixable_only]", "false".into()),
        ("input[vuln][allowed_critical]", String::new()),
        ("input[vuln][allowed_high]", String::new()),
        ("input[vuln][allowed_medium]", String::new()),
        ("input[vuln][allowed_low]", String::new()),
        ("input[vuln][unscanned]", "refuse".into()),
    ]);
    call(&router, &cookie, "signature/save_policy", &form).await;
    latency(&client, &hook, (0..50).map(|n| pod_review(n, &cached_pod)).collect(), true).await;
    let (rule_p50, rule_p99) = latency(&client, &hook, (0..requests).map(|n| pod_review(n, &cached_pod)).collect(), true).await;
    let rule_rps = throughput(&client, &hook, (0..requests).map(|n| pod_review(n, &cached_pod)).collect()).await;

    // The console's CPU per review against the echo's, 4 clients at once through each router
    // (the bodies built before), the cached pod with the rule on.
    let bodies: Arc<Vec<axum::body::Bytes>> = Arc::new((0..1_000).map(|n| pod_review(n, &cached_pod).into()).collect());
    let review = |path: String, bodies: Arc<Vec<axum::body::Bytes>>| {
        move |n: usize| axum::http::Request::post(&path).header("Content-Type", "application/json").body(axum::body::Body::from(bodies[n % bodies.len()].clone())).unwrap()
    };
    let echo_router = Router::new().route("/echo", post(|Json(body): Json<Value>| async move { Json(body) }));
    // Over HTTP, as the API server calls: Apache Bench, 4 keep-alive connections.
    let pod = pod_review(0, &cached_pod);
    cpu_over_http(&echo, &pod, &[], 4, 500, 3).await;
    let echo_http = cpu_over_http(&echo, &pod, &[], 4, 500, CPU_SAMPLES).await;
    cpu_over_http(&hook, &pod, &[], 4, 500, 3).await;
    let hook_http = cpu_over_http(&hook, &pod, &[], 4, 500, CPU_SAMPLES).await;
    cpu_per_request(&echo_router, review("/echo".into(), bodies.clone()), 4, 200, 3).await;
    let (echo_cpu, echo_cpu95) = cpu_per_request(&echo_router, review("/echo".into(), bodies.clone()), 4, 200, CPU_SAMPLES).await;
    cpu_per_request(&router, review(path.clone(), bodies.clone()), 4, 200, 3).await;
    let (hook_cpu, hook_cpu95) = cpu_per_request(&router, review(path.clone(), bodies.clone()), 4, 200, CPU_SAMPLES).await;

    println!("   {:<34} {:>9} {:>9} {:>12} {:>16}", "", "p50 ms", "p99 ms", "req/s (16)", "p50 vs echo");
    for (name, p50, p99, rps) in [
        ("bare axum JSON echo", echo_p50, echo_p99, echo_rps),
        ("webhook, cached", cached_p50, cached_p99, cached_rps),
        ("webhook, cached, vulnerability rule", rule_p50, rule_p99, rule_rps),
        ("webhook, uncached (new images)", fresh_p50, fresh_p99, fresh_rps),
    ] {
        println!("   {name:<34} {p50:>9.2} {p99:>9.2} {rps:>12.0} {:>15.1}x", p50 / echo_p50);
    }
    match (echo_http, hook_http) {
        (Some(echo), Some(hook)) => cpu_table(&format!("over HTTP (ab -k -c 4), {CPU_SAMPLES} samples of 500"), echo, hook),
        _ => println!("   (ab is not installed: no CPU per review over HTTP)"),
    }
    cpu_table(&format!("4 clients through the router (no socket), {CPU_SAMPLES} samples of 200"), (echo_cpu, echo_cpu95), (hook_cpu, hook_cpu95));
    // The log is written in batches: what this console still holds is written first.
    bulwark::signature::decisions::flush(&db).await.unwrap();
    let decisions = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sig_decisions").fetch_one(&db.pool).await.unwrap();
    println!("   decisions recorded: {decisions}");
}

/// Console CPU per review, the echo's beside the webhook's: (p50, p95) µs each.
fn cpu_table(how: &str, echo: (f64, f64), hook: (f64, f64)) {
    println!("   console CPU per review, {how} (µs):");
    println!("   {:<34} {:>9} {:>9} {:>16}", "", "p50", "p95", "p50 vs echo");
    println!("   {:<34} {:>9.1} {:>9.1} {:>15.2}x", "bare axum JSON echo", echo.0, echo.1, 1.0);
    println!("   {:<34} {:>9.1} {:>9.1} {:>15.2}x (limit 1.50)", "webhook, cached, vulnerability rule", hook.0, hook.1, hook.0 / echo.0);
}

async fn signing(requests: usize) {
    println!("\n== Signing: RSASSA-PKCS1-v1_5 SHA-256, RSA_2048");
    let generated = kms::generate(KeySpec::Rsa2048).unwrap();
    let key = kms::PrivateKey::from_pkcs8(KeySpec::Rsa2048, &generated.private_pkcs8).unwrap();
    let payload = br#"{"critical":{"identity":{"docker-reference":"registry.example.com/shop/web"},"image":{"docker-manifest-digest":"sha256:2604318952e369ea3a3f2f8538abc46fab24fb653f3f146194b1cae2342d5086"},"type":"cosign container image signature"},"optional":null}"#;
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < Duration::from_secs(3) {
        key.sign_message(SigningAlgorithm::RsaPkcs1Sha256, payload).unwrap();
        count += 1;
    }
    let in_process = count as f64 / started.elapsed().as_secs_f64();

    // Through the signing API (sign a digest), one request at a time, as a pipeline step would.
    let dir = tempfile::tempdir().unwrap();
    let (_db, router, cookie, key_id) = signing_console(&format!("sqlite://{}/sign.db?mode=rwc", dir.path().display()), "CI").await;
    let token = call(&router, &cookie, "create_token", &[("name", "bench".into())]).await["token"].as_str().unwrap().to_string();
    let base = serve(router.clone()).await;
    let url = format!("{base}/api/v1/kms/keys/{key_id}/sign");
    let client = reqwest::Client::new();
    let body = json!({ "digest": BASE64.encode(Sha256::digest(payload)), "algorithm": "RSA_PKCS1_SHA_256" }).to_string();
    let started = Instant::now();
    for _ in 0..requests {
        let response = client.post(&url).bearer_auth(&token).header("Content-Type", "application/json").body(body.clone()).send().await.unwrap();
        assert!(response.status().is_success());
        response.bytes().await.unwrap();
    }
    let through_api = requests as f64 / started.elapsed().as_secs_f64();

    // The console's own CPU per signature over HTTP (Apache Bench, 4 keep-alive connections), and
    // through the router (no socket), 4 clients at once, 30 samples each.
    let bearer = [format!("Authorization: Bearer {token}")];
    cpu_over_http(&url, body.as_bytes(), &bearer, 4, 100, 3).await;
    let http = cpu_over_http(&url, body.as_bytes(), &bearer, 4, 100, CPU_SAMPLES).await;
    const CLIENTS: usize = 4;
    let path = format!("/api/v1/kms/keys/{key_id}/sign");
    let (authorization, body) = (format!("Bearer {token}"), axum::body::Bytes::from(body));
    let sign_request = move |_| {
        axum::http::Request::post(&path)
            .header("Authorization", &authorization)
            .header("Content-Type", "application/json")
            .body(axum::body::Body::from(body.clone()))
            .unwrap()
    };
    cpu_per_request(&router, sign_request.clone(), CLIENTS, 100, 3).await;
    let (cpu_p50, cpu_p95) = cpu_per_request(&router, sign_request, CLIENTS, 100, CPU_SAMPLES).await;

    let openssl = std::process::Command::new("openssl").args(["speed", "-seconds", "3", "rsa2048"]).output().ok();
    let openssl_sign = openssl.and_then(|o| {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        // "rsa 2048 bits 0.000691s 0.000020s   1446.5  49067.2": sign/s is the second-to-last column.
        let line = text.lines().find(|l| l.trim_start().starts_with("rsa 2048 bits") || l.trim_start().starts_with("rsa  2048 bits"))?.to_string();
        let columns: Vec<&str> = line.split_whitespace().collect();
        columns.get(columns.len().checked_sub(2)?)?.parse::<f64>().ok()
    });
    println!("   {:<36} {:>10}", "", "sign/s");
    println!("   {:<36} {:>10.0}", "key service, in process (1 thread)", in_process);
    println!("   {:<36} {:>10.0}", "signing API over HTTP (sequential)", through_api);
    match openssl_sign {
        Some(rate) => {
            println!("   {:<36} {:>10.0}", "openssl speed rsa2048 (1 thread)", rate);
            println!("   in process / openssl: {:.2}; API / openssl: {:.2}", in_process / rate, through_api / rate);
            println!(
                "   console CPU per signature through the API, {CLIENTS} clients, {CPU_SAMPLES} samples of 100: p50 {cpu_p50:.0} µs, p95 {cpu_p95:.0} µs; openssl's {:.0} µs; p50 ratio {:.2} (limit 1.25)",
                1e6 / rate,
                cpu_p50 * rate / 1e6
            );
            if let Some((http_p50, http_p95)) = http {
                println!(
                    "   console CPU per signature over HTTP (ab -k -c 4), {CPU_SAMPLES} samples of 100: p50 {http_p50:.0} µs, p95 {http_p95:.0} µs; p50 ratio {:.2} (limit 1.25)",
                    http_p50 * rate / 1e6
                );
            }
        }
        None => println!("   (openssl speed did not run)"),
    }
}

/// CPU time (user and system, all threads) this process has used, in nanoseconds resolution.
fn process_cpu() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into the pointer it is given, which is valid.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Samples of this process's CPU time per request: each sample is `per_sample` requests made
/// through `router` (no socket and no HTTP client, whose work would count too) by `clients`
/// tasks at once; the process's CPU time over them (the console's background tasks included),
/// divided by the requests. (p50, p95) in µs over `samples` samples.
async fn cpu_per_request<F>(router: &Router, request: F, clients: usize, per_sample: usize, samples: usize) -> (f64, f64)
where
    F: Fn(usize) -> axum::http::Request<axum::body::Body> + Send + Sync + Clone + 'static,
{
    let mut per_request = Vec::with_capacity(samples);
    for sample in 0..samples {
        let before = process_cpu();
        let mut tasks = Vec::with_capacity(clients);
        for client in 0..clients {
            let (router, request) = (router.clone(), request.clone());
            tasks.push(tokio::spawn(async move {
                use tower::ServiceExt;
                for n in 0..per_sample / clients {
                    let response = router.clone().oneshot(request(sample * per_sample + client * per_sample / clients + n)).await.unwrap();
                    assert!(response.status().is_success(), "{}", response.status());
                    axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        per_request.push((process_cpu() - before) / (per_sample / clients * clients) as u32);
    }
    p50_p95_us(per_request)
}

/// Samples of this process's CPU time per request served over loopback HTTP to Apache Bench
/// (`ab -k`, another process, so none of the client's work counts): each sample is one run of
/// `per_sample` POSTs of `body` from `clients` keep-alive connections. (p50, p95) in µs, or
/// `None` without `ab` (apache2-utils).
async fn cpu_over_http(url: &str, body: &[u8], headers: &[String], clients: usize, per_sample: usize, samples: usize) -> Option<(f64, f64)> {
    let file = tempfile::NamedTempFile::new().ok()?;
    std::fs::write(file.path(), body).ok()?;
    let mut per_request = Vec::with_capacity(samples);
    for _ in 0..samples {
        let mut command = tokio::process::Command::new("ab");
        command.args(["-k", "-q", "-c", &clients.to_string(), "-n", &per_sample.to_string(), "-T", "application/json", "-p"]).arg(file.path());
        for header in headers {
            command.args(["-H", header]);
        }
        let before = process_cpu();
        let output = command.arg(url).output().await.ok()?;
        let spent = process_cpu() - before;
        let text = String::from_utf8_lossy(&output.stdout);
        let failed = text.lines().find_map(|l| l.strip_prefix("Failed requests:")).map(str::trim);
        let non_2xx = text.lines().any(|l| l.starts_with("Non-2xx responses:"));
        assert!(output.status.success() && failed == Some("0") && !non_2xx, "ab against {url}: {text}");
        per_request.push(spent / per_sample as u32);
    }
    Some(p50_p95_us(per_request))
}

#[tokio::main]
async fn main() {
    let args = args();
    let requests = args.requests;
    if args.only.as_deref() != Some("signing") {
        on_each_database(args.pg.as_deref(), |label, url| webhook(label, url, requests)).await;
    }
    if args.only.as_deref() != Some("webhook") {
        signing(requests.min(500)).await;
    }
}
