//! Which addresses a webhook may reach (server-side request forgery).
//!
//! A network administrator chooses the URL of their webhook; without a rule,
//! Vigie would POST signed requests wherever that URL points: a loopback
//! service, the cloud metadata endpoint, a private network behind the
//! firewall, and the send log would tell open from closed ports. So a
//! webhook may only reach a *public* unicast address, unless the operator
//! allows more in configuration ([`AddressPolicy`]).
//!
//! The check runs on the addresses the connection will use: an IP literal in
//! the URL is checked as is, a name is resolved by [`CheckedResolver`], which
//! refuses the whole name when any of its addresses is refused and hands the
//! checked addresses to the HTTP connector, so the connection goes to exactly
//! what was checked (a second DNS answer, "DNS rebinding", cannot swap it).
//!
//! [`classify`] is pure: it names why an address is not public, looking
//! through IPv4-mapped, IPv4-compatible, 6to4 and NAT64 IPv6 forms to the
//! IPv4 address they carry.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::Name;

/// Why an address is not a public unicast address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restricted {
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `0.0.0.0/8`, `::`.
    Unspecified,
    /// RFC 1918, `fc00::/7`, `fec0::/10`.
    Private,
    /// `100.64.0.0/10` (carrier-grade NAT).
    SharedCgnat,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// A cloud metadata endpoint (`169.254.169.254`, `fd00:ec2::254`…).
    Metadata,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// Documentation, benchmarking, IETF-reserved and deprecated ranges.
    Reserved,
}

impl std::fmt::Display for Restricted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Restricted::Loopback => "loopback",
            Restricted::Unspecified => "unspecified",
            Restricted::Private => "private",
            Restricted::SharedCgnat => "shared (cgnat)",
            Restricted::LinkLocal => "link-local",
            Restricted::Metadata => "cloud metadata",
            Restricted::Multicast => "multicast",
            Restricted::Broadcast => "broadcast",
            Restricted::Reserved => "reserved",
        })
    }
}

/// Cloud metadata endpoints: AWS/GCP/Azure/OpenStack, AWS ECS, Alibaba, Azure wire server.
const METADATA_V4: [Ipv4Addr; 4] = [
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(169, 254, 170, 2),
    Ipv4Addr::new(100, 100, 100, 200),
    Ipv4Addr::new(168, 63, 129, 16),
];
/// AWS's IPv6 metadata endpoint.
const METADATA_V6: [Ipv6Addr; 1] = [Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254)];

/// Why `ip` is not a public unicast address, `None` when it is.
pub fn classify(ip: IpAddr) -> Option<Restricted> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Restricted> {
    let [a, b, c, _] = ip.octets();
    if METADATA_V4.contains(&ip) {
        return Some(Restricted::Metadata);
    }
    Some(match (a, b, c) {
        (0, _, _) => Restricted::Unspecified,
        (127, _, _) => Restricted::Loopback,
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => Restricted::Private,
        (100, 64..=127, _) => Restricted::SharedCgnat,
        (169, 254, _) => Restricted::LinkLocal,
        (224..=239, _, _) => Restricted::Multicast,
        (255, 255, 255) if ip == Ipv4Addr::BROADCAST => Restricted::Broadcast,
        // 240/4 (future use, broadcast included), IETF assignments 192.0.0/24,
        // documentation, 6to4 relays, benchmarking.
        (240..=255, _, _)
        | (192, 0, 0)
        | (192, 0, 2)
        | (198, 51, 100)
        | (203, 0, 113)
        | (192, 88, 99)
        | (198, 18..=19, _) => Restricted::Reserved,
        _ => return None,
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<Restricted> {
    if METADATA_V6.contains(&ip) {
        return Some(Restricted::Metadata);
    }
    if ip == Ipv6Addr::UNSPECIFIED {
        return Some(Restricted::Unspecified);
    }
    if ip == Ipv6Addr::LOCALHOST {
        return Some(Restricted::Loopback);
    }
    let s = ip.segments();
    let o = ip.octets();
    // Forms that carry an IPv4 address: judged by that address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if s[..6] == [0; 6] {
        // IPv4-compatible (deprecated), `::a.b.c.d`.
        return classify_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15])).or(Some(Restricted::Reserved));
    }
    if s[0] == 0x2002 {
        // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
        return classify_v4(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64 well-known prefix 64:ff9b::/96.
        return classify_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    Some(match s[0] {
        0xff00..=0xffff => Restricted::Multicast,
        0xfe80..=0xfebf => Restricted::LinkLocal,
        0xfec0..=0xfeff | 0xfc00..=0xfdff => Restricted::Private,
        // Local-use NAT64 64:ff9b:1::/48: a translator of the local network.
        0x64 if s[1] == 0xff9b && s[2] == 1 => Restricted::Private,
        // Discard-only 100::/64, Teredo 2001::/32 (an IPv4 tunnel whose
        // inner address cannot be checked), documentation 2001:db8::/32.
        0x100 if s[1..4] == [0, 0, 0] => Restricted::Reserved,
        0x2001 if s[1] == 0 || s[1] == 0xdb8 => Restricted::Reserved,
        // Not global unicast (2000::/3) at all.
        x if !(0x2000..=0x3fff).contains(&x) => Restricted::Reserved,
        _ => return None,
    })
}

/// An IP network in CIDR notation (`10.1.0.0/16`, `fd12::/64`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is inside (an IPv4-mapped IPv6 address counts as its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("réseau « {text} » : adresse IP illisible"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("réseau « {text} » : préfixe attendu entre 0 et {max}"))?,
        };
        Ok(Cidr { network, prefix })
    }
}

