//! `#[derive(KfpOutputs)]`: a struct whose fields are the outputs of a Rust-function
//! component, one output per field (the struct a `#[component]` fn returns).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{Data, DeriveInput, Fields, Ident, LitStr};

use crate::options::{Options, Shape};
use crate::types::{Place, ValueType, classify_value};
use crate::util::{Errors, ident_text};

const FIELD_OPTIONS: &[(&str, Shape)] = &[("name", Shape::Str), ("description", Shape::Str)];

struct Field {
    ident: Ident,
    name: String,
    value: ValueType,
    description: Option<LitStr>,
}

pub fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let mut input: DeriveInput = syn::parse2(input)?;
    let mut errors = Errors::default();
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        errors.at(
            &input.generics,
            "a `KfpOutputs` struct cannot be generic: its fields are the outputs of a component, \
             each with a fixed type",
        );
    }
    let fields = match &mut input.data {
        Data::Struct(s) => match &mut s.fields {
            Fields::Named(named) => named.named.iter_mut().collect::<Vec<_>>(),
            other => {
                errors.at(
                    &*other,
                    "`KfpOutputs` needs named fields: each field is an output of that name",
                );
                Vec::new()
            }
        },
        _ => {
            errors.at(
                &input.ident,
                "`KfpOutputs` is derived for a struct with named fields (one output per field); \
                 to return an enum as one JSON value, return `Json<..>`",
            );
            Vec::new()
        }
    };
    let mut outputs: Vec<Field> = Vec::new();
    for field in fields {
        let opts = Options::take_kfp(&mut field.attrs, FIELD_OPTIONS, "#[kfp(...)]", &mut errors);
        let Some(ident) = field.ident.clone() else {
            continue;
        };
        let value = match classify_value(&field.ty, Place::Field) {
            Ok(v) => v,
            Err(message) => {
                errors.at(&field.ty, message);
                continue;
            }
        };
        let name_lit = opts.str("name");
        let name = name_lit
            .as_ref()
            .map_or_else(|| ident_text(&ident), LitStr::value);
        let name_span = name_lit.as_ref().map_or(ident.span(), LitStr::span);
        if name.trim().is_empty() {
            errors.push(syn::Error::new(name_span, "a name cannot be empty"));
            continue;
        }
        if outputs.iter().any(|o| o.name == name) {
            errors.push(syn::Error::new(
                name_span,
                format!("two outputs are named `{name}`: rename one with `#[kfp(name = \"...\")]`"),
            ));
        }
        outputs.push(Field {
            ident,
            name,
            value,
            description: opts.str("description"),
        });
    }
    errors.finish()?;
    Ok(generate(&input, &outputs))
}

fn generate(input: &DeriveInput, fields: &[Field]) -> TokenStream {
    let vis = &input.vis;
    let ty = &input.ident;
    let params_ty = format_ident!("{}Params", ty, span = ty.span());
    let source = Ident::new("source", Span::mixed_site());
    let outputs = Ident::new("outputs", Span::mixed_site());
    let doc = format!(
        "The outputs of a task whose Rust function returns [`{ty}`]: values to pass to other \
         tasks."
    );
    let decls = fields.iter().map(|f| {
        let (ident, t) = (&f.ident, f.value.pipeline_type());
        let doc = f
            .description
            .as_ref()
            .map_or_else(|| format!("The output `{}`.", f.name), LitStr::value);
        quote!(#[doc = #doc] pub #ident: ::kfp::dsl::Param<#t>)
    });
    let specs = fields.iter().map(|f| {
        let (n, codec) = (&f.name, f.value.codec());
        let d = f.description.as_ref().map(|d| quote!(.description(#d)));
        quote_spanned!(f.value.span()=> ::kfp::dsl::FunctionOutput::value::<#codec>(#n) #d)
    });
    let makes = fields.iter().map(|f| {
        let (ident, n) = (&f.ident, &f.name);
        quote!(#ident: ::kfp::dsl::Param::from_value(#source.value(#n)))
    });
    let idents: Vec<&Ident> = fields.iter().map(|f| &f.ident).collect();
    let sets = fields.iter().map(|f| {
        let (ident, n, codec) = (&f.ident, &f.name, f.value.codec());
        let value = f.value.wrap(quote!(#ident));
        quote_spanned!(f.value.span()=> #outputs.set::<#codec>(#n, &#value)?;)
    });
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone)]
        #vis struct #params_ty {
            #(#decls,)*
        }

        impl ::kfp::dsl::KfpOutputs for #ty {
            type Params = #params_ty;
            fn outputs() -> ::std::vec::Vec<::kfp::dsl::FunctionOutput> {
                ::std::vec![#(#specs),*]
            }
            #[allow(unused_variables)]
            fn params(#source: &::kfp::dsl::OutputSource) -> #params_ty {
                #params_ty { #(#makes,)* }
            }
            #[allow(unused_variables)]
            fn write(
                self,
                #outputs: &mut ::kfp::dsl::Outputs,
            ) -> ::std::result::Result<(), ::std::string::String> {
                let Self { #(#idents,)* } = self;
                #(#sets)*
                ::std::result::Result::Ok(())
            }
        }
    }
}
