//! `weft new`: a project, or one more solid in a project, from a template per language.
//! A new project builds, runs and passes its test as it is: `weft run`, `weft test`.

use anyhow::Context as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use weft_host::Error;
use weft_host::language::Language;

const MANIFEST: &str = include_str!("templates/manifest.toml");
const RUST_CARGO: &str = include_str!("templates/rust.Cargo.toml");
const RUST_LIB: &str = include_str!("templates/rust.lib.rs");

/// The language of a template: Rust (built by cargo, through a recipe in the manifest),
/// or one that weft builds itself.
#[derive(Debug, Clone, Copy)]
pub enum TemplateLanguage {
    Rust,
    Built(Language),
}

impl TemplateLanguage {
    /// # Errors
    /// A message naming the languages there are templates for.
    pub fn parse(name: &str) -> Result<TemplateLanguage, String> {
        if name == "rust" {
            return Ok(TemplateLanguage::Rust);
        }
        Language::from_name(name).map(TemplateLanguage::Built).map_err(|_| {
            let names: Vec<&str> = std::iter::once("rust").chain(Language::all().map(Language::name)).collect();
            format!("no template for `{name}`; weft has templates for {}", names.join(", "))
        })
    }
}

/// `weft new DIR`: a project in a new directory, with one solid, a pipeline and a test.
pub fn project(dir: &Path, language: TemplateLanguage, solid: Option<String>) -> anyhow::Result<ExitCode> {
    if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(Error::NotFound(format!("{} exists and is not empty", dir.display())).into());
    }
    let project = dir.file_name().and_then(|n| n.to_str()).map(identifier).unwrap_or_default();
    let project = if project.is_empty() { "pipeline".to_owned() } else { project };
    let name = match solid {
        Some(name) => checked_name(&name)?,
        None => "hello".to_owned(),
    };
    let entry = write_solid(dir, &name, language)?;
    let manifest = fill(MANIFEST, &[("project", &project), ("name", &name), ("solid_entry", &entry)]);
    write(&dir.join("weft.toml"), &manifest)?;
    write(&dir.join(".gitignore"), "/.weft/\n/solids/*/target/\n")?;
    println!("Created {} with the solid `{name}`: a pipeline `{project}` and a test.", dir.display());
    println!("  cd {}", dir.display());
    println!("  weft run     # build the solid and run the pipeline");
    println!("  weft test    # check the pipeline's outputs");
    Ok(ExitCode::SUCCESS)
}

/// `weft new --solid NAME`: one more solid in the project of `manifest`, declared in it
/// and left for the user to wire into a pipeline.
pub fn solid(manifest: &Path, name: &str, language: TemplateLanguage) -> anyhow::Result<ExitCode> {
    let name = checked_name(name)?;
    let parsed = weft_host::Manifest::load(manifest).map_err(Error::from)?;
    if parsed.solid(&name).is_some() {
        let message = format!("{} already declares a solid `{name}`", parsed.path.display());
        return Err(Error::NotFound(message).into());
    }
    let entry = write_solid(&parsed.dir, &name, language)?;
    let mut text =
        std::fs::read_to_string(&parsed.path).with_context(|| format!("reading {}", parsed.path.display()))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&entry);
    write(&parsed.path, &text)?;
    println!("Added the solid `{name}` to {}; wire it into a pipeline there.", parsed.path.display());
    Ok(ExitCode::SUCCESS)
}

