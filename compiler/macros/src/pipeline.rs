//! `#[pipeline]`: a function that builds a pipeline from its typed parameters.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, Ident, ItemFn, PathArguments, ReturnType, Type};

use crate::component::{binding, check_signature};
use crate::options::{Options, Shape};
use crate::util::{Errors, doc_text, ident_text, lit, passthrough_attrs, type_text};

const ARGS: &[(&str, Shape)] = &[("name", Shape::Str), ("description", Shape::Str)];
const PARAM_OPTIONS: &[(&str, Shape)] = &[
    ("name", Shape::Str),
    ("description", Shape::Str),
    ("default", Shape::Expr),
    ("optional", Shape::Flag),
    ("type", Shape::Str),
];

const FIRST_PARAM: &str = "the first parameter of a #[pipeline] fn is the pipeline being \
                           built: write `p: &mut Pipeline`";

pub fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut func: ItemFn = syn::parse2(item)?;
    let mut errors = Errors::default();
    let opts = Options::from_args(args, ARGS, "#[pipeline(...)]", &mut errors);
    check_signature(&func, "#[pipeline]", &mut errors);
    if let ReturnType::Type(_, ty) = &func.sig.output {
        errors.at(
            ty,
            "a #[pipeline] fn returns nothing (the macro makes it return the `Pipeline`): \
             remove the return type, and declare the pipeline's outputs with \
             `p.output(\"name\", value)`",
        );
    }
    let attrs = passthrough_attrs(&func.attrs, &mut errors, "#[pipeline]");

    let pipeline = Ident::new("pipeline", Span::mixed_site());
    let mut declarations = Vec::new();
    let mut values = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (i, arg) in func.sig.inputs.iter_mut().enumerate() {
        let arg = match arg {
            FnArg::Receiver(r) => {
                errors.at(
                    r,
                    "a #[pipeline] fn takes no `self`: make it a free function",
                );
                continue;
            }
            FnArg::Typed(arg) => arg,
        };
        if i == 0 {
            if let Some(attr) = arg.attrs.iter().find(|a| a.path().is_ident("kfp")) {
                errors.at(
                    attr,
                    "`#[kfp(..)]` options belong on the pipeline's parameters, not on `p`",
                );
            }
            if matches!(&*arg.ty, Type::Reference(r) if r.mutability.is_some()) {
                values.push(quote!(&mut #pipeline));
            } else {
                errors.at(&*arg, FIRST_PARAM);
            }
            continue;
        }
        let opts = Options::take_kfp(&mut arg.attrs, PARAM_OPTIONS, "#[kfp(...)]", &mut errors);
        for (key, why) in [
            (
                "optional",
                "a pipeline parameter is optional only through a default: write \
                 `#[kfp(default = ...)]`",
            ),
            (
                "type",
                "the KFP type of a pipeline parameter comes from `T` in `Param<T>`",
            ),
        ] {
            if let Some(written) = opts.written(key) {
                errors.at(written, why);
            }
        }
        let Some(t) = param_type(&arg.ty) else {
            let t = type_text(&arg.ty);
            errors.at(
                &arg.ty,
                format!(
                    "a #[pipeline] fn's parameters are its typed run parameters: write \
                     `Param<{t}>` instead of `{t}`"
                ),
            );
            continue;
        };
        let Some(ident) = binding(&arg.pat, "#[pipeline]", &mut errors) else {
            continue;
        };
        let name_lit = opts.str("name");
        let name = name_lit
            .as_ref()
            .map_or_else(|| ident_text(&ident), syn::LitStr::value);
        if names.contains(&name) {
            errors.at(
                &ident,
                format!(
                    "two parameters are named `{name}`: rename one with `#[kfp(name = \"...\")]`"
                ),
            );
        }
        names.push(name.clone());
        let name = lit(
            &name,
            name_lit.as_ref().map_or(ident.span(), syn::LitStr::span),
        );
        let value = match (opts.expr("default"), opts.str("description")) {
            (None, None) => quote!(#pipeline.param::<#t>(#name)),
            (Some(d), None) => {
                let d = quote_spanned!(d.span()=> <_ as ::kfp::dsl::IntoConstant<#t>>::into_constant(#d));
                quote!(#pipeline.param_with_default::<#t>(#name, #d))
            }
            (default, Some(desc)) => {
                let default = default.map_or_else(
                    || quote!(::std::option::Option::None),
                    |d| quote_spanned!(d.span()=> ::std::option::Option::Some(::kfp::dsl::default_text::<#t>(#d))),
                );
                quote! {
                    ::kfp::dsl::Param::<#t>::from_value(#pipeline.param_value(
                        #name,
                        ::std::option::Option::Some(<#t as ::kfp::component::KfpType>::type_spec()),
                        #default,
                        ::std::option::Option::Some(::std::string::String::from(#desc)),
                    ))
                }
            }
        };
        // Declared in order, before the body borrows the pipeline.
        let var = Ident::new(&format!("param{i}"), Span::mixed_site());
        declarations.push(quote!(let #var = #value;));
        values.push(quote!(#var));
    }
    if func.sig.inputs.is_empty() {
        errors.push(syn::Error::new(
            func.sig.paren_token.span.join(),
            FIRST_PARAM,
        ));
    }
    errors.finish()?;

    let vis = &func.vis;
    let ident = &func.sig.ident;
    let name = opts.str("name").map_or_else(
        || lit(&ident_text(ident).replace('_', "-"), ident.span()),
        |l| l.to_token_stream(),
    );
    let description = opts
        .str("description")
        .map(|l| l.value())
        .or_else(|| doc_text(&func.attrs))
        .map(|d| quote!(.description(#d)));
    let docs = func.attrs.iter().filter(|a| a.path().is_ident("doc"));
    // The user's function, unchanged but for its name, runs on the declared parameters.
    let body = Ident::new("body", Span::mixed_site());
    let mut body_sig = func.sig.clone();
    body_sig.ident = body.clone();
    let block = &func.block;
    Ok(quote! {
        #(#docs)*
        #(#attrs)*
        #vis fn #ident() -> ::kfp::dsl::Pipeline {
            #body_sig #block
            let mut #pipeline = ::kfp::dsl::Pipeline::new(#name) #description;
            #(#declarations)*
            #body(#(#values),*);
            #pipeline
        }
    })
}

/// `T` of `Param<T>`.
fn param_type(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Group(g) => param_type(&g.elem),
        Type::Paren(p) => param_type(&p.elem),
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if last.ident != "Param" {
                return None;
            }
            match &last.arguments {
                PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first()? {
                    GenericArgument::Type(t) => Some(t),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}
