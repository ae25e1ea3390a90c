//! Solids written in other languages, built by weft itself: `source = "solids/x.py"` in
//! the manifest, and weft runs the language's componentizer with the contract and the
//! language's SDK, both built into the `weft` binary, so a project needs nothing but its
//! source file and the toolchain (installed by `scripts/toolchains` into weft's cache).
//!
//! A component is rebuilt when it is missing, older than any file beside its source, or
//! built by another weft (its stamp names the digest of the contract and SDK it was built
//! with).

mod c;
mod componentize;
mod go;
mod javascript;
mod python;
mod zig;

use std::path::{Path, PathBuf};

/// A language weft builds solids in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// With componentize-py.
    Python,
    /// With componentize-js.
    JavaScript,
    /// With clang and wasi-libc, made a component inside weft.
    C,
    /// With zig, over the C bindings, made a component inside weft.
    Zig,
    /// With Go for `wasip1`, made a component inside weft.
    Go,
}

/// Each language: its name in a manifest, its source extension, and itself.
const LANGUAGES: &[(&str, &str, Language)] = &[
    ("python", "py", Language::Python),
    ("javascript", "js", Language::JavaScript),
    ("c", "c", Language::C),
    ("zig", "zig", Language::Zig),
    ("go", "go", Language::Go),
];

impl Language {
    /// The language called `name` in a manifest.
    ///
    /// # Errors
    /// A message naming the supported languages.
    pub fn from_name(name: &str) -> Result<Language, String> {
        LANGUAGES.iter().find(|(n, _, _)| *n == name).map(|(_, _, l)| *l).ok_or_else(|| {
            let names: Vec<String> = LANGUAGES.iter().map(|(n, _, _)| format!("`{n}`")).collect();
            format!("unknown language `{name}`; weft builds {}", names.join(", "))
        })
    }

    /// The language of a source file, by its extension.
    ///
    /// # Errors
    /// A message naming the extensions weft knows, and `language` to say it outright.
    pub fn from_path(path: &Path) -> Result<Language, String> {
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        LANGUAGES.iter().find(|(_, e, _)| *e == extension).map(|(_, _, l)| *l).ok_or_else(|| {
            format!(
                "cannot tell the language of {} from its extension; set `language` ({})",
                path.display(),
                LANGUAGES.iter().map(|(n, _, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            )
        })
    }

    pub fn name(self) -> &'static str {
        LANGUAGES.iter().find(|(_, _, l)| *l == self).map(|(n, _, _)| *n).expect("every language is listed")
    }

    /// The extension of its source files.
    pub fn extension(self) -> &'static str {
        LANGUAGES.iter().find(|(_, _, l)| *l == self).map(|(_, e, _)| *e).expect("every language is listed")
    }

    /// Every language weft builds.
    pub fn all() -> impl Iterator<Item = Language> {
        LANGUAGES.iter().map(|(_, _, l)| *l)
    }

    /// The SDK files weft writes beside a build, by name: what a component's stamp
    /// digests along with the contract.
    fn sdk(self) -> &'static [(&'static str, &'static [u8])] {
        match self {
            Language::Python => python::SDK,
            Language::JavaScript => javascript::SDK,
            Language::C => c::SDK,
            Language::Zig => zig::SDK,
            Language::Go => go::SDK,
        }
    }
}

/// A guest toolchain program: `env` names it outright, else it is `cached` under the
/// toolchain cache, where `scripts/toolchains <install>` puts it.
struct Tool {
    name: &'static str,
    /// The version `scripts/toolchains` installs (empty for Debian's).
    version: &'static str,
    env: &'static str,
    cached: &'static str,
    install: &'static str,
}

impl Tool {
    fn find(&self) -> Result<PathBuf, String> {
        if let Some(path) = std::env::var_os(self.env).filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(path));
        }
        let cached = toolchains_dir().join(self.cached);
        if cached.is_file() {
            return Ok(cached);
        }
        Err(format!(
            "{} {} is not installed (looked for {}): run `scripts/toolchains {}`, or set {}",
            self.name,
            self.version,
            cached.display(),
            self.install,
            self.env
        ))
    }
}

