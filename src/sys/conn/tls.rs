//! TLS for SSL_GET (and any checker that asks for it): the connectors, built once (with
//! and without SNI) and shared by every connection. As keepalived's checkers, they check
//! liveness, not identity: certificates and host names are not verified, and no trust
//! store is loaded.

use crate::event::ConnError;
use native_tls::TlsConnector;
use std::io;

/// The two connectors (SNI sent or not), built when first needed.
#[derive(Default)]
pub(super) struct TlsConnectors {
    with_sni: Option<TlsConnector>,
    without_sni: Option<TlsConnector>,
}

fn build(sni: bool) -> Result<TlsConnector, ConnError> {
    TlsConnector::builder()
        .danger_accept_invalid_certs(true)
        .danger_accept_invalid_hostnames(true)
        .disable_built_in_roots(true)
        .use_sni(sni)
        .build()
        .map_err(|e| ConnError::Tls(format!("cannot set up TLS: {e}")))
}

impl TlsConnectors {
    /// The connector that sends SNI (`sni`) or not.
    pub fn get(&mut self, sni: bool) -> Result<&TlsConnector, ConnError> {
        let slot = if sni {
            &mut self.with_sni
        } else {
            &mut self.without_sni
        };
        if slot.is_none() {
            *slot = Some(build(sni)?);
        }
        slot.as_ref()
            .ok_or_else(|| ConnError::Tls("no TLS connector".into()))
    }
}

/// Whether a TLS read error is a peer that closed the TCP connection without a TLS
/// close_notify (OpenSSL 3: "unexpected eof while reading"): for a checker that is the
/// end of the response, as it is for keepalived.
pub(super) fn is_unexpected_eof(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::UnexpectedEof
        || e.to_string()
            .to_ascii_lowercase()
            .contains("unexpected eof")
}
