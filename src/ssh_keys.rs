//! SSH key pairs Terrane generates for a KeyPair whose spec asks for one
//! (kept in a Secret by the controller, in the state file without a cluster).

/// The keys of a `kubernetes.io/ssh-auth` Secret Terrane writes.
pub const PRIVATE_KEY: &str = "ssh-privatekey";
pub const PUBLIC_KEY: &str = "ssh-publickey";

/// A new Ed25519 key pair in OpenSSH form: `(private, public)`.
pub fn generate() -> Result<(String, String), String> {
    use ssh_key::{Algorithm, LineEnding, PrivateKey};
    let key = PrivateKey::random(&mut ssh_key::rand_core::OsRng, Algorithm::Ed25519)
        .map_err(|e| format!("generating an SSH key: {e}"))?;
    let private = key.to_openssh(LineEnding::LF).map_err(|e| format!("encoding an SSH key: {e}"))?;
    let public = key.public_key().to_openssh().map_err(|e| format!("encoding an SSH key: {e}"))?;
    Ok((private.to_string(), public))
}
