//! Serde helpers for the protojson conventions serde's derives do not cover.
//!
//! grpc-gateway marshals with proto field names and `EmitUnpopulated: false`, so:
//! default values are omitted ([`is_default`]); int64 travels as a JSON string but may
//! arrive as a number ([`int64`], [`opt_int64`]); `Timestamp` is an RFC 3339 string
//! ([`timestamp`]); enums go out as names and come in as names or numbers
//! (`proto_enum!`); and `null` means "unset".

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// `skip_serializing_if` for protojson's "omit default values" (empty strings and lists,
/// zero numbers, `false`, an enum's zero value).
pub fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// A protobuf enum: its type name for messages and its `(name, number, value)` table.
pub trait ProtoEnum: Copy + 'static {
    /// The enum's name in error messages.
    const TYPE_NAME: &'static str;
    /// Every value with its wire name and number; the first one is the zero value.
    const VALUES: &'static [(&'static str, i32, Self)];

    /// The value with this wire name.
    fn from_name(name: &str) -> Option<Self> {
        Self::VALUES
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, _, v)| *v)
    }

    /// The value with this number.
    fn from_number(number: i64) -> Option<Self> {
        Self::VALUES
            .iter()
            .find(|(_, n, _)| i64::from(*n) == number)
            .map(|(_, _, v)| *v)
    }
}

/// Deserializes a [`ProtoEnum`] from its name or its number; `null` is the zero value.
pub fn deserialize_enum<'de, D, E>(deserializer: D) -> Result<E, D::Error>
where
    D: Deserializer<'de>,
    E: ProtoEnum,
{
    struct EnumVisitor<E>(std::marker::PhantomData<E>);

    impl<E: ProtoEnum> EnumVisitor<E> {
        fn unknown<Err: de::Error>(what: fmt::Arguments<'_>) -> Err {
            let names: Vec<&str> = E::VALUES.iter().map(|(n, _, _)| *n).collect();
            Err::custom(format_args!(
                "unknown {} {what}; expected one of {}",
                E::TYPE_NAME,
                names.join(", ")
            ))
        }
    }

    impl<'de, E: ProtoEnum> Visitor<'de> for EnumVisitor<E> {
        type Value = E;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a {} name or number", E::TYPE_NAME)
        }

        fn visit_str<Err: de::Error>(self, v: &str) -> Result<E, Err> {
            E::from_name(v).ok_or_else(|| Self::unknown(format_args!("'{v}'")))
        }

        fn visit_i64<Err: de::Error>(self, v: i64) -> Result<E, Err> {
            E::from_number(v).ok_or_else(|| Self::unknown(format_args!("number {v}")))
        }

        fn visit_u64<Err: de::Error>(self, v: u64) -> Result<E, Err> {
            let n = i64::try_from(v).map_err(|_| Self::unknown(format_args!("number {v}")))?;
            self.visit_i64(n)
        }

        fn visit_unit<Err: de::Error>(self) -> Result<E, Err> {
            Ok(E::VALUES[0].2)
        }
    }

    deserializer.deserialize_any(EnumVisitor(std::marker::PhantomData))
}

/// Declares a protobuf enum: serialized as its name, deserialized from name or number.
/// The first variant must be the zero value (it is the `Default`, and omitted on output).
macro_rules! proto_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(#[$fmeta:meta])* $first:ident = $fnum:literal => $fwire:literal,
            $( $(#[$vmeta:meta])* $variant:ident = $num:literal => $wire:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        $vis enum $name {
            $(#[$fmeta])*
            #[default]
            $first,
            $( $(#[$vmeta])* $variant ),*
        }

        impl $crate::api::wire::ProtoEnum for $name {
            const TYPE_NAME: &'static str = stringify!($name);
            const VALUES: &'static [(&'static str, i32, Self)] =
                &[($fwire, $fnum, Self::$first), $( ($wire, $num, Self::$variant) ),*];
        }

        impl $name {
            /// The name sent on the wire.
            pub fn name(self) -> &'static str {
                match self {
                    Self::$first => $fwire,
                    $( Self::$variant => $wire ),*
                }
            }

            /// The proto number.
            pub fn number(self) -> i32 {
                match self {
                    Self::$first => $fnum,
                    $( Self::$variant => $num ),*
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::api::wire::deserialize_enum(d)
            }
        }

        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                $crate::api::wire::enum_schema::<Self>()
            }
        }

        impl ::utoipa::ToSchema for $name {}
    };
}
pub(crate) use proto_enum;

/// The OpenAPI schema of a [`ProtoEnum`]: the names it is sent as, and the numbers it is
/// also accepted as, so a generated client knows both.
pub fn enum_schema<E: ProtoEnum>() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let numbers: Vec<String> = E::VALUES
        .iter()
        .map(|(name, number, _)| format!("{name} = {number}"))
        .collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(E::VALUES.iter().map(|(name, _, _)| *name)))
        .default(Some(serde_json::Value::from(E::VALUES[0].0)))
        .description(Some(format!(
            "Sent as a name; a name or its number is accepted ({}). Omitted when it is the \
             first (zero) value.",
            numbers.join(", ")
        )))
        .into()
}

/// Visits an int64 given as a JSON string or number (`null` → `None`).
struct Int64Visitor;