/// The addresses webhooks may reach: public unicast addresses, plus what the
/// operator allows (every address, or some networks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allow_all: bool,
    allowed: Vec<Cidr>,
}

impl AddressPolicy {
    /// Public addresses only (the default).
    pub fn public_only() -> Self {
        AddressPolicy::default()
    }

    /// Any address, private and loopback included (tests, a trusted network).
    pub fn allow_all() -> Self {
        AddressPolicy {
            allow_all: true,
            allowed: Vec::new(),
        }
    }

    /// Public addresses and those of `networks` too.
    pub fn with_allowed(mut self, networks: Vec<Cidr>) -> Self {
        self.allowed.extend(networks);
        self
    }

    /// `Err` with the reason when a webhook may not reach `ip`.
    ///
    /// # Errors
    /// The [`Restricted`] class of a refused address.
    pub fn check(&self, ip: IpAddr) -> Result<(), Restricted> {
        if self.allow_all || self.allowed.iter().any(|net| net.contains(ip)) {
            return Ok(());
        }
        classify(ip).map_or(Ok(()), Err)
    }
}

/// A refused webhook address; its display is the detail for the logs.
#[derive(Debug, Clone, thiserror::Error)]
#[error("webhook host {host} resolves to {address}, a {class} address")]
pub struct AddressRefused {
    /// The host of the URL.
    pub host: String,
    /// The first refused address.
    pub address: IpAddr,
    /// Why.
    pub class: Restricted,
}

/// Checks every address of `host` (already resolved); the first refused one is the error.
///
/// # Errors
/// [`AddressRefused`].
pub fn check_all(policy: &AddressPolicy, host: &str, addresses: &[IpAddr]) -> Result<(), AddressRefused> {
    for &address in addresses {
        policy.check(address).map_err(|class| AddressRefused {
            host: host.to_owned(),
            address,
            class,
        })?;
    }
    Ok(())
}

/// Resolves `host` (port irrelevant) with the system resolver.
///
/// # Errors
/// The name does not resolve.
pub async fn resolve(host: &str) -> std::io::Result<Vec<IpAddr>> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    Ok(tokio::net::lookup_host((host, 0)).await?.map(|a| a.ip()).collect())
}

/// The HTTP connector's resolver: the system resolver, then [`AddressPolicy`]
/// on every answer; the connector connects only to the addresses returned.
#[derive(Debug, Clone)]
pub struct CheckedResolver {
    policy: Arc<AddressPolicy>,
}

impl CheckedResolver {
    /// A resolver that refuses what `policy` refuses.
    pub fn new(policy: Arc<AddressPolicy>) -> Self {
        CheckedResolver { policy }
    }
}

