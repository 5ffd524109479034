use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn non_public_addresses_are_refused_in_both_families() {
    for (address, range) in [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.100.100.200", "shared (CGNAT)"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("255.255.255.255", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fd00:ec2::254", "private (unique local)"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("2002:7f00:1::", "loopback"),
    ] {
        assert_eq!(blocked_range(ip(address)), Some(range), "{address}");
    }
    for public in ["93.184.216.34", "8.8.8.8", "100.128.0.1", "2606:4700::1111"] {
        assert_eq!(blocked_range(ip(public)), None, "{public}");
    }
    // IPv4 spelled as IPv6 is refused even when public: nothing legitimate needs it.
    assert_eq!(blocked_range(ip("::ffff:8.8.8.8")), Some("IPv4-mapped"));
}

#[test]
fn the_default_allows_nothing_private_and_the_operator_allows_by_name_or_network() {
    let strict = OutboundPolicy::default();
    assert!(!strict.permits("localhost", ip("127.0.0.1")));
    assert!(strict.permits("example.com", ip("93.184.216.34")));

    let (policy, problems) = OutboundPolicy::parse("127.0.0.1, 10.20.0.0/16 gateway.corp.example, ::1", None);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(policy.permits("127.0.0.1", ip("127.0.0.1")));
    assert!(policy.permits("x", ip("10.20.3.4")));
    assert!(!policy.permits("x", ip("10.21.0.1")));
    assert!(policy.permits("Gateway.corp.example.", ip("10.99.0.1")));
    assert!(!policy.permits("other.corp.example", ip("10.99.0.1")));
    assert!(policy.permits("::1", ip("::1")));
    assert!(!policy.permits("x", ip("169.254.169.254")));

    let (policy, problems) = OutboundPolicy::parse("10.0.0.0/33, http://x/, ok.example", Some("http://a/b"));
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert_eq!(policy.allowed_hosts, vec!["ok.example".to_string()]);
    assert!(policy.robot_hosts.is_empty());
}

#[test]
fn urls_with_refused_addresses_fail_before_connecting() {
    let strict = OutboundPolicy::default();
    for url in ["http://169.254.169.254/latest/meta-data/", "https://[::ffff:a9fe:a9fe]/", "http://127.0.0.1:2375/", "http://[::1]/", "http://0.0.0.0/"] {
        assert!(matches!(strict.check_url(&Url::parse(url).unwrap()), Err(Refused::Blocked { .. })), "{url}");
    }
    assert!(matches!(strict.check_url(&Url::parse("file:///etc/passwd").unwrap()), Err(Refused::Scheme { .. })));
    assert!(strict.check_url(&Url::parse("https://registry.example.com/v2/").unwrap()).is_ok());
}

#[tokio::test]
async fn names_are_checked_after_they_resolve() {
    let strict = OutboundPolicy::default();
    assert_eq!(strict.resolve("localhost", 25).await, Err(Refused::Blocked { host: "localhost".into() }));
    let (allowed, _) = OutboundPolicy::parse("localhost", None);
    let addresses = allowed.resolve("localhost", 25).await.unwrap();
    assert!(addresses.iter().all(|a| a.ip().is_loopback() && a.port() == 25), "{addresses:?}");
    assert!(matches!(strict.resolve("no-such-host.invalid", 25).await, Err(Refused::Unresolved { .. })));
}

#[test]
fn robots_post_over_https_to_the_operators_hosts() {
    let default = OutboundPolicy::default();
    assert!(default.robot_url("https://oapi.dingtalk.com/robot/send?access_token=abc").is_ok());
    assert!(default.robot_url("HTTPS://OAPI.DINGTALK.COM/robot/send?access_token=abc").is_ok());
    assert_eq!(default.robot_url("http://oapi.dingtalk.com/robot/send").unwrap_err(), "Use an https:// URL.");
    assert_eq!(
        default.robot_url("https://evil.example/robot/send").unwrap_err(),
        "DingTalk robots post to oapi.dingtalk.com; the console's operator can allow other hosts in BULWARK_DINGTALK_HOSTS."
    );
    assert_eq!(default.robot_url("http://127.0.0.1:8080/robot").unwrap_err(), "Use an https:// URL.");
    assert_eq!(default.robot_url("not a url").unwrap_err(), "This is not a webhook URL.");

    let (gateway, _) = OutboundPolicy::parse("", Some("oapi.dingtalk.com, http://127.0.0.1, robots.corp.example:8443"));
    assert!(gateway.robot_url("http://127.0.0.1:9999/robot/send").is_ok());
    assert!(gateway.robot_url("https://robots.corp.example:8443/send").is_ok());
    assert!(gateway.robot_url("https://robots.corp.example/send").is_err());
    assert_eq!(gateway.robot_url("http://oapi.dingtalk.com/robot/send").unwrap_err(), "Use an https:// URL.");
}