impl<'de> Visitor<'de> for Int64Visitor {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an int64 as a string or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        v.parse::<i64>()
            .map(Some)
            .map_err(|_| E::custom(format_args!("'{v}' is not an int64")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .map(Some)
            .map_err(|_| E::custom(format_args!("{v} is out of range for int64")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // protojson accepts integral numbers written with a fraction or exponent (`1e3`).
        if v.fract() == 0.0 && v >= -(2f64.powi(63)) && v < 2f64.powi(63) {
            Ok(Some(v as i64))
        } else {
            Err(E::custom(format_args!("{v} is not an int64")))
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// `with` module for an `i64` sent as a JSON string (`"5"`), accepted as string or number.
pub mod int64 {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(super::Int64Visitor)
            .map(Option::unwrap_or_default)
    }
}

/// `with` module for an `Option<i64>` (a oneof member) sent as a JSON string.
pub mod opt_int64 {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_any(super::Int64Visitor)
    }
}

/// `with` module for an `Option<DateTime<Utc>>` as an RFC 3339 string.
///
/// Output is UTC with `Z` and 0, 3, 6 or 9 fractional digits, as protojson writes it;
/// input may have any offset and optional fractional seconds.
pub mod timestamp {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(
        value: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(t) => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => super::parse_rfc3339(&s)
                .map(Some)
                .map_err(de::Error::custom),
        }
    }
}

/// Parses an RFC 3339 timestamp (with or without fractional seconds) into UTC.
pub fn parse_rfc3339(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("'{s}' is not an RFC 3339 timestamp ({e})"))
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    proto_enum! {
        enum Color {
            Unspecified = 0 => "COLOR_UNSPECIFIED",
            Red = 1 => "RED",
            Blue = 5 => "BLUE",
        }
    }

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default)]
    struct Holder {
        #[serde(skip_serializing_if = "is_default")]
        color: Color,
        #[serde(with = "int64", skip_serializing_if = "is_default")]
        n: i64,
        #[serde(with = "opt_int64", skip_serializing_if = "Option::is_none")]
        m: Option<i64>,
        #[serde(with = "timestamp", skip_serializing_if = "Option::is_none")]
        t: Option<chrono::DateTime<chrono::Utc>>,
    }

    fn parse(json: &str) -> Result<Holder, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn enums_by_name_number_or_null() {
        assert_eq!(
            parse(r#"{"color":"BLUE"}"#).expect("name").color,
            Color::Blue
        );
        assert_eq!(parse(r#"{"color":5}"#).expect("number").color, Color::Blue);
        assert_eq!(
            parse(r#"{"color":null}"#).expect("null").color,
            Color::Unspecified
        );
        let err = parse(r#"{"color":"GREEN"}"#).expect_err("unknown name");
        assert!(err.to_string().contains("unknown Color 'GREEN'"), "{err}");
        assert!(err.to_string().contains("RED"), "{err}");
        assert!(parse(r#"{"color":2}"#).is_err());
        assert!(parse(r#"{"color":true}"#).is_err());
        assert_eq!(Color::Blue.number(), 5);
        assert_eq!(Color::Red.name(), "RED");
    }

    #[test]
    fn int64_as_string_or_number() {
        assert_eq!(parse(r#"{"n":"42"}"#).expect("string").n, 42);
        assert_eq!(parse(r#"{"n":42}"#).expect("number").n, 42);
        assert_eq!(parse(r#"{"n":1e3}"#).expect("exponent").n, 1000);
        assert_eq!(parse(r#"{"n":null}"#).expect("null").n, 0);
        assert_eq!(parse(r#"{"m":"-7"}"#).expect("opt").m, Some(-7));
        assert_eq!(parse(r#"{"m":null}"#).expect("opt null").m, None);
        assert!(parse(r#"{"n":"4x"}"#).is_err());
        assert!(parse(r#"{"n":1.5}"#).is_err());
        assert!(parse(r#"{"n":18446744073709551615}"#).is_err());
        let json = serde_json::to_string(&Holder {
            n: i64::MAX,
            m: Some(0),
            ..Holder::default()
        })
        .expect("serialize");
        assert_eq!(json, r#"{"n":"9223372036854775807","m":"0"}"#);
    }

    #[test]
    fn timestamps_with_and_without_fraction() {
        let t = parse(r#"{"t":"2024-01-02T03:04:05Z"}"#).expect("plain").t;
        assert_eq!(t.map(|t| t.timestamp()), Some(1_704_164_645));
        let t = parse(r#"{"t":"2024-01-02T04:04:05.250+01:00"}"#)
            .expect("fraction")
            .t;
        assert_eq!(t.map(|t| t.timestamp_millis()), Some(1_704_164_645_250));
        let out = serde_json::to_string(&Holder {
            t,
            ..Holder::default()
        })
        .expect("ser");
        assert_eq!(out, r#"{"t":"2024-01-02T03:04:05.250Z"}"#);
        assert!(parse(r#"{"t":"yesterday"}"#).is_err());
        assert!(parse(r#"{"t":12}"#).is_err());
    }

    #[test]
    fn defaults_are_omitted() {
        assert_eq!(
            serde_json::to_string(&Holder::default()).expect("ser"),
            "{}"
        );
    }
}
