use super::*;
use crate::list::{Cursor, CursorValue, Kind, Op, Predicate, Value};

fn params(page_token: &str, page_size: &str, sort_by: &str, filter: &str) -> ListParams {
    ListParams {
        page_token: page_token.to_owned(),
        page_size: page_size.to_owned(),
        sort_by: sort_by.to_owned(),
        filter: filter.to_owned(),
    }
}

fn message(result: Result<impl std::fmt::Debug, ApiError>) -> String {
    let err = result.expect_err("rejected");
    assert_eq!((err.status.as_u16(), err.code), (400, 3), "{err:?}");
    err.message
}

const NAME_X: &str = r#"{"predicates":[{"key":"name","op":"EQUALS","string_value":"x"}]}"#;

#[test]
fn page_size_bounds() {
    for (raw, size) in [
        ("", 20),
        (" ", 20),
        ("0", 20),
        ("1", 1),
        ("20", 20),
        ("200", 200),
        ("201", 200),
        ("99999999999", 200),
    ] {
        assert_eq!(parse_page_size(raw).expect(raw), size, "{raw}");
    }
    assert!(message(parse_page_size("-1")).starts_with("page_size: -1 is negative"));
    assert_eq!(
        message(parse_page_size("ten")),
        "page_size: 'ten' is not an integer"
    );
    assert!(message(parse_page_size("1.5")).contains("not an integer"));
}

#[test]
fn sort_forms() {
    let name = |desc| Sort {
        column: "name",
        kind: Kind::Text,
        desc,
    };
    for (raw, expected) in [
        ("name", name(false)),
        ("name asc", name(false)),
        ("name desc", name(true)),
        ("  display_name   DESC ", name(true)),
        ("Name Asc", name(false)),
        ("", Resource::Runs.default_sort()),
    ] {
        assert_eq!(
            parse_sort(raw, Resource::Runs).expect(raw),
            expected,
            "{raw}"
        );
    }
    let created = parse_sort("created_at desc", Resource::Jobs).expect("jobs");
    assert_eq!(
        (created.column, created.kind, created.desc),
        ("created_at", Kind::Timestamp, true)
    );
    let job_id = parse_sort("recurring_run_id", Resource::Runs).expect("v2 spelling");
    assert_eq!(job_id.column, "job_id");
}

#[test]
fn sort_errors() {
    assert_eq!(
        message(parse_sort("nme", Resource::Runs)),
        "sort_by: unknown field 'nme' for runs; known: id, run_id, name, display_name, \
         created_at, finished_at, scheduled_at, description, storage_state, status, state, \
         namespace, experiment_id, recurring_run_id, job_id"
    );
    assert_eq!(
        message(parse_sort("name sideways", Resource::Runs)),
        "sort_by: direction 'sideways' must be asc or desc"
    );
    assert!(
        message(parse_sort("name asc please", Resource::Runs)).starts_with("sort_by: expected")
    );
    assert!(message(parse_sort("metric:accuracy desc", Resource::Runs)).contains("not supported"));
    assert!(message(parse_sort("storage_state", Resource::Pipelines)).contains("for pipelines"));
}

#[test]
fn first_page_defaults() {
    let q = parse_list_query(&ListParams::default(), Resource::Experiments).expect("defaults");
    assert_eq!(
        q,
        ListQuery {
            predicates: Vec::new(),
            sort: Resource::Experiments.default_sort(),
            page_size: DEFAULT_PAGE_SIZE,
            after: None,
            known_total: None,
        }
    );
    let q = parse_list_query(&params("", "5", "name desc", NAME_X), Resource::Runs).expect("all");
    assert_eq!(q.page_size, 5);
    assert!(q.sort.desc);
    assert_eq!(
        q.predicates,
        vec![Predicate {
            column: "name",
            op: Op::Equals,
            value: Value::Text("x".to_owned()),
        }]
    );
}

