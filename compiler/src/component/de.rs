//! Deserialization helpers shared by the component model.
//!
//! KFP v1 files are written by hand and by many tools, so the model accepts what KFP's
//! own Python loader accepts (a number where text is expected, `then:` as one item or a
//! list) and says precisely what it expected when it cannot: `#[serde(untagged)]` would
//! only say "did not match any variant".

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserializer;
use serde::de::{self, MapAccess, SeqAccess, Visitor};

use super::TypeSpec;

/// A short YAML-flow rendering of a value for error messages: `{inputValu: x}`.
pub(crate) fn flow(value: &serde_json::Value) -> String {
    let mut out = String::new();
    render(value, &mut out);
    if out.chars().count() > 80 {
        let cut: String = out.chars().take(77).collect();
        format!("{cut}...")
    } else {
        out
    }
}

fn render(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&flow_str(s)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&flow_str(k));
                out.push_str(": ");
                render(v, out);
            }
            out.push('}');
        }
    }
}

/// A string as it could appear in YAML flow style: bare when that is unambiguous.
fn flow_str(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ' '))
        && !s.starts_with(' ')
        && !s.ends_with(' ');
    if plain {
        s.to_owned()
    } else {
        serde_json::Value::String(s.to_owned()).to_string()
    }
}

/// The closest candidate to a misspelled `key`, if one is close enough to be a typo.
pub(crate) fn suggest<'a>(key: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| {
            (
                strsim::levenshtein(&key.to_lowercase(), &c.to_lowercase()),
                *c,
            )
        })
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min()
        .map(|(_, c)| c)
}

/// `" (did you mean x?)"` or nothing.
pub(crate) fn did_you_mean(key: &str, candidates: &[&str]) -> String {
    suggest(key, candidates)
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default()
}

/// Text of a float the way YAML and Python write it (`1.0`, not `1`).
pub(crate) fn float_text(v: f64) -> String {
    serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string())
}

/// Accepts a string, number or boolean as text (KFP's `PrimitiveTypes`).
pub(crate) struct ScalarText(pub &'static str);

impl Visitor<'_> for ScalarText {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(float_text(v))
    }
}

/// `default:` of an input: a string, number or boolean (kept as text); null means none.
pub(crate) fn opt_scalar_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(
                "a string, number or boolean (write a JSON default as text, e.g. default: '[1, 2]')",
            )
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(self)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(float_text(v)))
        }
    }
    d.deserialize_any(V)
}

/// A map of names to text values (`env`, `fileOutputs`, annotations, labels); scalar
/// values are kept as text, anything else is an error naming the key.
pub(crate) fn text_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of names to text values")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                let value = map.next_value::<TextValue>()?;
                out.insert(key, value.0);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// One text value of a [`text_map`].
struct TextValue(String);

impl<'de> de::Deserialize<'de> for TextValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarText("a string, number or boolean"))
            .map(TextValue)
    }
}

/// The `type:` of an input or output: a name, or a structured type such as
/// `{GCSPath: {data_type: CSV}}`; null means untyped.
pub(crate) fn opt_type_spec<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TypeSpec>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<TypeSpec>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(TYPE_EXPECTED)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(TypeVisitor).map(Some)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            TypeVisitor.visit_str(v).map(Some)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            TypeVisitor.visit_map(map).map(Some)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            TypeVisitor.visit_seq(seq).map(Some)
        }
    }
    d.deserialize_any(V)
}

const TYPE_EXPECTED: &str =
    "a type name such as String or Model, or a structured type such as {GCSPath: {data_type: CSV}}";

/// A required [`TypeSpec`], with the message of [`opt_type_spec`].
pub(crate) struct TypeVisitor;

impl<'de> Visitor<'de> for TypeVisitor {
    type Value = TypeSpec;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(TYPE_EXPECTED)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<TypeSpec, E> {
        Ok(TypeSpec::Name(v.to_owned()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TypeSpec, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<TypeValue>()?;
            out.insert(key, value.0);
        }
        if out.is_empty() {
            return Err(de::Error::custom(format!(
                "an empty map is not a type; expected {TYPE_EXPECTED}"
            )));
        }
        Ok(TypeSpec::Structured(out))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<TypeSpec, A::Error> {
        Err(de::Error::custom(format!(
            "list types are not supported; expected {TYPE_EXPECTED}"
        )))
    }
}

/// A nested type inside a structured type (`data_type: CSV`); scalars are names.
struct TypeValue(TypeSpec);

impl<'de> de::Deserialize<'de> for TypeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TypeSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(TYPE_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TypeSpec, E> {
                Ok(TypeSpec::Name(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<TypeSpec, E> {
                Ok(TypeSpec::Name(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TypeSpec, E> {
                Ok(TypeSpec::Name(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TypeSpec, E> {
                Ok(TypeSpec::Name(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<TypeSpec, E> {
                Ok(TypeSpec::Name(float_text(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TypeSpec, A::Error> {
                TypeVisitor.visit_map(map)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<TypeSpec, A::Error> {
                TypeVisitor.visit_seq(seq)
            }
        }
        d.deserialize_any(V).map(TypeValue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flow_renders_like_yaml() {
        assert_eq!(flow(&json!({"inputValu": "x"})), "{inputValu: x}");
        assert_eq!(flow(&json!({"a": [1, "b c", "{"]})), "{a: [1, b c, \"{\"]}");
    }

    #[test]
    fn suggestions_catch_typos_only() {
        let known = ["inputValue", "inputPath", "outputPath", "concat", "if"];
        assert_eq!(suggest("inputValu", &known), Some("inputValue"));
        assert_eq!(suggest("outputpath", &known), Some("outputPath"));
        assert_eq!(suggest("somethingElse", &known), None);
    }

    #[test]
    fn floats_keep_their_point() {
        assert_eq!(float_text(1.0), "1.0");
        assert_eq!(float_text(0.25), "0.25");
    }
}
