//! KFP's `filter` query parameter → [`Predicate`]s over the resource's columns.
//!
//! The value is a URL-encoded, JSON-serialized `Filter` proto. Like the KFP server we
//! URL-unescape it once more (Go's `url.QueryUnescape`: `+` is a space, a bad `%` escape is
//! an error), then read the JSON by hand rather than with derives, so every error names the
//! exact place (`filter.predicates[0].key`) and both spellings clients use are accepted:
//! `op`/`operation`, `string_value`/`stringValue`, and so on.

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value as Json};

use super::unknown_field;
use crate::api::error::ApiError;
use crate::api::wire::parse_rfc3339;
use crate::list::{Field, Kind, Op, Predicate, Resource, Value};

/// More predicates than any UI builds; a bound on the SQL a request can cause.
pub const MAX_PREDICATES: usize = 100;
/// A bound on an IN list's length (each value is a bound SQL parameter).
pub const MAX_IN_VALUES: usize = 1000;

/// Every operation with its proto name and number (`Predicate.Op`; 0 is UNKNOWN, 4 unused).
pub(super) const OPS: &[(&str, i64, Op)] = &[
    ("EQUALS", 1, Op::Equals),
    ("NOT_EQUALS", 2, Op::NotEquals),
    ("GREATER_THAN", 3, Op::GreaterThan),
    ("GREATER_THAN_EQUALS", 5, Op::GreaterThanEquals),
    ("LESS_THAN", 6, Op::LessThan),
    ("LESS_THAN_EQUALS", 7, Op::LessThanEquals),
    ("IN", 8, Op::In),
    ("IS_SUBSTRING", 9, Op::IsSubstring),
];

/// The proto name of `op`.
pub(super) fn op_name(op: Op) -> &'static str {
    OPS.iter()
        .find(|(_, _, o)| *o == op)
        .map_or("UNKNOWN", |(name, _, _)| name)
}

/// The operation called `name` (proto name, exact case).
pub(super) fn op_from_name(name: &str) -> Option<Op> {
    OPS.iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, op)| *op)
}

/// How a predicate's value field is read from JSON.
#[derive(Debug, Clone, Copy)]
enum ValueType {
    Int32,
    Int64,
    Text,
    Timestamp,
    Int32s,
    Int64s,
    Texts,
}

/// The value fields of a predicate: (proto name, JSON name, type). One may be set.
const VALUE_FIELDS: &[(&str, &str, ValueType)] = &[
    ("int_value", "intValue", ValueType::Int32),
    ("long_value", "longValue", ValueType::Int64),
    ("string_value", "stringValue", ValueType::Text),
    ("timestamp_value", "timestampValue", ValueType::Timestamp),
    ("int_values", "intValues", ValueType::Int32s),
    ("long_values", "longValues", ValueType::Int64s),
    ("string_values", "stringValues", ValueType::Texts),
];

/// A value as given, before it is matched to the column's kind.
#[derive(Debug)]
enum RawValue {
    Int(i64),
    Timestamp(i64),
    Text(String),
    Ints(Vec<i64>),
    Texts(Vec<String>),
}

/// Parses a `filter` query value (as the HTTP layer decoded it) for `resource`.
/// An empty or blank value is no filter.
pub fn parse_filter(raw: &str, resource: Resource) -> Result<Vec<Predicate>, ApiError> {
    if raw.trim().is_empty() {
        return Ok(Vec::new());
    }
    let text = query_unescape(raw)?;
    let json: Json = serde_json::from_str(&text)
        .map_err(|e| ApiError::invalid_argument(format!("filter: not valid JSON ({e})")))?;
    let Json::Object(top) = json else {
        return Err(ApiError::invalid_argument(
            "filter: must be a JSON object like {\"predicates\": [...]}",
        ));
    };
    let mut predicates = &Vec::new();
    for (name, value) in &top {
        match (name.as_str(), value) {
            (_, Json::Null) => {}
            ("predicates", Json::Array(list)) => predicates = list,
            ("predicates", _) => {
                return Err(ApiError::invalid_argument(
                    "filter.predicates: must be a list",
                ));
            }
            (other, _) => {
                return Err(ApiError::invalid_argument(format!(
                    "filter: unknown field '{other}'; a filter has only 'predicates'"
                )));
            }
        }
    }
    if predicates.len() > MAX_PREDICATES {
        return Err(ApiError::invalid_argument(format!(
            "filter.predicates: {} predicates; at most {MAX_PREDICATES} are allowed",
            predicates.len()
        )));
    }
    predicates
        .iter()
        .enumerate()
        .map(|(i, p)| parse_predicate(&format!("filter.predicates[{i}]"), p, resource))
        .collect()
}

