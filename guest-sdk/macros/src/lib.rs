//! The `#[solid]` attribute of `weft-guest`: turns a function into a weft solid.
//!
//! See the `weft-guest` crate for the user-facing documentation.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, FnArg, Ident, ItemFn, Lit, LitStr, Pat, ReturnType, Token, Type, parenthesized, parse_macro_input};

/// Marks a function as the solid of this component. See the `weft-guest` crate docs.
#[proc_macro_attribute]
pub fn solid(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut attrs = SolidAttrs::default();
    let parser = syn::meta::parser(|meta| attrs.parse(meta));
    parse_macro_input!(args with parser);
    let function = parse_macro_input!(item as ItemFn);
    match expand(attrs, function) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// One declared output: `name: Type = "description"`.
struct OutputSpec {
    name: Ident,
    ty: Type,
    description: Option<LitStr>,
}

impl Parse for OutputSpec {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name = input.parse()?;
        input.parse::<Token![:]>()?;
        let ty = input.parse()?;
        let description = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(OutputSpec { name, ty, description })
    }
}

/// `(name: Type = "description", ...)`.
fn parse_specs(meta: &syn::meta::ParseNestedMeta) -> syn::Result<Vec<OutputSpec>> {
    let content;
    parenthesized!(content in meta.input);
    let specs = Punctuated::<OutputSpec, Token![,]>::parse_terminated(&content)?;
    Ok(specs.into_iter().collect())
}

#[derive(Default)]
struct SolidAttrs {
    name: Option<LitStr>,
    description: Option<LitStr>,
    version: Option<LitStr>,
    output: Option<LitStr>,
    outputs: Option<Vec<OutputSpec>>,
    yields: Vec<OutputSpec>,
    input_descriptions: Vec<(Ident, LitStr)>,
    config_schema: Option<LitStr>,
    config: Option<Type>,
    resources: Vec<(Ident, Ident)>,
    tags: Vec<(Ident, LitStr)>,
}

impl SolidAttrs {
    fn parse(&mut self, meta: syn::meta::ParseNestedMeta) -> syn::Result<()> {
        let key = meta.path.get_ident().map(Ident::to_string).unwrap_or_default();
        match key.as_str() {
            "name" => self.name = Some(meta.value()?.parse()?),
            "description" => self.description = Some(meta.value()?.parse()?),
            "version" => self.version = Some(meta.value()?.parse()?),
            "output" => self.output = Some(meta.value()?.parse()?),
            "config_schema" => self.config_schema = Some(meta.value()?.parse()?),
            "config" => self.config = Some(meta.value()?.parse()?),
            "outputs" => self.outputs = Some(parse_specs(&meta)?),
            "yields" => self.yields = parse_specs(&meta)?,
            "inputs" => meta.parse_nested_meta(|input| {
                let name = input.path.require_ident()?.clone();
                self.input_descriptions.push((name, input.value()?.parse()?));
                Ok(())
            })?,
            "tags" => meta.parse_nested_meta(|tag| {
                let name = tag.path.require_ident()?.clone();
                self.tags.push((name, tag.value()?.parse()?));
                Ok(())
            })?,
            "resources" => meta.parse_nested_meta(|resource| {
                let name = resource.path.require_ident()?.clone();
                let kind: Ident = resource.value()?.parse()?;
                if !["key_value", "sql", "http", "secrets"].contains(&kind.to_string().as_str()) {
                    return Err(syn::Error::new_spanned(
                        kind,
                        "expected a resource kind: key_value, sql, http or secrets",
                    ));
                }
                self.resources.push((name, kind));
                Ok(())
            })?,
            _ => {
                return Err(meta.error(
                    "unknown key: expected one of name, description, version, output, \
                     outputs, yields, inputs, config, config_schema, resources, tags",
                ));
            }
        }
        Ok(())
    }
}

/// The doc comment of the function, as the solid's default description.
fn doc_comment(function: &ItemFn) -> String {
    let lines: Vec<String> = function
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| line.trim().to_owned())
        .collect();
    lines.join("\n").trim().to_owned()
}

/// `Result<T, E>` -> `(T, true)`; any other type `T` -> `(T, false)`.
fn unwrap_result(ty: &Type) -> (Type, bool) {
    if let Type::Path(path) = ty
        && let Some(last) = path.path.segments.last()
        && last.ident == "Result"
        && let syn::PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(syn::GenericArgument::Type(ok)) = args.args.first()
    {
        return (ok.clone(), true);
    }
    (ty.clone(), false)
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}

