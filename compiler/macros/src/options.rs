//! `key = value` options: the macros' own arguments (`#[component(image = ..)]`) and the
//! `#[kfp(..)]` attributes on parameters.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::parse::Parser;
use syn::{Attribute, Expr, Ident, Lit, LitStr, Token};

use crate::util::{Errors, unknown_key};

/// What a key takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `key = "text"`
    Str,
    /// `key = <any expression>`
    Expr,
    /// `key` alone
    Flag,
}

struct Entry {
    key: Ident,
    value: Option<Expr>,
}

/// Options after checking keys and value shapes; what is wrong is reported and left out.
#[derive(Default)]
pub struct Options {
    entries: Vec<(String, Ident, Option<Expr>)>,
}

impl Options {
    /// The macro's own arguments.
    pub fn from_args(
        tokens: TokenStream,
        known: &[(&str, Shape)],
        context: &str,
        errors: &mut Errors,
    ) -> Self {
        let mut raw = Vec::new();
        let parser = syn::meta::parser(|meta| collect(&mut raw, meta));
        if let Err(e) = parser.parse2(tokens) {
            errors.push(e);
        }
        Self::check(raw, known, context, errors)
    }

    /// Every `#[kfp(..)]` among `attrs`, which are removed from the list.
    pub fn take_kfp(
        attrs: &mut Vec<Attribute>,
        known: &[(&str, Shape)],
        context: &str,
        errors: &mut Errors,
    ) -> Self {
        let mut raw = Vec::new();
        attrs.retain(|attr| {
            if !attr.path().is_ident("kfp") {
                return true;
            }
            if let Err(e) = attr.parse_nested_meta(|meta| collect(&mut raw, meta)) {
                errors.push(e);
            }
            false
        });
        Self::check(raw, known, context, errors)
    }

    fn check(raw: Vec<Entry>, known: &[(&str, Shape)], context: &str, errors: &mut Errors) -> Self {
        let names: Vec<&str> = known.iter().map(|(k, _)| *k).collect();
        let mut out = Self::default();
        for Entry { key, value } in raw {
            let name = key.unraw().to_string();
            let Some((_, shape)) = known.iter().find(|(k, _)| *k == name) else {
                errors.push(unknown_key(key.span(), &name, context, &names));
                continue;
            };
            if out.entries.iter().any(|(n, _, _)| *n == name) {
                errors.at(&key, format!("`{name}` is given twice; keep one"));
                continue;
            }
            match (shape, &value) {
                (Shape::Flag, Some(v)) => {
                    errors.at(v, format!("`{name}` takes no value: write `{name}` alone"));
                    continue;
                }
                (Shape::Str | Shape::Expr, None) => {
                    let example = if *shape == Shape::Str {
                        "\"...\""
                    } else {
                        "..."
                    };
                    errors.at(
                        &key,
                        format!("`{name}` needs a value: write `{name} = {example}`"),
                    );
                    continue;
                }
                (Shape::Str, Some(v)) if as_str(v).is_none() => {
                    errors.at(
                        v,
                        format!("`{name}` takes a string literal: write `{name} = \"...\"`"),
                    );
                    continue;
                }
                _ => {}
            }
            out.entries.push((name, key, value));
        }
        out
    }

    fn get(&self, key: &str) -> Option<&(String, Ident, Option<Expr>)> {
        self.entries.iter().find(|(n, _, _)| n == key)
    }

    /// A `Str` option's literal.
    pub fn str(&self, key: &str) -> Option<LitStr> {
        self.get(key)
            .and_then(|(_, _, v)| v.as_ref())
            .and_then(as_str)
    }

    /// An `Expr` option's expression.
    pub fn expr(&self, key: &str) -> Option<&Expr> {
        self.get(key).and_then(|(_, _, v)| v.as_ref())
    }

    /// `key = value` as written, if it was (for errors about it).
    pub fn written(&self, key: &str) -> Option<TokenStream> {
        self.get(key).map(|(_, k, v)| match v {
            Some(v) => quote!(#k = #v),
            None => quote!(#k),
        })
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
}

fn collect(raw: &mut Vec<Entry>, meta: syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    let Some(key) = meta.path.get_ident().cloned() else {
        return Err(meta.error("expected a key such as `name = \"...\"`"));
    };
    let value = if meta.input.peek(Token![=]) {
        Some(meta.value()?.parse::<Expr>()?)
    } else if meta.input.is_empty() || meta.input.peek(Token![,]) {
        None
    } else {
        return Err(meta.error(format!("expected `{key} = ...` or `{key}` alone")));
    };
    raw.push(Entry { key, value });
    Ok(())
}

fn as_str(expr: &Expr) -> Option<LitStr> {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(s) => Some(s.clone()),
            _ => None,
        },
        Expr::Group(g) => as_str(&g.expr),
        _ => None,
    }
}
