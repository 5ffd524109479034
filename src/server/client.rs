//! The client address of a request, for limits that count per client: the TCP peer, or, when the
//! peer is one of the operator's trusted proxies (`BULWARK_TRUSTED_PROXIES`), the rightmost
//! `X-Forwarded-For` address that is not itself a trusted proxy.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

pub const TRUSTED_PROXIES_ENV: &str = "BULWARK_TRUSTED_PROXIES";

/// The networks whose `X-Forwarded-For` the console believes. Empty by default: the peer is the client.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Addresses and CIDRs separated by commas or spaces; returns the list and each entry left out.
    pub fn parse(list: &str) -> (TrustedProxies, Vec<String>) {
        let mut nets = Vec::new();
        let mut problems = Vec::new();
        for entry in list.split([',', ' ', '\n']).map(str::trim).filter(|e| !e.is_empty()) {
            if let Ok(net) = entry.parse::<IpNet>() {
                nets.push(net.trunc());
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                nets.push(IpNet::from(canonical(ip)));
            } else {
                problems.push(format!("{TRUSTED_PROXIES_ENV}: {entry:?} is not an address or CIDR; left out"));
            }
        }
        (TrustedProxies(nets), problems)
    }

    pub fn from_env() -> TrustedProxies {
        let (proxies, problems) = TrustedProxies::parse(&std::env::var(TRUSTED_PROXIES_ENV).unwrap_or_default());
        for problem in problems {
            eprintln!("warning: {problem}");
        }
        proxies
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: `forwarded` are the request's `X-Forwarded-For` header values in
    /// order. Only hops appended by trusted proxies are believed, so a client cannot pick its own
    /// address by sending the header; an entry that does not parse ends the walk at the last
    /// address known to be real.
    pub fn client<'a>(&self, peer: IpAddr, forwarded: impl IntoIterator<Item = &'a str>) -> IpAddr {
        let mut client = canonical(peer);
        if !self.contains(client) {
            return client;
        }
        let hops: Vec<&str> = forwarded.into_iter().flat_map(|value| value.split(',')).map(str::trim).collect();
        for hop in hops.into_iter().rev() {
            let Some(ip) = parse_hop(hop) else { break };
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        client
    }
}

/// An `X-Forwarded-For` entry: an address, perhaps with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .or_else(|_| hop.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>())
        .ok()
        .map(canonical)
}

/// IPv4 written inside IPv6 (`::ffff:1.2.3.4`) counts as the IPv4 address it carries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(list: &str) -> TrustedProxies {
        let (proxies, problems) = TrustedProxies::parse(list);
        assert!(problems.is_empty(), "{problems:?}");
        proxies
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("203.0.113.7"), ["198.51.100.1"]), ip("203.0.113.7"));
        let some = proxies("10.0.0.0/8");
        assert_eq!(some.client(ip("203.0.113.7"), ["10.0.0.1, 198.51.100.1"]), ip("203.0.113.7"));
    }

    #[test]
    fn a_trusted_peer_names_the_rightmost_untrusted_hop() {
        let trusted = proxies("10.0.0.0/8, 192.0.2.10");
        // The client wrote the first entry itself; the proxies appended the rest.
        assert_eq!(trusted.client(ip("10.0.0.2"), ["6.6.6.6, 198.51.100.4, 192.0.2.10"]), ip("198.51.100.4"));
        // Several headers read as one list, in order.
        assert_eq!(trusted.client(ip("10.0.0.2"), ["6.6.6.6", "198.51.100.4:5555", "10.1.1.1"]), ip("198.51.100.4"));
        assert_eq!(trusted.client(ip("::ffff:10.0.0.2"), ["[2001:db8::5]:443"]), ip("2001:db8::5"));
    }

    #[test]
    fn a_trusted_peer_without_a_usable_header_is_the_client() {
        let trusted = proxies("10.0.0.2");
        assert_eq!(trusted.client(ip("10.0.0.2"), []), ip("10.0.0.2"));
        // Garbage stops the walk at the last real address.
        assert_eq!(trusted.client(ip("10.0.0.2"), ["198.51.100.4, nonsense"]), ip("10.0.0.2"));
        let chain = proxies("10.0.0.0/8");
        assert_eq!(chain.client(ip("10.0.0.2"), ["10.0.0.3, 10.0.0.4"]), ip("10.0.0.3"));
    }

    #[test]
    fn entries_that_are_not_networks_are_reported() {
        let (trusted, problems) = TrustedProxies::parse("10.0.0.0/8 proxy.example, ::1");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("proxy.example"));
        assert!(trusted.contains(ip("10.200.0.1")) && trusted.contains(ip("::1")) && !trusted.contains(ip("11.0.0.1")));
    }
}
