//! A List request's `page_size`, `sort_by`, `filter` and `page_token` → [`ListQuery`].
//!
//! Client-supplied names (filter keys, sort fields, token contents) are only ever used to
//! look up a [`crate::list::Field`] of the resource, whose `&'static str` column is what
//! reaches the store; nothing a client sends becomes SQL text.
//!
//! Paging follows KFP: a page token carries the sort and the filter of the first request,
//! so the token alone is a valid request; a request that sends a token *and* a `sort_by`
//! or `filter` that differ from the token's is rejected.

mod filter;
mod token;

use serde::Deserialize;

pub use filter::{MAX_IN_VALUES, MAX_PREDICATES, parse_filter};
pub use token::{MAX_TOKEN_LEN, PageToken, decode_token, encode_token, next_page_token};

use crate::api::error::ApiError;
use crate::list::{ListQuery, Resource, Sort};

/// Page size when the request gives none (or 0).
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Larger page sizes are clamped to this.
pub const MAX_PAGE_SIZE: u32 = 200;

/// The paging query parameters common to every List route, as strings so that a bad value
/// gets a message naming it (axum's `Query` would answer with its own text). Use with
/// `Query<ListParams>`; other parameters of the route (`resource_reference_key.type`,
/// `namespace`, ...) are ignored here and read by the handler.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `next_page_token` of the previous page; alone it is a complete request.
    pub page_token: String,
    /// Items per page: default 20, at most 200.
    #[param(value_type = Option<i32>)]
    pub page_size: String,
    /// A field, optionally followed by ` desc` (e.g. `created_at desc`).
    pub sort_by: String,
    /// A URL-encoded JSON filter (`{"predicates": [{"key": "name", "op": "EQUALS",
    /// "string_value": "x"}]}`), in snake_case or lowerCamelCase.
    pub filter: String,
}

/// Parses the paging parameters of a List request for `resource`.
pub fn parse_list_query(params: &ListParams, resource: Resource) -> Result<ListQuery, ApiError> {
    let page_size = parse_page_size(&params.page_size)?;
    let explicit_sort = if params.sort_by.trim().is_empty() {
        None
    } else {
        Some(parse_sort(&params.sort_by, resource)?)
    };
    let explicit_filter = if params.filter.trim().is_empty() {
        None
    } else {
        Some(parse_filter(&params.filter, resource)?)
    };

    if params.page_token.trim().is_empty() {
        return Ok(ListQuery {
            predicates: explicit_filter.unwrap_or_default(),
            sort: explicit_sort.unwrap_or_else(|| resource.default_sort()),
            page_size,
            after: None,
            known_total: None,
        });
    }

    let token = decode_token(&params.page_token, resource)?;
    let sort_differs = explicit_sort.is_some_and(|s| s != token.sort);
    let filter_differs = explicit_filter.is_some_and(|f| f != token.predicates);
    if sort_differs || filter_differs {
        return Err(ApiError::invalid_argument(
            "page_token: page token does not match the request's sort_by/filter; send the \
             sort_by and filter of the first page, or the token alone",
        ));
    }
    Ok(ListQuery {
        predicates: token.predicates,
        sort: token.sort,
        page_size,
        after: Some(token.cursor),
        known_total: token.total,
    })
}

/// `page_size`: absent, empty or 0 → 20; above 200 → 200; negative → error.
pub fn parse_page_size(raw: &str) -> Result<u32, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(DEFAULT_PAGE_SIZE);
    }
    let n: i64 = raw
        .parse()
        .map_err(|_| ApiError::invalid_argument(format!("page_size: '{raw}' is not an integer")))?;
    match n {
        0 => Ok(DEFAULT_PAGE_SIZE),
        n if n < 0 => Err(ApiError::invalid_argument(format!(
            "page_size: {n} is negative; give 1..={MAX_PAGE_SIZE}, or 0 for the default \
             ({DEFAULT_PAGE_SIZE})"
        ))),
        n => Ok(u32::try_from(n).map_or(MAX_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE))),
    }
}

/// `sort_by`: `"field"`, `"field asc"` or `"field desc"`, whitespace-separated and
/// case-insensitive; blank is the resource's default (creation time, ascending).
/// KFP's `metric:<name>` sort for runs is not supported: no column holds it.
pub fn parse_sort(raw: &str, resource: Resource) -> Result<Sort, ApiError> {
    let words: Vec<&str> = raw.split_whitespace().collect();
    let (name, desc) = match words.as_slice() {
        [] => return Ok(resource.default_sort()),
        [name] => (*name, false),
        [name, dir] if dir.eq_ignore_ascii_case("asc") => (*name, false),
        [name, dir] if dir.eq_ignore_ascii_case("desc") => (*name, true),
        [_, dir] => {
            return Err(ApiError::invalid_argument(format!(
                "sort_by: direction '{dir}' must be asc or desc"
            )));
        }
        _ => {
            return Err(ApiError::invalid_argument(format!(
                "sort_by: expected \"field\", \"field asc\" or \"field desc\", got '{raw}'"
            )));
        }
    };
    if name.starts_with("metric:") {
        return Err(ApiError::invalid_argument(format!(
            "sort_by: sorting by a metric ('{name}') is not supported"
        )));
    }
    let field = resource
        .field(&name.to_ascii_lowercase())
        .ok_or_else(|| unknown_field("sort_by", name, resource))?;
    Ok(Sort {
        column: field.column,
        kind: field.kind,
        desc,
    })
}

/// `<at>: unknown field 'nme' for runs; known: id, run_id, name, ...`.
fn unknown_field(at: &str, name: &str, resource: Resource) -> ApiError {
    let known: Vec<&str> = resource
        .fields()
        .iter()
        .flat_map(|f| f.api_names.iter().copied())
        .collect();
    ApiError::invalid_argument(format!(
        "{at}: unknown field '{name}' for {}; known: {}",
        resource.table(),
        known.join(", ")
    ))
}

#[cfg(test)]
mod tests;
