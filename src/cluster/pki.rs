//! A cluster's certificate authorities and keys, made the way kubeadm
//! expects them (ECDSA P-256, PEM): the cluster CA, the etcd CA, the
//! front-proxy CA, the service-account key pair, and short-lived admin
//! client certificates signed by the cluster CA.

use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::OffsetDateTime;

/// What making or reading a certificate can fail on. None of them carries
/// key material.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("generating {what}: {source}")]
    Generate { what: &'static str, source: rcgen::Error },
    #[error("{what} is not a PEM certificate and key this cluster can sign with: {source}")]
    Unreadable { what: String, source: rcgen::Error },
}

/// A certificate and its private key, PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct CertAndKey {
    pub cert: String,
    pub key: String,
}

impl std::fmt::Debug for CertAndKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertAndKey").field("cert", &self.cert).field("key", &"<redacted>").finish()
    }
}

/// How long the CAs are valid.
pub const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A self-signed CA named `common_name`, valid for [`CA_VALIDITY`].
pub fn new_ca(common_name: &str) -> Result<CertAndKey, PkiError> {
    let what = "a certificate authority";
    let key = KeyPair::generate().map_err(|source| PkiError::Generate { what, source })?;
    let mut params = CertificateParams::default();
    params.distinguished_name = name(common_name, &[]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + CA_VALIDITY;
    let cert = params.self_signed(&key).map_err(|source| PkiError::Generate { what, source })?;
    Ok(CertAndKey { cert: cert.pem(), key: key.serialize_pem() })
}

/// The service-account signing key pair: `(public PEM, private PEM)`.
pub fn service_account_keys() -> Result<(String, String), PkiError> {
    let key = KeyPair::generate().map_err(|source| PkiError::Generate { what: "the service-account key", source })?;
    Ok((key.public_key_pem(), key.serialize_pem()))
}

/// A client certificate for `common_name` in `organizations`, signed by
/// `ca`, valid from now for `validity`. Returns it with its expiry.
pub fn client_certificate(
    ca: &CertAndKey,
    common_name: &str,
    organizations: &[&str],
    validity: Duration,
) -> Result<(CertAndKey, OffsetDateTime), PkiError> {
    let ca_key = KeyPair::from_pem(&ca.key)
        .map_err(|source| PkiError::Unreadable { what: "the cluster CA key".into(), source })?;
    let issuer = Issuer::from_ca_cert_pem(&ca.cert, ca_key)
        .map_err(|source| PkiError::Unreadable { what: "the cluster CA certificate".into(), source })?;
    let what = "a client certificate";
    let key = KeyPair::generate().map_err(|source| PkiError::Generate { what, source })?;
    let mut params = CertificateParams::default();
    params.distinguished_name = name(common_name, organizations);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + validity;
    let cert = params.signed_by(&key, &issuer).map_err(|source| PkiError::Generate { what, source })?;
    Ok((CertAndKey { cert: cert.pem(), key: key.serialize_pem() }, params.not_after))
}

fn name(common_name: &str, organizations: &[&str]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for o in organizations {
        dn.push(DnType::OrganizationName, *o);
    }
    dn.push(DnType::CommonName, common_name);
    dn
}

/// A bootstrap token in kubeadm's form `[a-z0-9]{6}.[a-z0-9]{16}`.
pub fn bootstrap_token() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let mut part =
        |n: usize| -> String { (0..n).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect() };
    let id = part(6);
    format!("{id}.{}", part(16))
}

/// kubeadm's `--discovery-token-ca-cert-hash`: `sha256:` and the SHA-256 of
/// the CA certificate's SubjectPublicKeyInfo, hex.
pub fn ca_cert_hash(ca_cert_pem: &str) -> Option<String> {
    use sha2::Digest;
    let der = pem_der(ca_cert_pem)?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
    let spki = cert.tbs_certificate.subject_pki.raw;
    Some(format!("sha256:{}", sha2::Sha256::digest(spki).iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

fn pem_der(pem_text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let body: String = pem_text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_certificate_chains_to_its_ca_and_carries_the_group() {
        let ca = new_ca("kubernetes").unwrap();
        let (client, not_after) =
            client_certificate(&ca, "terrane-admin", &["system:masters"], Duration::from_secs(3600)).unwrap();
        let der = pem_der(&client.cert).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let ca_der = pem_der(&ca.cert).unwrap();
        let (_, ca_cert) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
        assert_eq!(cert.issuer(), ca_cert.subject());
        cert.verify_signature(Some(ca_cert.public_key())).expect("signed by the CA");
        let subject = cert.subject().to_string();
        assert!(subject.contains("O=system:masters") && subject.contains("CN=terrane-admin"), "{subject}");
        let left = not_after - OffsetDateTime::now_utc();
        assert!(left > time::Duration::minutes(59) && left <= time::Duration::minutes(60), "{left}");
    }

    #[test]
    fn a_ca_is_a_ca_and_its_key_is_not_in_debug_output() {
        let ca = new_ca("etcd-ca").unwrap();
        let der = pem_der(&ca.cert).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert!(cert.is_ca());
        assert!(!format!("{ca:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn bootstrap_tokens_have_kubeadms_shape() {
        let t = bootstrap_token();
        let (id, secret) = t.split_once('.').unwrap();
        assert_eq!((id.len(), secret.len()), (6, 16));
        assert!(t.chars().all(|c| c == '.' || c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_ne!(t, bootstrap_token());
    }

    #[test]
    fn the_ca_hash_is_of_the_public_key() {
        let ca = new_ca("kubernetes").unwrap();
        let h = ca_cert_hash(&ca.cert).unwrap();
        assert!(h.starts_with("sha256:") && h.len() == 7 + 64, "{h}");
        assert_eq!(ca_cert_hash(&ca.cert), Some(h));
    }
}
