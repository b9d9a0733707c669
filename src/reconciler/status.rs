//! Building status conditions (pure).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use terrane_api::{CONDITION_READY, CONDITION_SYNCED, ResourceStatus, reason};

/// The state of one reconcile, as users see it in `Ready` and `Synced`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub ready: bool,
    /// Whether the last reconcile did what it had to (no error).
    pub synced: bool,
    pub reason: &'static str,
    pub message: String,
}

impl Verdict {
    fn new(ready: bool, synced: bool, reason: &'static str, message: impl Into<String>) -> Self {
        Self { ready, synced, reason, message: message.into() }
    }

    /// The cloud object matches the spec.
    pub fn ready(message: impl Into<String>) -> Self {
        Self::new(true, true, reason::SUCCESS, message)
    }

    /// Work under way (the cloud is building, a create is being confirmed).
    pub fn progressing(message: impl Into<String>) -> Self {
        Self::new(false, true, reason::PROGRESSING, message)
    }

    /// Waiting on something to exist or become Ready: not an error.
    pub fn waiting(message: impl Into<String>) -> Self {
        Self::new(false, true, reason::WAITING, message)
    }

    /// The cloud refused for now because of another object's state.
    pub fn blocked(message: impl Into<String>) -> Self {
        Self::new(false, false, reason::WAITING, message)
    }

    /// A failure that may go away by itself.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(false, false, reason::TRANSIENT_ERROR, message)
    }

    /// The spec asks for something impossible: a user must change it.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(false, false, reason::INVALID_CONFIGURATION, message)
    }

    /// The cloud object is broken or gone in a way Terrane cannot repair.
    pub fn unrecoverable(message: impl Into<String>) -> Self {
        Self::new(false, false, reason::UNRECOVERABLE, message)
    }

    /// Deletion under way or done.
    pub fn deleting(message: impl Into<String>) -> Self {
        Self::new(false, true, reason::DELETING, message)
    }
}

/// Sets condition `type_` in `conditions`; its transition time moves only when its status flips.
pub fn set(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: bool,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    let status = if status { "True" } else { "False" };
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(c) => {
            if c.status != status {
                c.last_transition_time = now;
            }
            c.status = status.into();
            c.reason = reason.into();
            c.message = message.into();
            c.observed_generation = generation;
        }
        None => conditions.push(Condition {
            type_: type_.into(),
            status: status.into(),
            reason: reason.into(),
            message: message.into(),
            observed_generation: generation,
            last_transition_time: now,
        }),
    }
}

/// Writes `verdict` into `status`: `Ready` and `Synced` conditions and
/// `observedGeneration`. A transition time changes only when the status flips.
pub fn apply(status: &mut ResourceStatus, verdict: &Verdict, generation: Option<i64>) {
    let synced_reason = if verdict.synced { terrane_api::reason::SUCCESS } else { verdict.reason };
    let synced_message = if verdict.synced { "" } else { verdict.message.as_str() };
    set(&mut status.conditions, CONDITION_READY, verdict.ready, verdict.reason, &verdict.message, generation);
    set(&mut status.conditions, CONDITION_SYNCED, verdict.synced, synced_reason, synced_message, generation);
    status.observed_generation = generation;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_moves_only_on_flip() {
        let mut s = ResourceStatus::default();
        apply(&mut s, &Verdict::progressing("creating"), Some(1));
        let first = s.condition("Ready").map(|c| c.last_transition_time.clone());
        apply(&mut s, &Verdict::transient("503"), Some(1));
        assert_eq!(s.condition("Ready").map(|c| c.last_transition_time.clone()), first);
        assert_eq!(s.condition("Ready").map(|c| c.reason.as_str()), Some("TransientError"));
        assert_eq!(s.condition("Synced").map(|c| c.status.as_str()), Some("False"));
        apply(&mut s, &Verdict::ready("in sync"), Some(2));
        assert!(s.is_ready());
        assert_eq!(s.condition("Synced").map(|c| (c.status.as_str(), c.reason.as_str())), Some(("True", "Success")));
        assert_eq!(s.observed_generation, Some(2));
        assert_eq!(s.conditions.len(), 2);
    }
}
