//! The host registry on the wire: what an admin sends to add or change a host, and what they
//! see of its configuration. Private keys go in, never out.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
pub use wire::system::HostSource;

/// TLS material as PEM text (pasted, or read from files in the browser).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TlsInput {
    #[serde(default)]
    pub ca: String,
    #[serde(default)]
    pub cert: String,
    #[serde(default)]
    pub key: String,
}

impl std::fmt::Debug for TlsInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsInput")
            .field("ca", &self.ca.len())
            .field("cert", &self.cert.len())
            .finish_non_exhaustive()
    }
}

/// `POST /api/v1/hosts`: a host to add. With `dry_run` the connection is only tested.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostInput {
    pub slug: String,
    #[serde(default)]
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub tls: Option<TlsInput>,
    #[serde(default)]
    pub dry_run: bool,
}

/// `PATCH /api/v1/hosts/{host}`: absent fields stay; `"tls": null` turns TLS off; a `tls`
/// object replaces the parts that are given (an empty string keeps the stored part).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostPatchInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub tls: Option<Option<TlsInput>>,
}

/// A field that is present (even as `null`) becomes `Some(..)`; an absent one stays `None`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A host's configuration as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostSettingsView {
    pub slug: String,
    pub name: String,
    pub url: String,
    pub labels: BTreeMap<String, String>,
    pub source: HostSource,
    pub tls: Option<TlsPublicView>,
}

/// The public half of a host's TLS material; the key is never sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TlsPublicView {
    pub ca: Option<String>,
    pub cert: Option<String>,
    pub cert_fingerprint: Option<String>,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;

    use backend::hosts::{HostPatch, HostRecord, NewHost, TlsPem};

    impl From<TlsInput> for TlsPem {
        fn from(t: TlsInput) -> Self {
            TlsPem {
                ca: t.ca,
                cert: t.cert,
                key: t.key,
            }
        }
    }

    impl From<HostInput> for NewHost {
        fn from(h: HostInput) -> Self {
            NewHost {
                slug: h.slug.trim().to_string(),
                name: h.name,
                url: h.url,
                labels: h.labels,
                tls: h.tls.map(Into::into),
            }
        }
    }

    impl From<HostPatchInput> for HostPatch {
        fn from(p: HostPatchInput) -> Self {
            HostPatch {
                name: p.name,
                url: p.url,
                labels: p.labels,
                tls: p.tls.map(|t| t.map(Into::into)),
            }
        }
    }

    impl From<HostRecord> for HostSettingsView {
        fn from(r: HostRecord) -> Self {
            HostSettingsView {
                slug: r.slug,
                name: r.name,
                url: r.url,
                labels: r.labels,
                source: r.source,
                tls: r.tls.map(|t| TlsPublicView {
                    ca: t.ca,
                    cert: t.cert,
                    cert_fingerprint: t.cert_fingerprint,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_tells_absent_from_null() {
        let p: HostPatchInput = serde_json::from_str(r#"{"name":"x"}"#).expect("json");
        assert_eq!(p.tls, None);
        let p: HostPatchInput = serde_json::from_str(r#"{"tls":null}"#).expect("json");
        assert_eq!(p.tls, Some(None));
        let p: HostPatchInput = serde_json::from_str(r#"{"tls":{"ca":"A"}}"#).expect("json");
        assert_eq!(
            p.tls,
            Some(Some(TlsInput {
                ca: "A".into(),
                ..Default::default()
            }))
        );
    }
}
