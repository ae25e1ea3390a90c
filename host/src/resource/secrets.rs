//! The secrets interface, and the mask that keeps secret values out of the event log:
//! every value of a secret granted to a step is replaced by `***` in the step's log
//! messages, compute logs and failure messages before they are recorded. Outputs are
//! data and are stored as the solid produced them.

use super::{Backend, CallError, ResourceGrant};

/// The value of secret `name` of `backend`.
pub(crate) fn get(backend: &Backend, resource: &str, name: &str) -> Result<String, CallError> {
    let Backend::Env { values } = backend else { unreachable!("the grant's kind was checked") };
    match values.iter().find(|(n, _)| n == name) {
        Some((_, value)) => Ok(value.0.clone()),
        None => {
            let names: Vec<&str> = values.iter().map(|(n, _)| n.as_str()).collect();
            Err(CallError::Invalid(format!(
                "resource `{resource}` has no secret `{name}` (it has: {})",
                if names.is_empty() { "none".to_owned() } else { names.join(", ") }
            )))
        }
    }
}

/// Masks the secret values granted to one step.
#[derive(Debug, Clone, Default)]
pub(crate) struct Mask {
    /// Longest first, so that a secret containing another is masked whole.
    values: Vec<String>,
}

const MASKED: &str = "***";

impl Mask {
    pub(crate) fn for_grants(grants: &[ResourceGrant]) -> Mask {
        let mut values: Vec<String> = grants
            .iter()
            .filter_map(|g| match &g.backend {
                Backend::Env { values } => Some(values.iter().map(|(_, v)| v.0.clone())),
                _ => None,
            })
            .flatten()
            .filter(|v| !v.is_empty())
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Mask { values }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub(crate) fn text(&self, text: String) -> String {
        self.values.iter().fold(text, |text, secret| text.replace(secret.as_str(), MASKED))
    }

    pub(crate) fn bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        self.values.iter().fold(bytes, |bytes, secret| replace_bytes(&bytes, secret.as_bytes(), MASKED.as_bytes()))
    }
}

fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Secret;

    #[test]
    fn every_granted_secret_is_masked_longest_first() {
        let grants = vec![ResourceGrant {
            name: "vault".into(),
            backend: Backend::Env {
                values: vec![("A".into(), Secret("s3cr3t".into())), ("B".into(), Secret("s3cr3t-long".into()))],
            },
        }];
        let mask = Mask::for_grants(&grants);
        assert_eq!(mask.text("token s3cr3t-long and s3cr3t".into()), "token *** and ***");
        assert_eq!(mask.bytes(b"x=s3cr3t\n".to_vec()), b"x=***\n");
        assert_eq!(get(&grants[0].backend, "vault", "A"), Ok("s3cr3t".into()));
        assert!(matches!(get(&grants[0].backend, "vault", "C"), Err(CallError::Invalid(m)) if m.contains("has: A, B")));
    }
}
