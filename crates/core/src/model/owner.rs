//! Owners: the namespaces that let several folders manage plug-ins on one gateway.
//!
//! `options.owner` names the folder's namespace; it is written into the ownership marker of
//! every plug-in the folder manages, and a folder sees, changes and prunes only plug-ins of
//! its owner. Markers written before owners existed are read as [`DEFAULT_OWNER`].

/// The owner of a folder without `options.owner`, and of markers without an owner.
pub const DEFAULT_OWNER: &str = "default";

/// Longest owner name, in characters (it is repeated in every plug-in's remark).
pub const MAX_OWNER_LEN: usize = 16;

/// Why `name` is not a valid owner, or `None` when it is: 1 to [`MAX_OWNER_LEN`] characters
/// of `a-z`, `0-9` and `-`, starting and ending with a letter or digit (like a DNS label).
pub fn owner_problem(name: &str) -> Option<String> {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if name.is_empty() || name.len() > MAX_OWNER_LEN {
        return Some(format!(
            "owner {name:?} must be 1 to {MAX_OWNER_LEN} characters long"
        ));
    }
    if !name.chars().all(|c| alnum(c) || c == '-') {
        return Some(format!(
            "owner {name:?} may only hold lowercase letters, digits and '-'"
        ));
    }
    if !name.starts_with(alnum) || !name.ends_with(alnum) {
        return Some(format!(
            "owner {name:?} must start and end with a lowercase letter or a digit"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_names_are_short_dns_labels() {
        for ok in [
            "default",
            "team-a",
            "a",
            "0",
            "payments-2026",
            "abcdefghijklmnop",
        ] {
            assert_eq!(owner_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "Team-A",
            "team_a",
            "-team",
            "team-",
            "abcdefghijklmnopq",
            "team a",
            "tëam",
            "a]b",
        ] {
            assert!(owner_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn the_default_owner_is_valid() {
        assert_eq!(owner_problem(DEFAULT_OWNER), None);
    }
}
