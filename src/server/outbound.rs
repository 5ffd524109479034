//! The one policy for every request the console sends to an address a user typed: DingTalk
//! robots, container registries (and their token services), an account's SMTP server.
//!
//! - Destinations are checked after DNS resolution, and the connection goes to the checked
//!   addresses only (the HTTP client resolves through [`PolicyResolver`]), so a name that
//!   resolves to a private address is refused however it is spelled, and DNS cannot change its
//!   answer between the check and the connection.
//! - Refused: loopback, private, link-local (cloud metadata at 169.254.169.254), CGNAT
//!   (100.100.100.200), multicast, unspecified, broadcast and reserved addresses, IPv4 and IPv6,
//!   including IPv4 inside IPv6 (mapped, compatible, NAT64, 6to4).
//! - The operator allows named hosts or networks with `BULWARK_OUTBOUND_ALLOW` (for an
//!   on-premises gateway, a registry on the internal network, and the tests' loopback
//!   receivers); nothing is allowed by default.
//! - DingTalk robots post only over https to the hosts in `BULWARK_DINGTALK_HOSTS` (default
//!   `oapi.dingtalk.com`).
//! - No redirects unless a caller asks for checked ones; short timeouts; bodies read up to a cap.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::Url;

pub const ALLOW_ENV: &str = "BULWARK_OUTBOUND_ALLOW";
pub const DINGTALK_ENV: &str = "BULWARK_DINGTALK_HOSTS";
pub const DEFAULT_DINGTALK_HOST: &str = "oapi.dingtalk.com";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a destination was refused. The message names the host, not the address it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{host} is not a public address; this console only sends to public addresses unless its operator allows the host in {ALLOW_ENV}")]
    Blocked { host: String },
    #[error("the host name {host} could not be resolved")]
    Unresolved { host: String },
    #[error("only http and https URLs can be used, not {scheme}")]
    Scheme { scheme: String },
    #[error("the redirect to {host} was not followed")]
    Redirect { host: String },
}

/// A host a DingTalk robot may post to; plain http only when the operator wrote `http://`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RobotHost {
    plain_http: bool,
    host: String,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundPolicy {
    allowed_hosts: Vec<String>,
    allowed_nets: Vec<IpNet>,
    robot_hosts: Vec<RobotHost>,
}

impl Default for OutboundPolicy {
    /// Public addresses only; DingTalk robots on `oapi.dingtalk.com`.
    fn default() -> Self {
        OutboundPolicy { allowed_hosts: Vec::new(), allowed_nets: Vec::new(), robot_hosts: vec![robot_host(DEFAULT_DINGTALK_HOST).expect("a valid default")] }
    }
}

/// `host`, `host:port` or `http://host[:port]`.
fn robot_host(entry: &str) -> Option<RobotHost> {
    let entry = entry.trim().to_ascii_lowercase();
    let (plain_http, rest) = match entry.strip_prefix("http://") {
        Some(rest) => (true, rest),
        None => (false, entry.strip_prefix("https://").unwrap_or(&entry)),
    };
    let rest = rest.trim_end_matches('/');
    let url = Url::parse(&format!("https://{rest}/")).ok()?;
    let host = url.host_str()?.trim_start_matches('[').trim_end_matches(']').to_string();
    (!host.is_empty() && url.path() == "/" && url.username().is_empty()).then_some(RobotHost { plain_http, host, port: url.port() })
}

impl OutboundPolicy {
    /// Reads the operator's two settings; an entry that does not parse is reported and left out
    /// (the policy then allows less, never more).
    pub fn from_env() -> OutboundPolicy {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let (policy, problems) = OutboundPolicy::parse(var(ALLOW_ENV).as_deref().unwrap_or(""), var(DINGTALK_ENV).as_deref());
        for problem in problems {
            eprintln!("warning: {problem}");
        }
        policy
    }