fn expand(attrs: SolidAttrs, function: ItemFn) -> syn::Result<TokenStream2> {
    let fn_name = &function.sig.ident;
    let solid_name = attrs.name.as_ref().map(LitStr::value).unwrap_or_else(|| fn_name.to_string());
    let description = attrs.description.as_ref().map(LitStr::value).unwrap_or_else(|| doc_comment(&function));
    let version = match &attrs.version {
        Some(v) => quote!(#v),
        None => quote!(::core::env!("CARGO_PKG_VERSION")),
    };

    // Parameters: one `&Context` (any reference) and the inputs.
    let mut input_defs = Vec::new();
    let mut input_takes = Vec::new();
    let mut call_args = Vec::new();
    let mut input_names = Vec::new();
    for arg in &function.sig.inputs {
        let FnArg::Typed(arg) = arg else {
            return Err(syn::Error::new_spanned(arg, "a solid is a free function, not a method"));
        };
        if matches!(*arg.ty, Type::Reference(_)) {
            call_args.push(quote!(&__weft_ctx));
            continue;
        }
        let Pat::Ident(pat) = &*arg.pat else {
            return Err(syn::Error::new_spanned(&arg.pat, "an input parameter needs a plain name"));
        };
        let ident = &pat.ident;
        // `config: T` with `#[solid(config = T)]` receives the validated config.
        if ident == "config"
            && let Some(config_ty) = &attrs.config
        {
            input_takes.push(quote!(let __weft_config: #config_ty = ::weft_guest::__private::config::<#config_ty>()?;));
            call_args.push(quote!(__weft_config));
            continue;
        }
        let name = ident.to_string();
        let name = name.strip_prefix('_').unwrap_or(&name).to_owned();
        let ty = &arg.ty;
        let desc = attrs
            .input_descriptions
            .iter()
            .find(|(n, _)| *n == name.as_str())
            .map(|(_, d)| d.value())
            .unwrap_or_default();
        let local = format_ident!("__weft_in_{}", name);
        input_names.push(name.clone());
        input_defs.push(quote!(::weft_guest::__private::input_def::<#ty>(#name, #desc)));
        input_takes.push(quote!(let #local: #ty = __weft_inputs.take::<#ty>(#name)?;));
        call_args.push(quote!(#local));
    }
    for (name, _) in &attrs.input_descriptions {
        if !input_names.iter().any(|n| name == n) {
            return Err(syn::Error::new_spanned(name, "no input parameter has this name"));
        }
    }

    // Return value: the outputs.
    let ret_ty: Type = match &function.sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let (value_ty, is_result) = unwrap_result(&ret_ty);
    let outputs: Vec<OutputSpec> = match attrs.outputs {
        Some(specs) => specs,
        None if is_unit(&value_ty) => Vec::new(),
        None => {
            let name = attrs.output.as_ref().map(LitStr::value).unwrap_or_else(|| "result".into());
            vec![OutputSpec {
                name: Ident::new(&name, attrs.output.as_ref().map_or(Span::call_site(), LitStr::span)),
                ty: value_ty.clone(),
                description: None,
            }]
        }
    };
    let output_defs = outputs.iter().chain(&attrs.yields).map(|o| {
        let (name, ty) = (o.name.to_string(), &o.ty);
        let desc = o.description.as_ref().map(LitStr::value).unwrap_or_default();
        quote!(::weft_guest::__private::output_def::<#ty>(#name, #desc))
    });
    // Which outputs the return value carries: none when the function returns `()` (it
    // yields them through the context), one value, or a tuple in declared order.
    let push_outputs = if is_unit(&value_ty) {
        quote!(let () = __weft_ret;)
    } else if outputs.len() == 1 {
        let (name, ty) = (outputs[0].name.to_string(), &outputs[0].ty);
        quote!(::weft_guest::__private::push_output::<#ty>(&mut __weft_out, #name, __weft_ret);)
    } else {
        let locals: Vec<Ident> = (0..outputs.len()).map(|i| format_ident!("__weft_o{}", i)).collect();
        let pushes = outputs.iter().zip(&locals).map(|(o, local)| {
            let (name, ty) = (o.name.to_string(), &o.ty);
            quote!(::weft_guest::__private::push_output::<#ty>(&mut __weft_out, #name, #local);)
        });
        quote!(let (#(#locals,)*) = __weft_ret; #(#pushes)*)
    };
    let unwrap = if is_result {
        quote!(let __weft_ret = match __weft_ret {
            ::core::result::Result::Ok(value) => value,
            ::core::result::Result::Err(error) => {
                return ::core::result::Result::Err(::weft_guest::__private::failure(error));
            }
        };)
    } else {
        quote!()
    };
    let config_schema = match (&attrs.config_schema, &attrs.config) {
        (Some(_), Some(ty)) => {
            return Err(syn::Error::new_spanned(ty, "give `config = Type` or `config_schema = \"...\"`, not both"));
        }
        (Some(schema), None) => quote!(::core::option::Option::Some(::std::string::String::from(#schema))),
        (None, Some(ty)) => quote!(::core::option::Option::Some(::weft_guest::__private::config_schema::<#ty>())),
        (None, None) => quote!(::core::option::Option::None),
    };
    let resources = attrs.resources.iter().map(|(name, kind)| {
        let name = name.to_string();
        let variant = match kind.to_string().as_str() {
            "key_value" => format_ident!("KeyValue"),
            "sql" => format_ident!("Sql"),
            "http" => format_ident!("Http"),
            _ => format_ident!("Secrets"),
        };
        quote!((#name, ::weft_guest::__private::ResourceKind::#variant))
    });
    let tags = attrs.tags.iter().map(|(k, v)| {
        let k = k.to_string();
        quote!((#k, #v))
    });

    Ok(quote! {
        #function

        const _: () = {
            struct __WeftSolid;

            impl ::weft_guest::__private::Guest for __WeftSolid {
                fn describe() -> ::weft_guest::__private::SolidDef {
                    ::weft_guest::__private::solid_def(
                        #solid_name,
                        #description,
                        #version,
                        ::std::vec![#(#input_defs),*],
                        ::std::vec![#(#output_defs),*],
                        #config_schema,
                        &[#(#resources),*],
                        &[#(#tags),*],
                    )
                }

                fn compute(
                    inputs: ::std::vec::Vec<::weft_guest::__private::NamedValue>,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<::weft_guest::__private::NamedValue>,
                    ::weft_guest::__private::WitFailure,
                > {
                    let mut __weft_inputs = ::weft_guest::__private::Inputs::new(inputs)?;
                    #(#input_takes)*
                    let __weft_ctx = ::weft_guest::Context::new();
                    let __weft_ret = #fn_name(#(#call_args),*);
                    #unwrap
                    let mut __weft_out = ::std::vec::Vec::new();
                    #push_outputs
                    ::core::result::Result::Ok(__weft_out)
                }
            }

            ::weft_guest::bindings::export!(__WeftSolid with_types_in ::weft_guest::bindings);
        };
    })
}
