//! Failures a test injects into the simulated exchange: refused, lost and unanswered submits,
//! and dropped push events.

/// A failure to inject into the next submits. Injections add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimFault {
    /// The next N submits return `ExchangeError::Connectivity` and change nothing.
    FailSubmits(u32),
    /// The next N submits are executed normally (events included) but answer
    /// `ExchangeError::UnknownOutcome`.
    UnknownAfterAccept(u32),
    /// The next N pushed order reports are lost (the push connection stays up), as a venue
    /// whose user-data stream silently drops events.
    DropOrderEvents(u32),
    /// The next N submits are lost on the way: the venue never sees them, but the caller gets
    /// `ExchangeError::UnknownOutcome` (a timeout), as when a request dies in transit.
    LoseSubmits(u32),
}

/// Pending injected faults. `FailSubmits` is consumed first.
#[derive(Debug, Default)]
pub(super) struct Faults {
    /// Submits still to refuse with `Connectivity`.
    pub(super) fail_submits: u32,
    /// Submits still to answer with `UnknownOutcome` after executing them.
    pub(super) unknown_after_accept: u32,
    /// Submits still to drop before the venue sees them, answering `UnknownOutcome`.
    pub(super) lose_submits: u32,
}
