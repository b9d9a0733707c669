//! Certificates and keys of one apiserver, made with the `openssl` command.

use std::path::Path;
use std::process::Command;

use crate::{GroundError, Result};

fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("openssl").args(args).current_dir(dir).output().map_err(crate::io("running openssl"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(GroundError::Command {
            command: format!("openssl {}", args.join(" ")),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// Writes `ca.crt`/`ca.key`, a serving pair `server.crt`/`server.key` for
/// 127.0.0.1 and localhost (rustls needs the IP SAN), and the service-account
/// key pair `sa.key`/`sa.pub` into `dir`, unless they are there already.
pub fn ensure(dir: &Path) -> Result<()> {
    if dir.join("sa.pub").exists() {
        return Ok(());
    }
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "3650",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=terrane-ground-ca",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        ],
    )?;
    serving_cert(dir, &[])?;
    openssl(dir, &["genrsa", "-out", "sa.key", "2048"])?;
    openssl(dir, &["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"])?;
    Ok(())
}

/// Writes a serving pair `server.crt`/`server.key` signed by the `ca.crt` /
/// `ca.key` already in `dir`, for 127.0.0.1, localhost and `sans` (as
/// kubeadm makes the apiserver's certificate from the cluster CA).
pub fn serving_cert(dir: &Path, sans: &[String]) -> Result<()> {
    let mut names = vec!["IP:127.0.0.1".to_string(), "DNS:localhost".into(), "DNS:kubernetes.default.svc".into()];
    for s in sans {
        let entry = if s.parse::<std::net::IpAddr>().is_ok() { format!("IP:{s}") } else { format!("DNS:{s}") };
        if !names.contains(&entry) {
            names.push(entry);
        }
    }
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=kube-apiserver",
        ],
    )?;
    let ext = format!(
        "subjectAltName={}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        names.join(",")
    );
    // The shared ground's certificate lives in the cache for as long as the ground does.
    sign(dir, "server.csr", "server.crt", &ext, "3650")
}

/// Signs the CSR file `csr` in `dir` with its `ca.crt`/`ca.key` and the
/// extensions `ext`, into `out`.
fn sign(dir: &Path, csr: &str, out: &str, ext: &str, days: &str) -> Result<()> {
    let ext_file = format!("{out}.ext");
    std::fs::write(dir.join(&ext_file), ext).map_err(crate::io(format!("writing {ext_file}")))?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            days,
            "-out",
            out,
            "-extfile",
            &ext_file,
        ],
    )
}

/// Signs the CSR `csr_pem` with the `ca.crt`/`ca.key` in `dir` as a client
/// certificate (what kube-controller-manager's signer does for kubelets).
pub fn sign_client_csr(dir: &Path, csr_pem: &str, name: &str) -> Result<String> {
    let csr = format!("{name}.csr");
    std::fs::write(dir.join(&csr), csr_pem).map_err(crate::io("writing a CSR"))?;
    let crt = format!("{name}.crt");
    let ext = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";
    sign(dir, &csr, &crt, ext, "1")?;
    std::fs::read_to_string(dir.join(crt)).map_err(crate::io("reading a signed certificate"))
}

/// A new EC key and CSR for `subject` (`/O=system:nodes/CN=system:node:x`): `(key PEM, CSR PEM)`.
pub fn key_and_csr(dir: &Path, name: &str, subject: &str) -> Result<(String, String)> {
    let (key, csr) = (format!("{name}.key"), format!("{name}.req"));
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            subject,
        ],
    )?;
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).map_err(crate::io("reading a key or CSR"));
    Ok((read(&key)?, read(&csr)?))
}