    /// `allow`: host names, addresses and CIDRs, separated by commas or spaces. `robots`: the
    /// DingTalk hosts (default `oapi.dingtalk.com`). Returns the policy and each entry left out.
    pub fn parse(allow: &str, robots: Option<&str>) -> (OutboundPolicy, Vec<String>) {
        let mut policy = OutboundPolicy { allowed_hosts: Vec::new(), allowed_nets: Vec::new(), robot_hosts: Vec::new() };
        let mut problems = Vec::new();
        let entries = |text: &str| text.split([',', ' ', '\n']).map(str::trim).filter(|e| !e.is_empty()).map(str::to_string).collect::<Vec<_>>();
        for entry in entries(allow) {
            if let Ok(net) = entry.parse::<IpNet>() {
                policy.allowed_nets.push(net.trunc());
            } else if let Ok(ip) = entry.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
                policy.allowed_nets.push(IpNet::from(ip));
            } else if !entry.contains(['/', ':', '@']) && entry.len() <= 253 {
                policy.allowed_hosts.push(entry.trim_end_matches('.').to_ascii_lowercase());
            } else {
                problems.push(format!("{ALLOW_ENV}: {entry:?} is not a host name, address or CIDR; left out"));
            }
        }
        for entry in entries(robots.unwrap_or(DEFAULT_DINGTALK_HOST)) {
            match robot_host(&entry) {
                Some(host) => policy.robot_hosts.push(host),
                None => problems.push(format!("{DINGTALK_ENV}: {entry:?} is not a host, host:port or http://host; left out")),
            }
        }
        (policy, problems)
    }

    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Whether the console may connect to `ip`, which `host` named or resolved to.
    pub fn permits(&self, host: &str, ip: IpAddr) -> bool {
        self.host_allowed(host) || self.allowed_nets.iter().any(|net| net.contains(&ip)) || blocked_range(ip).is_none()
    }

    fn check_address(&self, host: &str, ip: IpAddr) -> Result<(), Refused> {
        if self.permits(host, ip) {
            return Ok(());
        }
        tracing::info!(host, address = %ip, range = blocked_range(ip).unwrap_or_default(), "outbound request refused");
        Err(Refused::Blocked { host: host.to_string() })
    }

    /// The checks a URL can pass before any connection: the scheme, and an address written in
    /// the URL itself (names are checked when they resolve).
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::Scheme { scheme: url.scheme().to_string() });
        }
        let host = url.host_str().unwrap_or_default();
        if host.is_empty() {
            return Err(Refused::Unresolved { host: url.to_string() });
        }
        match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            Ok(ip) => self.check_address(host, ip),
            Err(_) => Ok(()),
        }
    }

    /// Resolves `host` and keeps the addresses the policy permits; refused when none is left.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Refused> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            self.check_address(bare, ip)?;
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let found: Vec<SocketAddr> = match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::lookup_host((bare, port))).await {
            Ok(Ok(addresses)) => addresses.collect(),
            _ => return Err(Refused::Unresolved { host: bare.to_string() }),
        };
        if found.is_empty() {
            return Err(Refused::Unresolved { host: bare.to_string() });
        }
        let permitted: Vec<SocketAddr> = found.iter().copied().filter(|a| self.permits(bare, a.ip())).collect();
        if permitted.is_empty() {
            return Err(self.check_address(bare, found[0].ip()).expect_err("no address is permitted"));
        }
        Ok(permitted)
    }

    /// Whether a DingTalk robot may post to `url`: https (or http where the operator wrote
    /// `http://host`) on one of the operator's DingTalk hosts. The error is for the form field.
    pub fn robot_url(&self, url: &str) -> Result<Url, String> {
        let parsed = Url::parse(url.trim()).map_err(|_| "This is not a webhook URL.".to_string())?;
        let host = parsed.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let listed = |plain_http: bool| {
            self.robot_hosts.iter().any(|r| r.host == host && r.plain_http == plain_http && r.port.is_none_or(|p| parsed.port_or_known_default() == Some(p)))
        };
        let allowed = match parsed.scheme() {
            "https" => listed(false) || listed(true),
            "http" => listed(true),
            _ => false,
        };
        if allowed {
            return Ok(parsed);
        }
        let hosts: Vec<String> = self.robot_hosts.iter().filter(|r| !r.plain_http).map(|r| r.host.clone()).collect();
        Err(if parsed.scheme() != "https" {
            "Use an https:// URL.".to_string()
        } else if hosts.is_empty() {
            format!("This console sends to no DingTalk host; its operator can name them in {DINGTALK_ENV}.")
        } else {
            format!("DingTalk robots post to {}; the console's operator can allow other hosts in {DINGTALK_ENV}.", hosts.join(", "))
        })
    }
}

