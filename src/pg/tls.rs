//! TLS the way libpq does it, through rustls: `sslmode` disable, allow,
//! prefer, require, verify-ca and verify-full, with `sslrootcert`,
//! `sslcert` and `sslkey`, from the DSN or `PGSSL*` variables.
//!
//! As in libpq: `allow`, `prefer` and `require` encrypt without checking the
//! server's certificate, unless a root certificate is given (or
//! `~/.postgresql/root.crt` exists), when `require` checks it as
//! `verify-ca` does; `verify-ca` checks the chain; `verify-full` checks the
//! chain and that the certificate names the host connected to.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::env;
use crate::error::Error;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(value: &str) -> Result<Self, Error> {
        Ok(match value {
            "disable" => Self::Disable,
            "allow" => Self::Allow,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            // A word is quoted back; anything else may be a password in
            // the wrong place.
            other if other.len() <= 20 && other.chars().all(|c| c.is_ascii_lowercase() || c == '-') => {
                return Err(Error::BadDsn(format!(
                    "sslmode {other:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                )))
            }
            _ => {
                return Err(Error::BadDsn(
                    "sslmode is not one of disable, allow, prefer, require, verify-ca, verify-full"
                        .into(),
                ))
            }
        })
    }
}

/// The TLS options of a connection, resolved.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub mode: SslMode,
    pub root_cert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        Self {
            mode: SslMode::Prefer,
            root_cert: None,
            cert: None,
            key: None,
        }
    }
}

/// The files libpq looks for when none are named.
fn default_file(name: &str) -> Option<PathBuf> {
    let home = env::var_os(env::HOME)?;
    let path = Path::new(&home).join(".postgresql").join(name);
    path.is_file().then_some(path)
}

impl TlsSettings {
    /// What tokio-postgres is told: whether to insist on TLS.
    pub fn postgres_mode(&self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as Pg;
        match self.mode {
            SslMode::Disable => Pg::Disable,
            SslMode::Allow | SslMode::Prefer => Pg::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Pg::Require,
        }
    }

    /// The rustls configuration, or `None` when TLS is disabled.
    pub fn client_config(&self) -> Result<Option<ClientConfig>, Error> {
        if self.mode == SslMode::Disable {
            return Ok(None);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let root_cert = self.root_cert.clone().or_else(|| default_file("root.crt"));
        let mode = match (self.mode, &root_cert) {
            (SslMode::Require, Some(_)) => SslMode::VerifyCa,
            (mode, _) => mode,
        };
        let verifier: Arc<dyn ServerCertVerifier> = match mode {
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let path = root_cert.ok_or_else(|| {
                    Error::BadDsn(format!(
                        "sslmode {} needs a root certificate: set sslrootcert (or PGSSLROOTCERT), or put it in ~/.postgresql/root.crt",
                        if mode == SslMode::VerifyCa { "verify-ca" } else { "verify-full" }
                    ))
                })?;
                let roots = load_roots(&path)?;
                let webpki =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| {
                            Error::BadDsn(format!("sslrootcert {}: {e}", path.display()))
                        })?;
                if mode == SslMode::VerifyFull {
                    webpki
                } else {
                    Arc::new(ChainOnly { inner: webpki })
                }
            }
            _ => Arc::new(Unverified {
                provider: provider.clone(),
            }),
        };
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::BadDsn(format!("TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let cert = self.cert.clone().or_else(|| default_file("postgresql.crt"));
        let key = self.key.clone().or_else(|| default_file("postgresql.key"));
        let config = match (cert, key) {
            (Some(cert), Some(key)) => {
                let chain = CertificateDer::pem_file_iter(&cert)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| Error::BadDsn(format!("sslcert {}: {e}", cert.display())))?;
                let key_der = PrivateKeyDer::from_pem_file(&key)
                    .map_err(|e| Error::BadDsn(format!("sslkey {}: {e}", key.display())))?;
                builder
                    .with_client_auth_cert(chain, key_der)
                    .map_err(|e| Error::BadDsn(format!("sslcert/sslkey: {e}")))?
            }
            (Some(_), None) | (None, Some(_)) if self.cert.is_some() || self.key.is_some() => {
                return Err(Error::BadDsn("sslcert and sslkey go together".into()))
            }
            _ => builder.with_no_client_auth(),
        };
        Ok(Some(config))
    }
}

fn load_roots(path: &Path) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Error::BadDsn(format!("sslrootcert {}: {e}", path.display())))?;
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(Error::BadDsn(format!(
            "sslrootcert {}: no certificate in it",
            path.display()
        )));
    }
    Ok(roots)
}

/// `allow`, `prefer`, `require` without a root certificate: encrypt, and
/// check the handshake's signatures, but not who signed the certificate.
#[derive(Debug)]
struct Unverified {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to the root certificate; the host name
/// is not compared.
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
