//! Freezing one ground service (SIGSTOP to its process group) to play a
//! cloud that stops answering mid-request: requests already sent wait in
//! the kernel's buffers and are handled once it is resumed, late.

use crate::{GroundError, Result, ground_dir, io};

/// A service frozen until this is dropped (or [`Paused::resume`]d).
pub struct Paused {
    pgid: i32,
    resumed: bool,
}

fn signal(pgid: i32, sig: &str) -> Result<()> {
    let out =
        std::process::Command::new("kill").args(["-s", sig, "--", &format!("-{pgid}")]).output().map_err(io("kill"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(GroundError::Command {
            command: format!("kill -s {sig} -- -{pgid}"),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        })
    }
}

/// Freezes the ground daemon `name` (`nova-api`, `neutron-server`, ... as in
/// the ground's `run/<name>.pid`) with every process of its group.
pub fn pause(name: &str) -> Result<Paused> {
    let file = ground_dir().join("run").join(format!("{name}.pid"));
    let text = std::fs::read_to_string(&file).map_err(io(format!("reading {}", file.display())))?;
    let pgid: i32 = text
        .trim()
        .parse()
        .map_err(|_| GroundError::Command { command: format!("read {}", file.display()), stderr: text.clone() })?;
    signal(pgid, "STOP")?;
    Ok(Paused { pgid, resumed: false })
}

impl Paused {
    pub fn resume(mut self) -> Result<()> {
        self.resumed = true;
        signal(self.pgid, "CONT")
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        if !self.resumed {
            let _ = signal(self.pgid, "CONT");
        }
    }
}