/// Go's `url.QueryUnescape`: `+` becomes a space, `%XX` a byte; a malformed escape is an
/// error (KFP answers 400 for it too); the result must be UTF-8.
fn query_unescape(s: &str) -> Result<String, ApiError> {
    let bytes = s.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%' {
            let hex = bytes.get(i + 1..i + 3);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                let end = bytes.len().min(i + 3);
                return Err(ApiError::invalid_argument(format!(
                    "filter: invalid URL escape '{}'",
                    String::from_utf8_lossy(&bytes[i..end])
                )));
            }
        }
    }
    let plus_as_space = s.replace('+', " ");
    percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| ApiError::invalid_argument("filter: not UTF-8 after URL unescaping"))
}

fn parse_predicate(path: &str, json: &Json, resource: Resource) -> Result<Predicate, ApiError> {
    let invalid = |msg: String| ApiError::invalid_argument(msg);
    let Json::Object(obj) = json else {
        return Err(invalid(format!("{path}: must be an object")));
    };
    let mut key: Option<&str> = None;
    let mut op: Option<(&str, Op)> = None;
    let mut value: Option<(&str, RawValue)> = None;
    for (name, v) in obj {
        if v.is_null() {
            continue; // protojson: null is unset
        }
        let at = format!("{path}.{name}");
        match name.as_str() {
            "key" => {
                key = Some(
                    v.as_str()
                        .ok_or_else(|| invalid(format!("{at}: must be a string")))?,
                );
            }
            "op" | "operation" => {
                if let Some((prev, _)) = op {
                    return Err(invalid(format!(
                        "{path}: both '{prev}' and '{name}' given; give one"
                    )));
                }
                op = Some((name, parse_op(v, &at)?));
            }
            _ => {
                let Some((canonical, _, ty)) = VALUE_FIELDS
                    .iter()
                    .find(|(snake, camel, _)| name == snake || name == camel)
                else {
                    return Err(invalid(format!(
                        "{path}: unknown field '{name}'; a predicate has key, op (or operation) \
                         and one of {}",
                        value_field_names()
                    )));
                };
                if let Some((prev, _)) = &value {
                    return Err(invalid(format!(
                        "{path}: both '{prev}' and '{canonical}' given; a predicate has one value"
                    )));
                }
                value = Some((canonical, parse_raw_value(v, *ty, &at)?));
            }
        }
    }

    let key = key.ok_or_else(|| invalid(format!("{path}.key: missing")))?;
    let field = resource
        .field(key)
        .ok_or_else(|| unknown_field(&format!("{path}.key"), key, resource))?;
    let (_, op) = op.ok_or_else(|| {
        invalid(format!(
            "{path}.op: missing; give op (or operation), e.g. \"EQUALS\""
        ))
    })?;
    let (_, raw) = value.ok_or_else(|| {
        invalid(format!(
            "{path}: no value; give one of {}",
            value_field_names()
        ))
    })?;
    let value = to_column_value(field, key, raw).map_err(|m| invalid(format!("{path}: {m}")))?;
    let value =
        normalize(resource, field, op, value).map_err(|m| invalid(format!("{path}: {m}")))?;
    check_predicate(field, key, op, &value).map_err(|m| invalid(format!("{path}: {m}")))?;
    Ok(Predicate {
        column: field.column,
        op,
        value,
    })
}

fn value_field_names() -> String {
    let names: Vec<&str> = VALUE_FIELDS.iter().map(|(snake, _, _)| *snake).collect();
    names.join(", ")
}

/// An operation given as its proto name or number.
fn parse_op(v: &Json, at: &str) -> Result<Op, ApiError> {
    let found = match v {
        Json::String(name) => op_from_name(name),
        Json::Number(n) => n.as_i64().and_then(|n| {
            OPS.iter()
                .find(|(_, num, _)| *num == n)
                .map(|(_, _, op)| *op)
        }),
        _ => {
            return Err(ApiError::invalid_argument(format!(
                "{at}: must be an operation name or number"
            )));
        }
    };
    found.ok_or_else(|| {
        let names: Vec<String> = OPS.iter().map(|(n, num, _)| format!("{n}={num}")).collect();
        ApiError::invalid_argument(format!(
            "{at}: unknown operation {v}; expected one of {}",
            names.join(", ")
        ))
    })
}

