//! IP addresses and CIDRs compared as values, not as text: Neutron and
//! Designate answer in their own canonical form (`fc00:74:0:0:1::` for the
//! `fc00:74::1:0:0:0` a user wrote), and comparing text would update for ever.

use std::net::IpAddr;

/// The canonical text of an address (RFC 5952 for IPv6); anything that is
/// not an address is returned as given.
pub fn ip(text: &str) -> String {
    text.trim().parse::<IpAddr>().map(|a| a.to_string()).unwrap_or_else(|_| text.to_string())
}

/// The canonical text of a CIDR: the network address with its host bits
/// cleared, then the prefix length. A bare address stays an address; text
/// that is neither is returned as given.
pub fn cidr(text: &str) -> String {
    let Some((addr, len)) = text.trim().split_once('/') else { return ip(text) };
    let (Ok(addr), Ok(len)) = (addr.parse::<IpAddr>(), len.parse::<u8>()) else { return text.to_string() };
    let network = match addr {
        IpAddr::V4(a) if len <= 32 => IpAddr::V4((u32::from(a) & mask32(len)).into()),
        IpAddr::V6(a) if len <= 128 => IpAddr::V6((u128::from(a) & mask128(len)).into()),
        _ => return text.to_string(),
    };
    format!("{network}/{len}")
}

fn mask32(len: u8) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) }
}

fn mask128(len: u8) -> u128 {
    if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) }
}

/// [`ip`] of an optional address.
pub fn ip_opt(text: Option<&String>) -> Option<String> {
    text.map(|t| ip(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_written_any_way_compares_equal() {
        assert_eq!(ip("fc00:74::1:0:0:0"), ip("fc00:74:0:0:1::"));
        assert_eq!(ip("FC00:0074:0000:0000:0001:0000:0000:0000"), "fc00:74:0:0:1::");
        assert_eq!(ip("2001:db8::0:1"), "2001:db8::1");
        assert_eq!(ip("10.0.0.1"), "10.0.0.1");
        assert_eq!(ip("not an address"), "not an address");
    }

    #[test]
    fn cidrs_compare_by_network() {
        assert_eq!(cidr("2001:DB8:0::/64"), "2001:db8::/64");
        assert_eq!(cidr("10.0.0.7/24"), "10.0.0.0/24");
        assert_eq!(cidr("0.0.0.0/0"), "0.0.0.0/0");
        assert_eq!(cidr("::/0"), "::/0");
        assert_eq!(cidr("fc00:74::1:0:0:0/128"), "fc00:74:0:0:1::/128");
        assert_eq!(cidr("10.0.0.1"), "10.0.0.1");
        assert_eq!(cidr("10.0.0.0/40"), "10.0.0.0/40");
    }
}