/// Writes the solid's source under `dir/solids` and returns its `[solids.NAME]` entry.
fn write_solid(dir: &Path, name: &str, language: TemplateLanguage) -> anyhow::Result<String> {
    match language {
        TemplateLanguage::Built(language) => {
            let file = format!("solids/{name}.{}", language.extension());
            let path = dir.join(&file);
            if path.exists() {
                return Err(Error::NotFound(format!("{} exists", path.display())).into());
            }
            write(&path, &fill(template(language), &[("name", name)]))?;
            Ok(format!("[solids.{name}]\nsource = \"{file}\"\n"))
        }
        TemplateLanguage::Rust => {
            let sdk = guest_sdk()?;
            let crate_dir = dir.join("solids").join(name);
            if crate_dir.exists() {
                return Err(Error::NotFound(format!("{} exists", crate_dir.display())).into());
            }
            let crate_name = name.replace('_', "-");
            let sdk = sdk.display().to_string();
            write(&crate_dir.join("Cargo.toml"), &fill(RUST_CARGO, &[("crate", &crate_name), ("guest_sdk", &sdk)]))?;
            write(&crate_dir.join("src/lib.rs"), &fill(RUST_LIB, &[("name", name)]))?;
            Ok(format!(
                "[solids.{name}]\n\
                 wasm = \"solids/{name}/target/wasm32-wasip2/release/{name}.wasm\"\n\
                 build = {{ command = [\"cargo\", \"build\", \"--release\", \"--target\", \"wasm32-wasip2\", \
                 \"--manifest-path\", \"solids/{name}/Cargo.toml\"], sources = [\"solids/{name}/src\", \
                 \"solids/{name}/Cargo.toml\"] }}\n"
            ))
        }
    }
}

fn template(language: Language) -> &'static str {
    match language {
        Language::Python => include_str!("templates/python.py"),
        Language::JavaScript => include_str!("templates/javascript.js"),
        Language::C => include_str!("templates/c.c"),
        Language::Zig => include_str!("templates/zig.zig"),
        Language::Go => include_str!("templates/go.go"),
    }
}

/// weft's Rust guest SDK: `WEFT_GUEST_SDK`, else the checkout this binary was built from.
fn guest_sdk() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("WEFT_GUEST_SDK")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-sdk"));
    match std::fs::canonicalize(&path) {
        Ok(path) if path.join("Cargo.toml").is_file() => Ok(path),
        _ => Err(Error::NotFound(format!(
            "the Rust template needs weft's guest SDK (weft-guest), not found at {}: set WEFT_GUEST_SDK \
             to its directory (guest-sdk/ in a weft checkout)",
            path.display()
        ))
        .into()),
    }
}

/// A solid's name: it becomes a function name in every language, so a lowercase
/// identifier.
fn checked_name(name: &str) -> anyhow::Result<String> {
    let mut chars = name.chars();
    let valid = matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(name.to_owned())
    } else {
        let message =
            format!("`{name}` is not a solid name for a template: use a-z, 0-9 and `_`, starting with a letter");
        Err(Error::NotFound(message).into())
    }
}

/// `text` made a lowercase identifier: other characters become `_`.
fn identifier(text: &str) -> String {
    let mapped: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    let trimmed = mapped.trim_matches('_');
    match trimmed.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => trimmed.to_owned(),
        Some(_) => format!("p_{trimmed}"),
        None => String::new(),
    }
}

fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_owned(), |text, (key, value)| text.replace(&format!("{{{{{key}}}}}"), value))
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_names_become_pipeline_names() {
        assert_eq!(identifier("my-project"), "my_project");
        assert_eq!(identifier("2024 Sales"), "p_2024_sales");
        assert_eq!(identifier("--"), "");
    }

    /// No `{{key}}` is left once a template is filled (`{{` alone is Go's and Zig's).
    fn placeholders(text: &str) -> Vec<&str> {
        text.match_indices("{{")
            .filter_map(|(at, _)| {
                let rest = &text[at + 2..];
                let end = rest.find("}}")?;
                rest[..end].chars().all(|c| c.is_ascii_lowercase() || c == '_').then(|| &rest[..end])
            })
            .filter(|key| !key.is_empty())
            .collect()
    }

    #[test]
    fn templates_fill_every_placeholder() {
        for language in Language::all() {
            let raw = template(language);
            assert!(placeholders(raw).contains(&"name"), "{}: the solid is named by the user", language.name());
            assert_eq!(placeholders(&fill(raw, &[("name", "greet")])), Vec::<&str>::new(), "{}", language.name());
        }
        let filled = fill(MANIFEST, &[("project", "p"), ("name", "greet"), ("solid_entry", "")]);
        assert_eq!(placeholders(&filled), Vec::<&str>::new());
        let filled = fill(RUST_CARGO, &[("crate", "greet"), ("guest_sdk", "/sdk")]);
        assert_eq!(placeholders(&filled), Vec::<&str>::new());
        assert_eq!(placeholders(&fill(RUST_LIB, &[("name", "greet")])), Vec::<&str>::new());
    }
}
