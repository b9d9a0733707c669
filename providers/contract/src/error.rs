//! The one error type every provider returns, sorted by what the reconciler
//! should do next.

/// Why a terminal error will not go away by retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerminalReason {
    /// The spec asks for something impossible: a user must change it.
    InvalidConfiguration,
    /// The cloud object is in a state Terrane cannot repair (e.g. ERROR).
    Unrecoverable,
}

impl TerminalReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidConfiguration => "InvalidConfiguration",
            Self::Unrecoverable => "Unrecoverable",
        }
    }
}

/// An error of a provider call. Messages are for people: they name the field
/// or the cloud object, and never contain a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Worth retrying with backoff: timeouts, 5xx, 429, a cloud object still busy.
    #[error("{0}")]
    Transient(String),
    /// Not worth retrying until the spec (or the cloud) changes.
    #[error("{message}")]
    Terminal { reason: TerminalReason, message: String },
    /// The cloud object does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The cloud refused because of another object's state (in use by
    /// something else): retried with backoff, shown as `Waiting`.
    #[error("{0}")]
    Conflict(String),
    /// A request that creates something got no answer (timeout, connection
    /// lost after it was sent, a 5xx): it may still take effect. The
    /// reconciler keeps `pendingCreate` and does not create again until the
    /// ownership marker has stayed absent for longer than the request timeout
    /// plus a margin.
    #[error("{0}")]
    OutcomeUnknown(String),
    /// The cloud refused because a prerequisite is not there yet (a network
    /// without a subnet, a subnet not yet routable): progress, retried with
    /// backoff, shown as `Waiting`.
    #[error("{0}")]
    Waiting(String),
}

impl ProviderError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Terminal { reason: TerminalReason::InvalidConfiguration, message: message.into() }
    }

    /// A prerequisite the cloud needs first, described for people.
    pub fn waiting(message: impl Into<String>) -> Self {
        Self::Waiting(message.into())
    }

    pub fn unrecoverable(message: impl Into<String>) -> Self {
        Self::Terminal { reason: TerminalReason::Unrecoverable, message: message.into() }
    }

    /// The category's name, used as condition reason and Event reason.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Transient(_) | Self::OutcomeUnknown(_) => "TransientError",
            Self::Waiting(_) => "Waiting",
            Self::Terminal { reason, .. } => reason.as_str(),
            Self::NotFound(_) => "NotFound",
            Self::Conflict(_) => "Conflict",
        }
    }

    /// True when retrying later may succeed without a spec change.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::Terminal { .. })
    }
}

pub type ProviderResult<T> = Result<T, ProviderError>;