/// Which kind of non-public address `ip` is, or `None` for a public one.
pub fn blocked_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn blocked_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match () {
        _ if ip.is_unspecified() || a == 0 => "unspecified",
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_private() => "private",
        _ if ip.is_link_local() => "link-local",
        _ if a == 100 && (64..128).contains(&b) => "shared (CGNAT)",
        _ if ip.is_multicast() => "multicast",
        _ if ip.is_broadcast() || a >= 240 => "reserved",
        _ if a == 192 && b == 0 && c == 0 => "IETF protocol",
        _ if a == 198 && (18..20).contains(&b) => "benchmarking",
        _ if ip.is_documentation() => "documentation",
        _ => return None,
    })
}

fn blocked_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    // IPv4 carried inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64
    // (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return blocked_v4(v4).or(Some("IPv4-mapped"));
    }
    if segments[..6] == [0; 6] && !ip.is_unspecified() && !ip.is_loopback() {
        return blocked_v4(embedded(segments[6], segments[7])).or(Some("IPv4-compatible"));
    }
    if segments[..2] == [0x64, 0xff9b] {
        return blocked_v4(embedded(segments[6], segments[7]));
    }
    if segments[0] == 0x2002 {
        return blocked_v4(embedded(segments[1], segments[2]));
    }
    Some(match () {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_unique_local() => "private (unique local)",
        _ if ip.is_unicast_link_local() || segments[0] & 0xffc0 == 0xfec0 => "link-local",
        _ if ip.is_multicast() => "multicast",
        _ if segments[0] == 0x2001 && segments[1] == 0x0db8 => "documentation",
        _ if segments[0] == 0x0100 && segments[1..4] == [0, 0, 0] => "discard",
        _ => return None,
    })
}

/// reqwest's resolver for the console's outbound clients: the system's answer, filtered.
struct PolicyResolver(Arc<OutboundPolicy>);

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let addresses = policy.resolve(name.as_str(), 0).await?;
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether a client follows redirects.
#[derive(Debug, Clone, Copy)]
pub enum Redirects {
    /// Never (webhooks): the answer is the status of the URL the user gave.
    None,
    /// Up to this many, each checked by the policy and never from https to http (registries
    /// send blob downloads to their storage).
    Checked(usize),
}

/// An HTTP client bound to the policy. Requests are made through [`Outbound::request`].
#[derive(Clone)]
pub struct Outbound {
    policy: Arc<OutboundPolicy>,
    client: reqwest::Client,
}

impl Outbound {
    pub fn new(policy: Arc<OutboundPolicy>, redirects: Redirects, timeout: Duration) -> Result<Outbound, String> {
        let redirect = match redirects {
            Redirects::None => reqwest::redirect::Policy::none(),
            Redirects::Checked(limit) => {
                let policy = policy.clone();
                reqwest::redirect::Policy::custom(move |attempt| {
                    let host = attempt.url().host_str().unwrap_or_default().to_string();
                    let downgrade = attempt.url().scheme() == "http" && attempt.previous().iter().any(|u| u.scheme() == "https");
                    if attempt.previous().len() > limit || downgrade {
                        attempt.error(Refused::Redirect { host })
                    } else if let Err(refused) = policy.check_url(attempt.url()) {
                        attempt.error(refused)
                    } else {
                        attempt.follow()
                    }
                })
            }
        };
        let client = reqwest::Client::builder()
            .user_agent(concat!("bulwark/", env!("CARGO_PKG_VERSION")))
            .no_proxy()
            .redirect(redirect)
            .dns_resolver(Arc::new(PolicyResolver(policy.clone())))
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Outbound { policy, client })
    }

    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// A request to `url`, refused before any connection when the URL names a refused address.
    pub fn request(&self, method: reqwest::Method, url: Url) -> Result<reqwest::RequestBuilder, Refused> {
        self.policy.check_url(&url)?;
        Ok(self.client.request(method, url))
    }
}

/// The policy's refusal inside a transport error, if that is why it failed.
pub fn refusal(error: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        current = e.source();
    }
    None
}

/// Reads a body up to `limit` bytes; `None` when it is longer.
pub async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

#[cfg(test)]
#[path = "outbound_tests.rs"]
mod tests;
