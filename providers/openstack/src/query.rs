//! Query strings for list calls, and optional fields of request bodies.

/// `?k=v&k2=v2`, percent-encoding values (and keys); empty when `pairs` is.
pub fn query(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let encoded: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    format!("?{}", encoded.join("&"))
}

/// Percent-encodes one query value or path segment.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Inserts `key: value` into a JSON object when `value` is given.
pub fn put_opt<T: serde::Serialize>(body: &mut serde_json::Value, key: &str, value: Option<T>) {
    if let Some(v) = value {
        body[key] = serde_json::json!(v);
    }
}

/// Adds `(key, value)` to a query when `value` is given.
pub fn put_pair<'a>(q: &mut Vec<(&'a str, &'a str)>, key: &'a str, value: Option<&'a str>) {
    if let Some(v) = value {
        q.push((key, v));
    }
}

/// `v` sorted, for comparing lists whose order the cloud does not keep.
pub fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_values() {
        assert_eq!(super::query(&[("name", "a b/c"), ("cidr", "10.0.0.0/24")]), "?name=a%20b%2Fc&cidr=10.0.0.0%2F24");
        assert_eq!(super::query(&[]), "");
    }
}
