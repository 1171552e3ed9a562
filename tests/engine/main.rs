//! Engine integration tests: the real HTTP server on 127.0.0.1:0, the supervised actors and
//! the simulated exchange, with a manual clock. One test binary, one module per area.

mod support;

mod bad_input;
mod breaker;
mod emergency;
mod emergency_load;
mod exits;
mod journal;
mod order_lists;
mod order_types;
mod pipeline;
mod reconcile;
mod redis_bus;
mod risk;
mod safety;
mod shutdown;
mod supervision;
