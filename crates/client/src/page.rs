//! One page of a list answer, decoded in a single pass: the list's `total` and the items
//! under the list's key go straight into their types; every other member is skipped unread.
//! (Decoding into a JSON map first and then into the items builds every item twice.)

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

/// The items of one page and the list's `total`, when the server says.
#[derive(Debug)]
pub(crate) struct Page<T> {
    /// The items under the list's key (none when the key is absent).
    pub items: Vec<T>,
    /// `total`, when it is a whole number.
    pub total: Option<u64>,
}

/// Decodes a page whose items are under `key`.
pub(crate) fn decode_page<T: DeserializeOwned>(
    body: &[u8],
    key: &str,
) -> Result<Page<T>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let page = PageSeed {
        key,
        items: PhantomData,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(page)
}

struct PageSeed<'k, T> {
    key: &'k str,
    items: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for PageSeed<'_, T> {
    type Value = Page<T>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Page<T>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for PageSeed<'_, T> {
    type Value = Page<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a page of {:?}", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page<T>, A::Error> {
        let (mut items, mut total) = (Vec::new(), None);
        while let Some(member) = map.next_key_seed(MemberSeed(self.key))? {
            match member {
                // Lenient, as the wire types are: a `total` that is not a whole number is no total.
                Member::Total => total = map.next_value::<Value>()?.as_u64(),
                Member::Items => items = map.next_value::<Vec<T>>()?,
                Member::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Page { items, total })
    }
}

/// Which member of the page a key names.
enum Member {
    Total,
    Items,
    Other,
}

/// Reads a key without allocating, comparing it with the list's key.
struct MemberSeed<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for MemberSeed<'_> {
    type Value = Member;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Member, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for MemberSeed<'_> {
    type Value = Member;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Member, E> {
        Ok(if v == self.0 {
            Member::Items
        } else if v == "total" {
            Member::Total
        } else {
            Member::Other
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_and_total_are_read_and_other_members_skipped() {
        let body = br#"{"size":2,"total":3,"extra":{"a":[1,2]},"envs":[{"x":1},{"x":2}]}"#;
        let page: Page<Value> = decode_page(body, "envs").unwrap();
        assert_eq!(page.total, Some(3));
        assert_eq!(
            page.items,
            vec![serde_json::json!({"x": 1}), serde_json::json!({"x": 2})]
        );
    }

    #[test]
    fn a_missing_list_is_empty_and_an_odd_total_is_none() {
        let page: Page<Value> = decode_page(br#"{"total":"many"}"#, "apis").unwrap();
        assert_eq!((page.items.len(), page.total), (0, None));
    }

    #[test]
    fn items_of_the_wrong_shape_and_trailing_text_are_errors() {
        assert!(decode_page::<u32>(br#"{"apis":["a"]}"#, "apis").is_err());
        assert!(decode_page::<u32>(br#"{"apis":[1]} x"#, "apis").is_err());
        assert!(decode_page::<u32>(br#"[1]"#, "apis").is_err());
    }
}
