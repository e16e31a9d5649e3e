//! Display forms of JSON pointers: `/content/rules/0/name` reads `content.rules[0].name`.

/// The dotted form of a JSON pointer.
pub(crate) fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::dotted;

    #[test]
    fn pointers_read_as_dotted_paths() {
        assert_eq!(dotted("/content/rules/0/name"), "content.rules[0].name");
        assert_eq!(dotted("/remark"), "remark");
        assert_eq!(dotted("/content/a~1b"), "content.a/b");
    }
}
