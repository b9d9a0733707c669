//! What a reconcile ends with, and how errors become what users see.

use terrane_api::ManagedObject;
use terrane_provider::{ProviderError, TerminalReason};

use super::Pass;
use super::env::{EnvError, Environment, Event, Next};
use super::status::{self, Verdict};

/// The result of one reconcile: what to do next, and the verdict shown to users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub next: Next,
    pub verdict: Verdict,
}

impl Outcome {
    /// In sync: check again after the resync period.
    pub fn resync(verdict: Verdict) -> Self {
        Self { next: Next::Resync, verdict }
    }

    /// Under way: call again soon.
    pub fn poll(verdict: Verdict) -> Self {
        Self { next: Next::Poll, verdict }
    }

    /// Waiting on another object: call again when it changes.
    pub fn await_change(verdict: Verdict) -> Self {
        Self { next: Next::AwaitChange, verdict }
    }

    /// A failure that may go away: retry with backoff.
    pub fn retry(verdict: Verdict) -> Self {
        Self { next: Next::Retry, verdict }
    }

    /// Needs a change from outside: try again only at the resync period.
    pub fn stalled(verdict: Verdict) -> Self {
        Self { next: Next::Stalled, verdict }
    }

    /// Deletion finished.
    pub fn deleted(message: impl Into<String>) -> Self {
        Self { next: Next::Deleted, verdict: Verdict::deleting(message) }
    }

    /// Appends `hint` to the message.
    pub fn with_hint(mut self, hint: &str) -> Self {
        self.verdict.message.push_str(hint);
        self
    }
}

/// A provider error met while doing `what`.
pub(super) fn from_provider(e: &ProviderError, what: &str) -> Outcome {
    let message = format!("{what}: {e}");
    match e {
        ProviderError::Waiting(_) => Outcome::poll(Verdict::waiting(format!("{message}; trying again"))),
        ProviderError::Conflict(_) => Outcome::retry(Verdict::blocked(format!("{message}; trying again"))),
        ProviderError::Terminal { reason: TerminalReason::InvalidConfiguration, .. } => {
            Outcome::stalled(Verdict::invalid(message))
        }
        ProviderError::Terminal { reason: TerminalReason::Unrecoverable, .. } => {
            Outcome::stalled(Verdict::unrecoverable(message))
        }
        ProviderError::Transient(_) | ProviderError::NotFound(_) | ProviderError::OutcomeUnknown(_) => {
            Outcome::retry(Verdict::transient(message))
        }
    }
}

/// An error of the driver's environment.
pub(super) fn from_env(e: &EnvError) -> Outcome {
    match e {
        EnvError::Store(m) => Outcome::retry(Verdict::transient(m.clone())),
        EnvError::Credentials(p) => from_provider(p, "credentials"),
        EnvError::Invalid(m) => Outcome::stalled(Verdict::invalid(m.clone())),
        EnvError::ProviderConfigMissing(_) => Outcome::await_change(Verdict::waiting(e.to_string())),
        // A new Secret is not watched until its ProviderConfig's controller labels it.
        EnvError::SecretMissing(_) => Outcome::poll(Verdict::waiting(e.to_string())),
    }
}

/// Writes `result` into the pass's status and stores it, unless nothing
/// changed (a poll that found the same); a failure whose message is new also
/// becomes a warning Event (repeats do not).
pub(super) async fn report<O, C, E>(p: Pass<'_, O, E>, result: Outcome, action: &'static str) -> Outcome
where
    O: ManagedObject,
    E: Environment<O, C>,
{
    let Pass { obj, env, mut status, stored } = p;
    status::apply(&mut status, &result.verdict, obj.meta().generation);
    let previous = obj.status().and_then(|s| s.condition(terrane_api::CONDITION_READY)).map(|c| c.message.as_str());
    if !result.verdict.synced && previous != Some(result.verdict.message.as_str()) {
        env.event(obj, Event::warning(result.verdict.reason, action, result.verdict.message.clone())).await;
    }
    if !stored && obj.status() == Some(&status) {
        return result;
    }
    match env.save_status(obj, &status).await {
        Ok(()) => result,
        Err(e) => from_env(&e),
    }
}
