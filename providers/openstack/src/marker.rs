//! The ownership marker: how a create says "this object belongs to Terrane
//! object <uid>" in the same call, so a restarted controller adopts instead of
//! creating twice.
//!
//! Neutron before 2023.1 refuses `tags` in a create request, so the marker
//! goes at the end of the description, which every Neutron object has:
//! `"<user description> [terrane-uid:<uid>]"`. Comparisons strip it.

const PREFIX: &str = "[terrane-uid:";

/// The description to send: the user's text with the marker of `uid`.
pub fn with_marker(description: Option<&str>, uid: &str) -> String {
    match description.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => format!("{d} {PREFIX}{uid}]"),
        None => format!("{PREFIX}{uid}]"),
    }
}

/// The user's part of a description.
pub fn strip_marker(description: &str) -> &str {
    match description.rfind(PREFIX) {
        Some(i) if description.ends_with(']') => description[..i].trim_end(),
        _ => description,
    }
}

/// The uid of the marker `description` carries, if any.
pub fn marker_uid(description: &str) -> Option<&str> {
    let i = description.rfind(PREFIX)?;
    description[i + PREFIX.len()..].strip_suffix(']')
}

/// The description to send on update: the user's text, keeping whatever
/// marker the object has (none for an object imported from outside).
pub fn keep_marker(description: Option<&str>, current: &str) -> String {
    match marker_uid(current) {
        Some(uid) => with_marker(description, uid),
        None => description.unwrap_or_default().trim().to_string(),
    }
}

/// The description to send on update: the user's text with this object's
/// marker (`uid`) when Terrane created it, or with whatever marker the cloud
/// object already has when it was imported.
pub fn for_update(description: &str, current: &str, uid: &str, imported: bool) -> String {
    if imported { keep_marker(Some(description), current) } else { with_marker(Some(description), uid) }
}

/// True when `description` carries the marker of `uid`.
pub fn has_marker(description: &str, uid: &str) -> bool {
    !uid.is_empty() && description.ends_with(&format!("{PREFIX}{uid}]"))
}

/// The `items` whose `description` carries the marker of `uid`, each parsed by `parse`.
pub fn carrying<T>(
    items: impl IntoIterator<Item = serde_json::Value>,
    uid: &str,
    parse: impl Fn(serde_json::Value) -> terrane_provider::ProviderResult<T>,
) -> terrane_provider::ProviderResult<Vec<T>> {
    items.into_iter().filter(|v| v["description"].as_str().is_some_and(|d| has_marker(d, uid))).map(parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let d = with_marker(Some("web tier"), "u-1");
        assert_eq!(d, "web tier [terrane-uid:u-1]");
        assert_eq!(strip_marker(&d), "web tier");
        assert!(has_marker(&d, "u-1"));
        assert!(!has_marker(&d, "u-2"));
        assert!(!has_marker(&d, ""));
    }

    #[test]
    fn update_keeps_the_existing_marker_only() {
        assert_eq!(keep_marker(Some("new"), "old [terrane-uid:u]"), "new [terrane-uid:u]");
        assert_eq!(keep_marker(Some("new"), "made by hand"), "new");
        assert_eq!(marker_uid("x [terrane-uid:abc]"), Some("abc"));
        assert_eq!(marker_uid("x"), None);
    }

    #[test]
    fn an_update_restores_a_removed_marker_of_a_created_object() {
        assert_eq!(for_update("v2", "changed by hand", "u", false), "v2 [terrane-uid:u]");
        assert_eq!(for_update("v2", "by hand", "u", true), "v2");
        assert_eq!(for_update("v2", "x [terrane-uid:other]", "u", true), "v2 [terrane-uid:other]");
    }

    #[test]
    fn empty_description() {
        let d = with_marker(None, "u");
        assert_eq!(strip_marker(&d), "");
        assert_eq!(with_marker(Some("  "), "u"), d);
        assert_eq!(strip_marker("plain"), "plain");
    }
}
