//! The `page_token`: base64 of a small JSON object that holds everything needed to serve
//! the next page without the original request: the resource, the sort column and
//! direction, the normalized filter, and the cursor (sort value and ID of the next row).
//!
//! ```json
//! {"resource":"runs","sort_column":"created_at","desc":false,"sort_value":1704164645,
//!  "id":"9b2c...","filter":[{"column":"name","op":"EQUALS","value":"x"}]}
//! ```
//!
//! The token is opaque to clients but not secret or signed: on the way back in every
//! column name is looked up in the resource's field table (never used as given), every
//! operation and value is checked as a request filter is, and anything else is a 400.
//! It stores the full filter rather than a hash of it: the filter is needed to answer
//! a token-only request, and comparing it directly is exact.
//!
//! Tokens are written URL-safe without padding (a token pasted into a URL unencoded stays
//! intact); standard base64, with or without padding, is accepted too.

use base64::Engine as _;
use base64::engine::general_purpose::{
    STANDARD_PAD_INDIFFERENT, URL_SAFE_NO_PAD, URL_SAFE_PAD_INDIFFERENT,
};
use serde::{Deserialize, Serialize};

use super::filter::{check_predicate, op_from_name, op_name};
use crate::api::error::ApiError;
use crate::list::{
    Cursor, CursorValue, Field, Kind, ListQuery, Page, Predicate, Resource, Sort, Value,
};

/// Longer `page_token`s are rejected before decoding (ours are far shorter).
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// A decoded page token: the query it continues and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken {
    pub sort: Sort,
    pub predicates: Vec<Predicate>,
    pub cursor: Cursor,
    /// `total_size` of the listing, counted for its first page.
    pub total: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenJson {
    resource: String,
    sort_column: String,
    desc: bool,
    sort_value: ScalarJson,
    id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    filter: Vec<PredicateJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    total: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PredicateJson {
    column: String,
    op: String,
    value: ValueJson,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum ScalarJson {
    Int(i64),
    Text(String),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum ValueJson {
    Int(i64),
    Text(String),
    Ints(Vec<i64>),
    Texts(Vec<String>),
}

/// The token for the page that starts at `cursor`, continuing `query` over `resource`;
/// it carries the listing's `total` so later pages need not count again.
pub fn encode_token(
    cursor: &Cursor,
    query: &ListQuery,
    resource: Resource,
    total: Option<i64>,
) -> String {
    let token = TokenJson {
        resource: resource.table().to_owned(),
        sort_column: query.sort.column.to_owned(),
        desc: query.sort.desc,
        sort_value: match &cursor.sort_value {
            CursorValue::Int(n) => ScalarJson::Int(*n),
            CursorValue::Text(s) => ScalarJson::Text(s.clone()),
        },
        id: cursor.id.clone(),
        filter: query
            .predicates
            .iter()
            .map(|p| PredicateJson {
                column: p.column.to_owned(),
                op: op_name(p.op).to_owned(),
                value: match &p.value {
                    Value::Int(n) => ValueJson::Int(*n),
                    Value::Text(s) => ValueJson::Text(s.clone()),
                    Value::Ints(v) => ValueJson::Ints(v.clone()),
                    Value::Texts(v) => ValueJson::Texts(v.clone()),
                },
            })
            .collect(),
        total: total.filter(|t| *t >= 0),
    };
    let json = serde_json::to_vec(&token)
        .expect("a struct of strings, integers and lists always serializes to JSON");
    URL_SAFE_NO_PAD.encode(json)
}

/// The `next_page_token` of a List response: the token for `next`, or `""` (omitted on
/// the wire) on the last page.
pub fn next_page_token<T>(page: &Page<T>, query: &ListQuery, resource: Resource) -> String {
    page.next
        .as_ref()
        .map(|cursor| encode_token(cursor, query, resource, Some(page.total_size)))
        .unwrap_or_default()
}

/// Decodes and checks a `page_token` for a List of `resource`.
pub fn decode_token(raw: &str, resource: Resource) -> Result<PageToken, ApiError> {
    let bad = |why: &str| {
        ApiError::invalid_argument(format!("page_token: not a valid page token ({why})"))
    };
    let raw = raw.trim();
    if raw.len() > MAX_TOKEN_LEN {
        return Err(bad("too long"));
    }
    // A standard-alphabet token put in a URL unencoded has its '+' turned into ' '.
    let raw = raw.replace(' ', "+");
    let bytes = STANDARD_PAD_INDIFFERENT
        .decode(&raw)
        .or_else(|_| URL_SAFE_PAD_INDIFFERENT.decode(&raw))
        .map_err(|_| bad("not base64"))?;
    let token: TokenJson =
        serde_json::from_slice(&bytes).map_err(|e| bad(&format!("bad JSON: {e}")))?;

    if token.resource != resource.table() {
        return Err(ApiError::invalid_argument(format!(
            "page_token: the token continues a list of {:?}, not of {}",
            token.resource,
            resource.table()
        )));
    }
    let sort_field = field_by_column(resource, &token.sort_column)
        .ok_or_else(|| bad(&format!("unknown sort column {:?}", token.sort_column)))?;
    let sort_value = match (sort_field.kind, token.sort_value) {
        (Kind::Text, ScalarJson::Text(s)) => CursorValue::Text(s),
        (Kind::Int | Kind::Timestamp, ScalarJson::Int(n)) => CursorValue::Int(n),
        _ => return Err(bad("the sort value does not fit the sort column")),
    };
    let predicates = token
        .filter
        .into_iter()
        .enumerate()
        .map(|(i, p)| decode_predicate(p, resource).map_err(|m| bad(&format!("filter[{i}]: {m}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PageToken {
        sort: Sort {
            column: sort_field.column,
            kind: sort_field.kind,
            desc: token.desc,
        },
        predicates,
        cursor: Cursor {
            sort_value,
            id: token.id,
        },
        total: token.total.filter(|t| *t >= 0),
    })
}

fn decode_predicate(p: PredicateJson, resource: Resource) -> Result<Predicate, String> {
    let field = field_by_column(resource, &p.column)
        .ok_or_else(|| format!("unknown column {:?}", p.column))?;
    let op = op_from_name(&p.op).ok_or_else(|| format!("unknown operation {:?}", p.op))?;
    let value = match p.value {
        ValueJson::Int(n) => Value::Int(n),
        ValueJson::Text(s) => Value::Text(s),
        ValueJson::Ints(v) => Value::Ints(v),
        ValueJson::Texts(v) => Value::Texts(v),
    };
    let key = field.api_names.first().copied().unwrap_or(field.column);
    check_predicate(field, key, op, &value)?;
    Ok(Predicate {
        column: field.column,
        op,
        value,
    })
}

/// The field stored in `column`: maps a name read from a token back to the `&'static`
/// column of the resource's table.
fn field_by_column(resource: Resource, column: &str) -> Option<&'static Field> {
    resource.fields().iter().find(|f| f.column == column)
}

#[cfg(test)]
mod tests;