fn parse_raw_value(v: &Json, ty: ValueType, at: &str) -> Result<RawValue, ApiError> {
    Ok(match ty {
        ValueType::Int32 => RawValue::Int(json_int(v, at, true)?),
        ValueType::Int64 => RawValue::Int(json_int(v, at, false)?),
        ValueType::Text => RawValue::Text(json_str(v, at)?.to_owned()),
        ValueType::Timestamp => RawValue::Timestamp(parse_filter_timestamp(json_str(v, at)?, at)?),
        ValueType::Int32s => RawValue::Ints(
            json_values(v, at)?
                .iter()
                .enumerate()
                .map(|(j, x)| json_int(x, &format!("{at}.values[{j}]"), true))
                .collect::<Result<_, _>>()?,
        ),
        ValueType::Int64s => RawValue::Ints(
            json_values(v, at)?
                .iter()
                .enumerate()
                .map(|(j, x)| json_int(x, &format!("{at}.values[{j}]"), false))
                .collect::<Result<_, _>>()?,
        ),
        ValueType::Texts => RawValue::Texts(
            json_values(v, at)?
                .iter()
                .enumerate()
                .map(|(j, x)| json_str(x, &format!("{at}.values[{j}]")).map(str::to_owned))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// An RFC 3339 timestamp as Unix seconds. A client that encoded the filter only once
/// sends an offset's `+` bare, and the second unescape turned it into a space
/// (`...05 01:00`); a timestamp has no other use for a last space, so it is read as `+`.
fn parse_filter_timestamp(s: &str, at: &str) -> Result<i64, ApiError> {
    parse_rfc3339(s)
        .or_else(|e| match s.rfind(' ') {
            Some(i) => parse_rfc3339(&format!("{}+{}", &s[..i], &s[i + 1..])).map_err(|_| e),
            None => Err(e),
        })
        .map(|t| t.timestamp())
        .map_err(|m| ApiError::invalid_argument(format!("{at}: {m}")))
}

fn json_str<'a>(v: &'a Json, at: &str) -> Result<&'a str, ApiError> {
    v.as_str()
        .ok_or_else(|| ApiError::invalid_argument(format!("{at}: must be a string")))
}

/// An integer given as a JSON number or a decimal string (protojson accepts both).
fn json_int(v: &Json, at: &str, int32: bool) -> Result<i64, ApiError> {
    let n = match v {
        Json::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 2f64.powi(53))
                .map(|f| f as i64)
        }),
        Json::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    let range_ok = |n: i64| !int32 || i32::try_from(n).is_ok();
    match n {
        Some(n) if range_ok(n) => Ok(n),
        _ => Err(ApiError::invalid_argument(format!(
            "{at}: {v} is not an {}",
            if int32 { "int32" } else { "int64" }
        ))),
    }
}

/// The `values` list of `{"values": [...]}`.
fn json_values<'a>(v: &'a Json, at: &str) -> Result<&'a [Json], ApiError> {
    let shape = || ApiError::invalid_argument(format!("{at}: must be {{\"values\": [...]}}"));
    let obj: &Map<String, Json> = v.as_object().ok_or_else(shape)?;
    let mut values: &[Json] = &[];
    for (name, x) in obj {
        match (name.as_str(), x) {
            (_, Json::Null) => {}
            ("values", Json::Array(list)) => values = list,
            _ => return Err(shape()),
        }
    }
    Ok(values)
}

/// Matches the given value to the column's kind.
fn to_column_value(field: &Field, key: &str, raw: RawValue) -> Result<Value, String> {
    match (field.kind, raw) {
        (Kind::Text, RawValue::Text(s)) => Ok(Value::Text(s)),
        (Kind::Text, RawValue::Texts(v)) => Ok(Value::Texts(v)),
        (Kind::Text, _) => Err(format!(
            "'{key}' is text; give string_value (or string_values for IN)"
        )),
        (Kind::Int | Kind::Timestamp, RawValue::Int(n)) => Ok(Value::Int(n)),
        (Kind::Int | Kind::Timestamp, RawValue::Ints(v)) => Ok(Value::Ints(v)),
        (Kind::Timestamp, RawValue::Timestamp(n)) => Ok(Value::Int(n)),
        (Kind::Timestamp, _) => Err(format!(
            "'{key}' is a timestamp; give timestamp_value (RFC 3339) or int_value/long_value \
             (Unix seconds)"
        )),
        (Kind::Int, _) => Err(format!(
            "'{key}' is an integer; give int_value or long_value (or int_values/long_values for IN)"
        )),
    }
}

