//! Faults the admin API injects into the server (as opposed to `SimFault`, which the
//! in-process port uses): latency on REST answers, what happens to the answer of a new order
//! the venue accepted, and the fate of the next user-data events.

use std::collections::VecDeque;

/// What the server does with the answer to a new order after the venue accepted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAccept {
    /// Answers HTTP `status` (default 503) with -1006 "An unexpected response was received
    /// from the message bus. Execution status unknown."
    ServerError { status: Option<u16> },
    /// Answers HTTP `status` (default 503) with -1007 "Timeout waiting for response from
    /// backend server. Send status unknown; execution status unknown."
    Timeout { status: Option<u16> },
    /// Holds the connection without answering for `hold_ms` (default 30000), then answers
    /// 503 -1007 (a client with a shorter timeout never sees it).
    Hold { hold_ms: Option<u64> },
}

/// Pending faults. All counts go down as they are used.
#[derive(Debug, Default)]
pub struct Faults {
    /// Added before every REST answer.
    pub latency_ms: u64,
    /// One entry per coming new order that reaches the venue.
    pub after_accept: VecDeque<AfterAccept>,
    /// Next user-data events to lose.
    pub drop_user_events: u32,
    /// Next user-data events to send twice.
    pub duplicate_user_events: u32,
    /// Next user-data events to hold back and send after the one following them.
    pub reorder_user_events: u32,
}

impl Faults {
    /// For the next user-data event: how many copies to send now, and whether to hold it
    /// back instead (reorder). Drop wins over duplicate, duplicate over reorder.
    pub fn user_event_fate(&mut self) -> (u32, bool) {
        if self.drop_user_events > 0 {
            self.drop_user_events -= 1;
            (0, false)
        } else if self.duplicate_user_events > 0 {
            self.duplicate_user_events -= 1;
            (2, false)
        } else if self.reorder_user_events > 0 {
            self.reorder_user_events -= 1;
            (1, true)
        } else {
            (1, false)
        }
    }
}
