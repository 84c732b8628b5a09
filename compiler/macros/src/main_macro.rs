//! `main!(hello, other)`: the `main` of a pipeline binary, handing the listed pipelines
//! to `kfp::cli`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Path, Token};

use crate::util::{Errors, ident_text, lit};

pub fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let paths = Punctuated::<Path, Token![,]>::parse_terminated.parse2(input).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("{e}: `kfp::main!` takes the pipeline functions to serve, e.g. `kfp::main!(hello, training)`"),
        )
    })?;
    if paths.is_empty() {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "`kfp::main!` needs at least one #[pipeline] function: write `kfp::main!(hello)`",
        ));
    }
    let mut errors = Errors::default();
    let mut names: Vec<String> = Vec::new();
    let mut entries = Vec::new();
    for path in &paths {
        let Some(last) = path.segments.last() else {
            continue;
        };
        let name = ident_text(&last.ident);
        if names.contains(&name) {
            errors.at(path, format!("`{name}` is listed twice"));
        }
        names.push(name.clone());
        let name = lit(&name, last.ident.span());
        entries.push(quote_spanned!(path.span()=> .pipeline(#name, #path)));
    }
    errors.finish()?;
    Ok(quote! {
        fn main() -> ::std::process::ExitCode {
            ::kfp::cli::Program::new()
                #(#entries)*
                .run()
        }
    })
}