/// Checks that `value` fits `field` and `op`: the value's kind, a list for IN and only
/// for IN, IS_SUBSTRING only on text, IN lists non-empty and bounded. Shared by the
/// filter and page-token parsers.
pub(super) fn check_predicate(
    field: &Field,
    key: &str,
    op: Op,
    value: &Value,
) -> Result<(), String> {
    let kind_ok = match value {
        Value::Text(_) | Value::Texts(_) => field.kind == Kind::Text,
        Value::Int(_) | Value::Ints(_) => field.kind != Kind::Text,
    };
    if !kind_ok {
        return Err(format!("the value does not fit '{key}' ({:?})", field.kind));
    }
    let list_len = match value {
        Value::Ints(v) => Some(v.len()),
        Value::Texts(v) => Some(v.len()),
        Value::Int(_) | Value::Text(_) => None,
    };
    match (op, list_len) {
        (Op::In, None) => Err(
            "IN needs a list: give string_values, int_values or long_values ({\"values\": [...]})"
                .to_owned(),
        ),
        (Op::In, Some(0)) => Err("IN needs at least one value".to_owned()),
        (Op::In, Some(n)) if n > MAX_IN_VALUES => Err(format!(
            "IN has {n} values; at most {MAX_IN_VALUES} are allowed"
        )),
        (Op::In, Some(_)) => Ok(()),
        (op, Some(_)) => Err(format!(
            "{} compares one value; *_values lists are only for IN",
            op_name(op)
        )),
        (Op::IsSubstring, None) if field.kind != Kind::Text => Err(format!(
            "IS_SUBSTRING applies only to text fields, and '{key}' is {}",
            if field.kind == Kind::Timestamp {
                "a timestamp"
            } else {
                "an integer"
            }
        )),
        (_, None) => Ok(()),
    }
}

/// Rewrites values to what the store holds: storage states as `AVAILABLE`/`ARCHIVED`
/// whichever API version's spelling was used; v2 run states as v1 (Argo) phases.
/// IS_SUBSTRING values are left as given.
fn normalize(resource: Resource, field: &Field, op: Op, value: Value) -> Result<Value, String> {
    if op == Op::IsSubstring {
        return Ok(value);
    }
    let map: fn(String) -> Result<String, String> = match (resource, field.column) {
        (_, "storage_state") => normalize_storage_state,
        (Resource::Runs, "status") => |s| Ok(v2_state_to_v1_status(s)),
        _ => return Ok(value),
    };
    Ok(match value {
        Value::Text(s) => Value::Text(map(s)?),
        Value::Texts(v) => Value::Texts(v.into_iter().map(map).collect::<Result<_, _>>()?),
        other => other,
    })
}

/// `STORAGESTATE_ARCHIVED` (v1), `ARCHIVED` (v2), `STORAGE_STATE_ARCHIVED` → `ARCHIVED`;
/// the same for AVAILABLE. Case-insensitive.
fn normalize_storage_state(s: String) -> Result<String, String> {
    let upper = s.to_ascii_uppercase();
    let bare = upper
        .strip_prefix("STORAGESTATE_")
        .or_else(|| upper.strip_prefix("STORAGE_STATE_"))
        .unwrap_or(&upper);
    match bare {
        "ARCHIVED" | "AVAILABLE" => Ok(bare.to_owned()),
        _ => Err(format!(
            "unknown storage state '{s}'; expected AVAILABLE or ARCHIVED \
             (optionally prefixed STORAGESTATE_ or STORAGE_STATE_)"
        )),
    }
}

/// Runs store the v1 status, the Argo phase. v2 clients filter on `state` with v2 names,
/// mapped here: SUCCEEDED, FAILED, RUNNING, PENDING, SKIPPED to the phase of that name;
/// CANCELED → `Failed` (a terminated Argo workflow ends Failed, which is also what a v1
/// client sees for it); CANCELING → `Terminating` (the status while a terminate is in
/// progress). Anything else (v1 phases, PAUSED, RUNTIME_STATE_UNSPECIFIED) is kept as
/// given, so it matches only runs stored with exactly that status.
fn v2_state_to_v1_status(s: String) -> String {
    let phase = match s.as_str() {
        "SUCCEEDED" => "Succeeded",
        "FAILED" | "CANCELED" => "Failed",
        "RUNNING" => "Running",
        "PENDING" => "Pending",
        "SKIPPED" => "Skipped",
        "CANCELING" => "Terminating",
        _ => return s,
    };
    phase.to_owned()
}

#[cfg(test)]
mod tests;
