//! Rows read straight from the portal's text into typed fields, for the answers a screen reads most (a page
//! of members, their names): no `serde_json::Value` tree is built for them. Bitrix24 sends numbers as
//! numbers or as strings and leaves fields out, so the fields here take either and default to empty; what
//! a row must have is checked where the row becomes a domain value.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A whole number sent as a number or a string of digits; anything else (or nothing) is `None`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Num(pub Option<u64>);

/// Text sent as a string or a number; anything else (or nothing) is empty.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Text(pub String);

/// Rows sent as a list, or as `{}` / `null` for none (PHP renders an empty array either way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<T>(pub Vec<T>);

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed(Vec::new())
    }
}

/// Consumes whatever a map or list holds, so a value of an unexpected kind reads as empty.
fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Num, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
                Ok(Num(Some(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num(u64::try_from(v).ok()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Num, E> {
                Ok(Num((v >= 0.0).then_some(v as u64)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Num, E> {
                Ok(Num(v.trim().parse().ok()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Num, E> {
                Ok(Num(None))
            }
            fn visit_unit<E>(self) -> Result<Num, E> {
                Ok(Num(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Num, A::Error> {
                skip_map(map).map(|_| Num(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Num, A::Error> {
                skip_seq(seq).map(|_| Num(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("text")
            }
            fn visit_str<E>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Text, E> {
                Ok(Text(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Text, E> {
                Ok(Text(serde_json::Number::from_f64(v).map(|n| n.to_string()).unwrap_or_default()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Text, E> {
                Ok(Text::default())
            }
            fn visit_unit<E>(self) -> Result<Text, E> {
                Ok(Text::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
                skip_map(map).map(|_| Text::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text, A::Error> {
                skip_seq(seq).map(|_| Text::default())
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Listed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Listed<T>, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Listed<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Listed<T>, A::Error> {
                let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1_000));
                while let Some(row) = seq.next_element()? {
                    rows.push(row);
                }
                Ok(Listed(rows))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Listed<T>, A::Error> {
                match map.next_key::<IgnoredAny>()? {
                    None => Ok(Listed::default()),
                    Some(_) => Err(serde::de::Error::custom("expected a list, got a map with keys")),
                }
            }
            fn visit_unit<E>(self) -> Result<Listed<T>, E> {
                Ok(Listed::default())
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_text_come_either_way() {
        let nums: Vec<Num> = serde_json::from_str(r#"[5, "6", " 7 ", -1, 2.0, "x", null, {"a": 1}, [1]]"#).unwrap();
        let got: Vec<Option<u64>> = nums.iter().map(|n| n.0).collect();
        assert_eq!(got, [Some(5), Some(6), Some(7), None, Some(2), None, None, None, None]);
        let texts: Vec<Text> = serde_json::from_str(r#"["a", 5, null, true, {"b": "c"}]"#).unwrap();
        let got: Vec<&str> = texts.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(got, ["a", "5", "", "", ""]);
    }

    #[test]
    fn a_list_is_a_list_or_nothing() {
        let rows: Listed<Num> = serde_json::from_str("[1, 2]").unwrap();
        assert_eq!(rows.0.len(), 2);
        for empty in ["{}", "null", "[]"] {
            let rows: Listed<Num> = serde_json::from_str(empty).unwrap();
            assert!(rows.0.is_empty(), "{empty}");
        }
        let e = serde_json::from_str::<Listed<Num>>(r#"{"a": 1}"#).unwrap_err();
        assert!(e.to_string().contains("expected a list"), "{e}");
        assert!(serde_json::from_str::<Listed<Num>>("5").is_err(), "a number is not rows");
    }
}
