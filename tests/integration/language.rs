//! The console's language: the user's stored choice, else the browser's Accept-Language, else
//! English; the server renders the page in it, `<html lang>` included, so hydration matches.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use bulwark::auth::model::Role;
use bulwark::editions::Edition;

use crate::common::{set_cookie, Response, Session, TestApp};

/// A page load with extra headers (cookies beside the session, Accept-Language).
async fn page(app: &TestApp, session: Option<&Session>, path: &str, language_cookie: Option<&str>, accept: Option<&str>) -> Response {
    let mut request = Request::builder().uri(path).header(header::ACCEPT, "text/html");
    let cookies: Vec<String> = session.map(|s| s.0.clone()).into_iter().chain(language_cookie.map(|c| format!("bulwark_lang={c}"))).collect();
    if !cookies.is_empty() {
        request = request.header(header::COOKIE, cookies.join("; "));
    }
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT_LANGUAGE, accept);
    }
    let mut response = app.request(request.body(Body::empty()).unwrap()).await;
    // Without hydration markers, so the text reads as a user sees it.
    response.body = response.body.replace("<!>", "");
    response
}

fn language_cookie(response: &Response) -> Option<String> {
    set_cookie(response, "bulwark_lang")
}

/// Without a choice, the browser's Accept-Language decides; an unknown language is English.
#[tokio::test(flavor = "multi_thread")]
async fn accept_language_chooses_until_the_user_does() {
    let app = TestApp::new().await;

    let chinese = page(&app, None, "/sign-in", None, Some("zh-CN,zh;q=0.9,en;q=0.5")).await;
    // Verify the page, its lang attribute and its form are in Chinese.
    assert_eq!(chinese.status, StatusCode::OK);
    assert!(chinese.body.contains(r#"<html lang="zh-CN""#), "{}", &chinese.body[..chinese.body.len().min(600)]);
    assert!(chinese.body.contains("<h1>登录</h1>"), "{}", chinese.body);
    assert!(chinese.body.contains(">邮箱</label>"));

    for accept in [None, Some("fr-FR,fr;q=0.9"), Some("en-GB")] {
        let english = page(&app, None, "/sign-in", None, accept).await;
        // Verify anything else falls back to English.
        assert!(english.body.contains(r#"<html lang="en""#), "{accept:?}");
        assert!(english.body.contains("<h1>Sign in</h1>"), "{accept:?}");
        assert!(!english.body.contains("登录"), "{accept:?}");
    }

    // Verify the language cookie wins over the header, both ways.
    let cookie_zh = page(&app, None, "/sign-in", Some("zh-CN"), Some("en-US")).await;
    assert!(cookie_zh.body.contains("<h1>登录</h1>"));
    let cookie_en = page(&app, None, "/sign-in", Some("en"), Some("zh-CN")).await;
    assert!(cookie_en.body.contains("<h1>Sign in</h1>"));
}

/// A user's choice is stored and follows them: signing in anywhere sets the language cookie,
/// and the console's pages render in it.
#[tokio::test(flavor = "multi_thread")]
async fn the_chosen_language_is_stored_per_user() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Enterprise, Role::Viewer).await;
    let viewer = app.sign_in(&email).await;

    let saved = app.call(Some(&viewer), "set_language", &[("language", "zh-CN")]).await;
    // Verify a viewer may choose their own language, and the answer sets the cookie.
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let cookie = language_cookie(&saved).expect("a language cookie");
    assert!(cookie.starts_with("bulwark_lang=zh-CN;") && cookie.contains("Path=/"), "{cookie}");
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM users WHERE email = '{email}' AND locale = 'zh-CN'")).await, 1);

    // Verify a new sign-in (another browser: no cookie) gets the stored language back.
    let response = app.call(None, "sign_in", &[("email", &email), ("password", crate::common::PASSWORD)]).await;
    assert!(language_cookie(&response).expect("set at sign-in").starts_with("bulwark_lang=zh-CN;"));

    let overview = page(&app, Some(&viewer), "/", Some("zh-CN"), Some("en-US")).await;
    // Verify the console renders in Chinese: navigation, header, page.
    assert_eq!(overview.status, StatusCode::OK);
    assert!(overview.body.contains(r#"<html lang="zh-CN""#));
    for text in ["资产中心", "安全报告", "退出登录", "只读用户", "企业版", "<h1>总览</h1>", "安全评分", "严重"] {
        assert!(overview.body.contains(text), "{text} missing");
    }
    assert!(!overview.body.contains(">Sign out<"));
}

/// Only the console's languages are accepted, and only from a signed-in user.
#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_language_is_refused() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;

    for bad in ["fr", "", "zh-cn; Path=/evil", "zh-CN\r\nSet-Cookie: x=1"] {
        let refused = app.call(Some(&admin), "set_language", &[("language", bad)]).await;
        // Verify a 422 naming the field, nothing stored and no cookie sent.
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {}", refused.body);
        assert!(refused.json()["Validation"]["language"].as_str().unwrap().contains("zh-CN"));
        assert!(language_cookie(&refused).is_none());
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE locale IS NOT NULL").await, 0);

    let anonymous = app.call(None, "set_language", &[("language", "zh-CN")]).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(language_cookie(&anonymous).is_none());
}

/// The sign-in form's own messages follow the same choice: the cookie, else Accept-Language
/// by its weights, else English.
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_messages_follow_the_language() {
    let app = TestApp::new().await;
    let empty = |cookie: Option<&'static str>, accept: &'static str| {
        let mut request = Request::builder()
            .method(axum::http::Method::POST)
            .uri("/api/sign_in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::ACCEPT_LANGUAGE, accept);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.body(Body::from("email=&password=")).unwrap()
    };
    let cases = [
        (None, "zh-CN,zh;q=0.9", "请输入密码。", "请输入邮箱地址。"),
        (None, "fr;q=1, en;q=0.8, zh;q=0.5", "Enter your password.", "Enter your email address."),
        (None, "en;q=0.4, zh-TW;q=0.9", "请输入密码。", "请输入邮箱地址。"),
        (Some("bulwark_lang=en"), "zh-CN", "Enter your password.", "Enter your email address."),
        (Some("other=1; bulwark_lang=zh-CN"), "en", "请输入密码。", "请输入邮箱地址。"),
    ];
    for (cookie, accept, password, email) in cases {
        let refused = app.request(empty(cookie, accept)).await;
        // Verify a 422 with each field's message in the chosen language.
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{accept}");
        assert_eq!(refused.json()["Validation"]["password"], password, "{cookie:?} {accept}");
        assert_eq!(refused.json()["Validation"]["email"], email, "{cookie:?} {accept}");
    }
}

/// The SMTP test email is written in the language of the admin who sends it: the page's.
#[tokio::test(flavor = "multi_thread")]
async fn the_test_email_is_written_in_the_senders_language() {
    let app = TestApp::new().await;
    let sink = crate::common::SmtpSink::start();
    let (_, email) = app.account("Post", Edition::Advanced, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let saved = app.call(Some(&admin), "save_smtp_settings", &crate::common::form(&sink.settings_form())).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let chinese = Session(format!("{}; bulwark_lang=zh-CN", admin.0));
    let sent = app.call(Some(&chinese), "send_test_email", &[("to", "ops@example.test")]).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let raw = sink.messages().remove(0).raw;
    let (subject, text) = decoded(&raw);
    assert_eq!(subject, "[Bulwark] 测试邮件");
    assert!(text.contains(&format!("这是一封来自 Bulwark 的测试邮件，由 {email} 为账号 Post 发送。")), "{text}");
}

/// The subject (RFC 2047 encoded words) and the text body (base64 or plain) of a raw message.
pub fn decoded(raw: &str) -> (String, String) {
    use base64::Engine;
    let b64 = |s: &str| String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s.split_whitespace().collect::<String>()).unwrap()).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let subject_line = unfolded.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap();
    let subject: String = subject_line
        .split_whitespace()
        .map(|word| match word.strip_prefix("=?utf-8?b?").or_else(|| word.strip_prefix("=?UTF-8?B?")).and_then(|w| w.strip_suffix("?=")) {
            Some(encoded) => b64(encoded),
            None => format!("{word} "),
        })
        .collect();
    let text = if unfolded.contains("Content-Transfer-Encoding: base64") { b64(body) } else { body.to_string() };
    (subject.trim().to_string(), text)
}

/// Validation messages and refusals the server writes follow the language cookie: a model's
/// check, one with a value filled in, and a refusal from the storage layer; English without it.
#[tokio::test(flavor = "multi_thread")]
async fn server_messages_follow_the_language() {
    let app = TestApp::new().await;
    let (_, email) = app.account("Alpha", Edition::Basic, Role::Admin).await;
    let admin = app.sign_in(&email).await;
    let chinese = Session(format!("{}; bulwark_lang=zh-CN", admin.0));
    let admin_id = app.count(&format!("SELECT id FROM users WHERE email = '{email}'")).await.to_string();

    let fields = [
        ("create_token", ("name", "  "), "name", "Name the token after what uses it, e.g. \"vulnerability scanner\".", "请按用途为令牌命名，例如“漏洞扫描器”。"),
        (
            "set_time_zone",
            ("time_zone", "Mars/Olympus"),
            "time_zone",
            "\u{201c}Mars/Olympus\u{201d} is not an IANA time zone such as Europe/Berlin or UTC.",
            "“Mars/Olympus”不是 IANA 时区名称（例如 Asia/Shanghai 或 UTC）。",
        ),
    ];
    for (function, argument, field, english, zh) in fields {
        let refused = app.call(Some(&chinese), function, &[argument]).await;
        // Verify a 422 naming the field, in Chinese with the cookie and in English without it.
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{function}: {}", refused.body);
        assert_eq!(refused.json()["Validation"][field], zh, "{function}");
        let refused = app.call(Some(&admin), function, &[argument]).await;
        assert_eq!(refused.json()["Validation"][field], english, "{function}");
    }

    let last_admin = app.call(Some(&chinese), "set_user_role", &[("id", &admin_id), ("role", "viewer")]).await;
    // Verify a refusal written below the server function speaks the reader's language too, and nothing changed.
    assert_eq!(last_admin.status, StatusCode::CONFLICT);
    assert_eq!(last_admin.json()["Conflict"], "账号至少需要一名管理员：请先将其他用户设为管理员。");
    let last_admin = app.call(Some(&admin), "set_user_role", &[("id", &admin_id), ("role", "viewer")]).await;
    assert_eq!(last_admin.json()["Conflict"], "An account needs at least one admin: make another user an admin first.");
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM users WHERE email = '{email}' AND role = 'admin'")).await, 1);
}

/// Container signature speaks the reader's language too: a form's validation messages, and a
/// refusal written where the witness's key is looked up, quoting the key's spec; English without the cookie.
#[tokio::test(flavor = "multi_thread")]
async fn signature_messages_follow_the_language() {
    let app = TestApp::new().await;
    let (_, admin) = crate::signature::enterprise(&app, "Alpha").await;
    let chinese = Session(format!("{}; bulwark_lang=zh-CN", admin.0));

    let empty = [("input[vulnerability_id]", ""), ("input[reason]", " "), ("input[expires_on]", "")];
    let refused = app.call(Some(&chinese), "signature/create_vuln_exception", &empty).await;
    // Verify a 422 naming each field, in Chinese with the cookie and in English without it.
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let fields = refused.json()["Validation"].clone();
    assert_eq!(fields["vulnerability_id"], "请输入漏洞编号，例如 CVE-2024-3094。");
    assert_eq!(fields["reason"], "请说明允许该漏洞通过的原因。");
    assert_eq!(fields["expires_on"], "请选择例外的最后生效日（YYYY-MM-DD）。");
    let fields = app.call(Some(&admin), "signature/create_vuln_exception", &empty).await.json()["Validation"].clone();
    assert_eq!(fields["vulnerability_id"], "Enter the vulnerability id, e.g. CVE-2024-3094.");
    assert_eq!(fields["expires_on"], "Choose the last day the exception applies (YYYY-MM-DD).");

    let key_id = crate::signature::key(&app, &admin, "big", "RSA_3072", "SIGN/VERIFY").await;
    let witness = [("input[name]", "ci"), ("input[key_id]", key_id.as_str()), ("input[description]", "")];
    let refused = app.call(Some(&chinese), "signature/create_witness", &witness).await;
    // Verify the refusal from below the server function is in Chinese with the value filled in, and no witness was made.
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.json()["Validation"]["key_id"], "见证者需要 RSA_2048 密钥；该密钥为 RSA_3072。");
    let refused = app.call(Some(&admin), "signature/create_witness", &witness).await;
    assert_eq!(refused.json()["Validation"]["key_id"], "A witness needs an RSA_2048 key; this key is RSA_3072.");
    assert_eq!(app.count("SELECT COUNT(*) FROM sig_witnesses").await, 0);
}