impl tower_service::Service<Name> for CheckedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses = resolve(&host).await?;
            check_all(&policy, &host, &addresses)?;
            // Port 0: the connector sets the URL's port.
            Ok(addresses
                .into_iter()
                .map(|ip| SocketAddr::new(ip, 0))
                .collect::<Vec<_>>()
                .into_iter())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(text: &str) -> Option<Restricted> {
        classify(text.parse().unwrap())
    }

    #[test]
    fn ipv4_ranges() {
        assert_eq!(v4("127.0.0.1"), Some(Restricted::Loopback));
        assert_eq!(v4("127.255.0.9"), Some(Restricted::Loopback));
        assert_eq!(v4("0.0.0.0"), Some(Restricted::Unspecified));
        assert_eq!(v4("0.1.2.3"), Some(Restricted::Unspecified));
        for private in [
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.1",
            "192.168.1.1",
        ] {
            assert_eq!(v4(private), Some(Restricted::Private), "{private}");
        }
        assert_eq!(v4("172.15.0.1"), None);
        assert_eq!(v4("172.32.0.1"), None);
        assert_eq!(v4("100.64.0.1"), Some(Restricted::SharedCgnat));
        assert_eq!(v4("100.127.255.254"), Some(Restricted::SharedCgnat));
        assert_eq!(v4("100.128.0.1"), None);
        assert_eq!(v4("169.254.1.1"), Some(Restricted::LinkLocal));
        assert_eq!(v4("169.254.169.254"), Some(Restricted::Metadata));
        assert_eq!(v4("169.254.170.2"), Some(Restricted::Metadata));
        assert_eq!(v4("100.100.100.200"), Some(Restricted::Metadata));
        assert_eq!(v4("168.63.129.16"), Some(Restricted::Metadata));
        assert_eq!(v4("224.0.0.1"), Some(Restricted::Multicast));
        assert_eq!(v4("239.255.255.250"), Some(Restricted::Multicast));
        assert_eq!(v4("255.255.255.255"), Some(Restricted::Broadcast));
        assert_eq!(v4("240.0.0.1"), Some(Restricted::Reserved));
        assert_eq!(v4("192.0.2.10"), Some(Restricted::Reserved));
        assert_eq!(v4("198.18.0.1"), Some(Restricted::Reserved));
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "193.51.24.1",
            "192.0.3.1",
            "100.63.255.255",
            "223.255.255.255",
        ] {
            assert_eq!(v4(public), None, "{public}");
        }
    }

    #[test]
    fn ipv6_ranges() {
        assert_eq!(v4("::1"), Some(Restricted::Loopback));
        assert_eq!(v4("::"), Some(Restricted::Unspecified));
        assert_eq!(v4("fe80::1"), Some(Restricted::LinkLocal));
        assert_eq!(v4("fc00::1"), Some(Restricted::Private));
        assert_eq!(v4("fd12:3456::1"), Some(Restricted::Private));
        assert_eq!(v4("fec0::1"), Some(Restricted::Private));
        assert_eq!(v4("fd00:ec2::254"), Some(Restricted::Metadata));
        assert_eq!(v4("ff02::1"), Some(Restricted::Multicast));
        assert_eq!(v4("2001:db8::1"), Some(Restricted::Reserved));
        assert_eq!(v4("2001::1"), Some(Restricted::Reserved));
        assert_eq!(v4("100::1"), Some(Restricted::Reserved));
        assert_eq!(v4("64:ff9b:1::1"), Some(Restricted::Private));
        assert_eq!(v4("4000::1"), Some(Restricted::Reserved));
        for public in ["2a00:1450:4007:80e::200e", "2001:4860:4860::8888", "2606:4700::1111"] {
            assert_eq!(v4(public), None, "{public}");
        }
    }

    #[test]
    fn ipv6_forms_carrying_ipv4_are_judged_by_their_ipv4() {
        // IPv4-mapped.
        assert_eq!(v4("::ffff:127.0.0.1"), Some(Restricted::Loopback));
        assert_eq!(v4("::ffff:10.0.0.1"), Some(Restricted::Private));
        assert_eq!(v4("::ffff:169.254.169.254"), Some(Restricted::Metadata));
        assert_eq!(v4("::ffff:8.8.8.8"), None);
        // IPv4-compatible (deprecated): refused even when public.
        assert_eq!(v4("::127.0.0.1"), Some(Restricted::Loopback));
        assert_eq!(v4("::8.8.8.8"), Some(Restricted::Reserved));
        // 6to4.
        assert_eq!(v4("2002:7f00:1::1"), Some(Restricted::Loopback));
        assert_eq!(v4("2002:a9fe:a9fe::"), Some(Restricted::Metadata));
        assert_eq!(v4("2002:0808:0808::1"), None);
        // NAT64.
        assert_eq!(v4("64:ff9b::7f00:1"), Some(Restricted::Loopback));
        assert_eq!(v4("64:ff9b::a00:1"), Some(Restricted::Private));
        assert_eq!(v4("64:ff9b::808:808"), None);
    }

    #[test]
    fn cidrs_and_the_policy() {
        let net: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(!net.contains("fd00::1".parse().unwrap()));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6: Cidr = "fd12::/16".parse().unwrap();
        assert!(v6.contains("fd12:1::5".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("127.0.0.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("pas-une-ip/8".parse::<Cidr>().is_err());
        assert!("fd00::/129".parse::<Cidr>().is_err());

        let strict = AddressPolicy::public_only();
        assert_eq!(strict.check("10.1.2.3".parse().unwrap()), Err(Restricted::Private));
        assert_eq!(strict.check("8.8.8.8".parse().unwrap()), Ok(()));
        let some = AddressPolicy::public_only().with_allowed(vec![net]);
        assert_eq!(some.check("10.1.2.3".parse().unwrap()), Ok(()));
        assert_eq!(some.check("10.2.0.1".parse().unwrap()), Err(Restricted::Private));
        assert_eq!(some.check("127.0.0.1".parse().unwrap()), Err(Restricted::Loopback));
        assert_eq!(
            AddressPolicy::allow_all().check("169.254.169.254".parse().unwrap()),
            Ok(())
        );
    }

    #[test]
    fn one_refused_address_refuses_the_name() {
        let addresses: Vec<IpAddr> = vec!["8.8.8.8".parse().unwrap(), "127.0.0.1".parse().unwrap()];
        let error = check_all(&AddressPolicy::public_only(), "mixed.example", &addresses).unwrap_err();
        assert_eq!(error.class, Restricted::Loopback);
        assert!(error.to_string().contains("mixed.example"));
        assert!(check_all(&AddressPolicy::public_only(), "ok", &addresses[..1]).is_ok());
    }
}