/// Writes `bytes` to `path`, creating its directory.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::create_dir_all(path.parent().expect("a file in a directory"))
        .and_then(|()| std::fs::write(path, bytes))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Writes a language's SDK files into `dir`.
fn write_sdk(language: Language, dir: &Path) -> Result<(), String> {
    language.sdk().iter().try_for_each(|(name, bytes)| write_file(&dir.join(name), bytes))
}

/// The module name of a source file: its stem, an identifier other than the names of the
/// files weft writes beside it (`weft`, `weft_entry`).
fn module_name(source: &Path) -> Result<String, String> {
    let module = source.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let reserved = ["weft", "weft_entry"];
    if module.is_empty() || reserved.contains(&module) || !module.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(format!(
            "{}: a solid's file name must be an identifier (letters, digits, `_`) other than `weft` and `weft_entry`",
            source.display()
        ));
    }
    Ok(module.to_owned())
}

/// The contract, as built into this binary.
pub(crate) const CONTRACT_WIT: &str = include_str!("../../../wit/solid.wit");

/// Where guest toolchains live: `WEFT_TOOLCHAINS`, else `$XDG_CACHE_HOME/weft/toolchains`,
/// else `~/.cache/weft/toolchains` (where `scripts/toolchains` installs them).
pub fn toolchains_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("WEFT_TOOLCHAINS")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("weft/toolchains")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/weft/toolchains")))
        .unwrap_or_else(|| PathBuf::from(".weft/toolchains"))
}

/// Builds `wasm` from `source` if it is missing or stale.
///
/// # Errors
/// A message saying what failed: a missing toolchain (and how to install it), or the
/// build's own errors.
pub(crate) fn build_if_stale(
    name: &str,
    source: &crate::manifest::SourceDecl,
    wasm: &Path,
    note: &(dyn Fn(&str) + Sync),
) -> Result<(), String> {
    if !source.path.is_file() {
        return Err(format!("{}: no such source file", source.path.display()));
    }
    let stamp = stamp_path(wasm);
    let wanted = stamp_text(source.language);
    let beside = source.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let current = std::fs::read_to_string(&stamp).is_ok_and(|found| found == wanted);
    if current && !crate::recipe::is_stale(wasm, std::slice::from_ref(&beside)) {
        return Ok(());
    }
    note(&format!("building {name} from {} ({})", source.path.display(), source.language.name()));
    // Absolute paths, since toolchains run in the work directory.
    let absolute = |path: &Path| std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()));
    let (source_file, work, out) = (absolute(&source.path)?, absolute(&wasm.with_extension("build"))?, absolute(wasm)?);
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    match source.language {
        Language::Python => python::build(name, &source_file, &work, &out)?,
        Language::JavaScript => javascript::build(&source_file, &work, &out)?,
        Language::C => c::build(&source_file, &work, &out)?,
        Language::Zig => zig::build(&source_file, &work, &out)?,
        Language::Go => go::build(&source_file, &work, &out)?,
    }
    std::fs::write(&stamp, wanted).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
}

fn stamp_path(wasm: &Path) -> PathBuf {
    wasm.with_extension("wasm.stamp")
}

/// What a component was built with: the language and the digest of the contract and SDK.
fn stamp_text(language: Language) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(CONTRACT_WIT.as_bytes());
    for (name, bytes) in language.sdk() {
        hasher.update(b"\0").update(name.as_bytes()).update(b"\0").update(bytes);
    }
    format!("{} {}\n", language.name(), hasher.finalize().to_hex())
}

/// Runs a toolchain command, failing with the end of its output.
fn run(command: &mut std::process::Command, what: &str) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("cannot run {what}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let tail: Vec<&str> = text.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
    Err(format!("{what} exited with {}:\n{}", output.status, tail.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_known_by_name_and_extension() {
        for language in Language::all() {
            assert_eq!(Language::from_name(language.name()), Ok(language));
            let path = PathBuf::from(format!("solids/parse.{}", language.extension()));
            assert_eq!(Language::from_path(&path), Ok(language));
        }
        assert!(Language::from_name("cobol").unwrap_err().contains("weft builds `python`, `javascript`"));
        assert!(Language::from_path(Path::new("x.txt")).unwrap_err().contains("set `language`"));
    }
}