#[test]
fn errors_come_from_each_parameter() {
    assert!(
        message(parse_list_query(&params("", "-3", "", ""), Resource::Runs))
            .starts_with("page_size:")
    );
    assert!(
        message(parse_list_query(
            &params("", "", "bogus", ""),
            Resource::Runs
        ))
        .starts_with("sort_by:")
    );
    assert!(
        message(parse_list_query(&params("", "", "", "{"), Resource::Runs)).starts_with("filter:")
    );
    assert!(
        message(parse_list_query(&params("%%%", "", "", ""), Resource::Runs))
            .starts_with("page_token:")
    );
}

/// The first page's query and a token for its second page.
fn first_page(sort_by: &str, filter: &str) -> (ListQuery, String) {
    let first = parse_list_query(&params("", "2", sort_by, filter), Resource::Runs).expect("first");
    let sort_value = match first.sort.kind {
        Kind::Text => CursorValue::Text("m".to_owned()),
        Kind::Int | Kind::Timestamp => CursorValue::Int(1_704_164_645),
    };
    let cursor = Cursor {
        sort_value,
        id: "r3".to_owned(),
    };
    let token = encode_token(&cursor, &first, Resource::Runs, None);
    (first, token)
}

#[test]
fn token_alone_continues_the_first_query() {
    let (first, token) = first_page("name desc", NAME_X);
    let next = parse_list_query(&params(&token, "2", "", ""), Resource::Runs).expect("token alone");
    assert_eq!(next.sort, first.sort);
    assert_eq!(next.predicates, first.predicates);
    assert_eq!(
        next.after,
        Some(Cursor {
            sort_value: CursorValue::Text("m".to_owned()),
            id: "r3".to_owned(),
        })
    );
    // Page size comes from each request, not the token.
    let bigger = parse_list_query(&params(&token, "50", "", ""), Resource::Runs).expect("size");
    assert_eq!(bigger.page_size, 50);
}

#[test]
fn token_with_the_same_sort_and_filter_is_accepted() {
    let (first, token) = first_page("name desc", NAME_X);
    // Clients resend what they sent first, possibly spelled differently.
    let camel = r#"{"predicates":[{"key":"display_name","operation":1,"stringValue":"x"}]}"#;
    for (sort_by, filter) in [
        ("name desc", NAME_X),
        ("display_name DESC", camel),
        ("", NAME_X),
        ("name desc", ""),
    ] {
        let next = parse_list_query(&params(&token, "2", sort_by, filter), Resource::Runs)
            .unwrap_or_else(|e| panic!("{sort_by:?} {filter:?}: {e}"));
        assert_eq!(
            (next.sort, &next.predicates),
            (first.sort, &first.predicates)
        );
    }
    // A default-sorted, unfiltered first page: explicit defaults match too.
    let (_, token) = first_page("", "");
    let next = parse_list_query(&params(&token, "", "created_at asc", "{}"), Resource::Runs);
    assert!(next.is_ok(), "{next:?}");
}

#[test]
fn token_with_a_different_sort_or_filter_is_rejected() {
    let (_, token) = first_page("name desc", NAME_X);
    let other = r#"{"predicates":[{"key":"name","op":"EQUALS","string_value":"y"}]}"#;
    for (sort_by, filter) in [
        ("name asc", ""),
        ("created_at desc", NAME_X),
        ("", other),
        ("", "{}"),
        ("name desc", other),
    ] {
        let msg = message(parse_list_query(
            &params(&token, "", sort_by, filter),
            Resource::Runs,
        ));
        assert!(
            msg.starts_with("page_token: page token does not match the request's sort_by/filter"),
            "{sort_by:?} {filter:?}: {msg}"
        );
    }
    // A runs token used to list experiments.
    let msg = message(parse_list_query(
        &params(&token, "", "", ""),
        Resource::Experiments,
    ));
    assert!(msg.contains("not of experiments"), "{msg}");
}
